// Incremental plan: the previous build's layers, compacted where that pays, plus the day's changes on top.
//
// A stable plan (plan.ts) rebuilds every layer a change touches, and with at most ~100 layers a day's
// scattered changes touch many. So a changed tree gets a patch layer at the top of the server image's stack:
// the files added or modified since the previous build and OCI whiteouts (`.wh.<name>`) for the ones removed;
// a changed file big for its tree gets a layer of its own instead. Old copies of changed files stay behind in
// lower layers as dead bytes; compaction (docs/compaction.md) removes them at a cost proportional to what it
// removes — a layer rewritten in place to its live files costs its live bytes, and makes nodes unpack the
// layers above it again (containerd keys unpacked layers by the chain below them) — never by re-planning a
// whole tree for a small change. A changed tree's newest patch folds into its new top when that is cheap (the
// app's daily config edits keep one patch); ahead of the layer limit, runs of one tree's adjacent patches of similar
// size merge within what the day carries, near the top first (levelled, as LSM tiers; with a chunked tree, never making
// nodes unpack again more than the day's changed files beyond what the day re-chains anyway); past it, the adjacent patches
// with the fewest live bytes per layer removed are merged. The dead-byte limit is on the compressed image (kept layers at their
// recorded compressed sizes), and each tree image's the same way on its tree's content (a pod pulls one image per
// tree); ahead of a limit a day compacts deep layers within 0.6 of its own changed files' bytes, so the forced
// compaction does not land on a small day, and a forced one takes first what fits in that budget. Budgets are counted
// compressed, as what compaction sends. In an image with a chunked tree a forced compaction (past the dead-byte
// limit) also rewrites the layers above it that are a quarter dead: nodes unpack them again anyway. A chunked tree planned afresh keeps its
// chunks in layers of their own at the bottom of the stack, below the small files whose old copies compaction
// removes. The new top of a tree is always the difference between what its kept layers unpack to and the
// tree's manifest, so whatever compaction kept, the image unpacks to exactly the sources. A tree is re-planned
// from scratch (rebased) only when a path changes type (a whiteout and a new entry of the same name in one
// layer is not portable), when the change holds half the tree's bytes, or when nothing usable was recorded.
// Without a previous build the plan is the stable one.
import { diffEntries, diffEntriesOf, sameEntry, type TreeDiff } from '../diff/diff.js';
import { GamelayerError } from '../errors.js';
import { EMPTY_XXH64 } from '../scan/hash.js';
import { compareBytewise, entriesDigest } from '../scan/manifest.js';
import { eachEntry, entrySourceOf, hasFileOf, isPendingHash, nonFolderTotalsOf, packedStoreOf, totalsOf } from '../entries/packed-list.js';
import { CHUNKS_DIR, recipeFileOf } from '../chunk/recipe.js';
import { TREE_NAMES, type BuildRecord, type FileEntry, type PlannedLayer, type TreeManifest, type TreeName } from '../types.js';
import { layerInputKey, planLayers, type PlanOptions } from './plan.js';
import type { MountParents } from './mount-parents.js';
import { packedPatchEntries } from './packed-patch.js';
import { layersInPathOrder, unpackedEntries, unpackedStack } from './unpacked-stack.js';
import { isWhiteout, WHITEOUT_PREFIX, whiteoutTarget } from '../util/whiteout.js';

export { isWhiteout } from '../util/whiteout.js';

/** xxh64 of zero bytes: the content of a whiteout file (defined in the scan stage, below this one). */
export { EMPTY_XXH64 } from '../scan/hash.js';

/**
 * Bottom-to-top order of trees planned afresh in one build, for the server image, by how often a tree's lower
 * layers are replaced (a node re-unpacks everything above a replaced layer): engine media hardly ever, the
 * engine at an upgrade, app media when compaction rewrites one of its layers, the app (binaries, configs) most.
 */
export const SERVER_STACK_ORDER: readonly TreeName[] = ['engine-media', 'engine', 'app-media', 'app'];

export interface IncrementalOptions extends PlanOptions {
  /**
   * Called before steps 2, 3 and 4: each walks a changed tree's entries (read from a packed list, an object each) and
   * leaves tens of MiB of old garbage at 1M entries, which V8 lets the next step allocate on top of. A build of a
   * large game collects it there (collectOldGarbage); the plan is the same either way.
   */
  betweenSteps?: () => void;
  /** Patch layers one tree may carry before its cheapest adjacent pair is merged; default maxPatchLayers. */
  maxPatches?: number;
  /** Patch layers the image may carry (every tree); default 60 layers in all, at least 16 patches. */
  maxPatchLayers?: number;
  /**
   * The compressed image may be at most 1 + this share of the game's content bytes; default 0.15 (issue 16's "image
   * size ≤ 1.15× its content"). Dead bytes (old copies of changed or removed files) may fill what the live layers
   * leave of it: about 15 % of the content for an incompressible game, more for a compressible one.
   */
  maxDeadShare?: number;
  /**
   * Each tree image (a pod pulls one per tree) may be at most 1 + this share of its tree's content, counted as the
   * server image is; default maxDeadShare (issue 20: a fresh node pulls at most 1.15× the tree's content).
   */
  maxTreeDeadShare?: number;
  /**
   * Every dead bytes' allowance (the server image's, each tree image's, the unpacked one) is at least this many bytes
   * (compressed); default MIN_DEAD_SHARE_OF_TARGET of targetSize (32 MiB at the default 512 MiB). On a small game one file is a large share of a tree that is one
   * layer: 15 % of it is one renamed file, and compacting it rewrote the whole tree (docs/compaction.md, "Thirteenth
   * round"). 0 restores the relative allowance alone.
   */
  minDeadBytes?: number;
  /** Share of that allowance from which builds compact a little each (within their own new bytes), times maxDeadShare; default 2/3 of maxDeadShare. */
  compactDeadShare?: number;
  /** Uncompressed dead bytes may be at most this share of the content (a node's disk, for very compressible games); default 1. */
  maxUnpackedDeadShare?: number;
  /** Share of the dead bytes' allowance from which a build compacts deep layers within 0.6 of its changed files' bytes (compressed); default 0.9. */
  earlyCompactFrom?: number;
  /** A change holding at least this share of its tree's bytes re-plans the tree afresh; default 0.5. */
  rebaseShare?: number;
  /** Order of the trees planned afresh in one build, bottom first; default TREE_NAMES. */
  freshOrder?: readonly TreeName[];
}

export interface PreviousTree {
  manifest: TreeManifest;
  /** The tree's layers in the previous build, bottom first (patches above the layers they change). */
  layers: PlannedLayer[];
  /** Each layer's position in the previous server image's stack; default: trees one after another. */
  positions?: number[];
  /** Why the recorded layers cannot be reused (gone or damaged): the tree is planned afresh in their place. */
  unavailable?: string;
  /** Each layer's compressed size as built (the record's blob sizes); a layer without one counts as its content. */
  packed?: (number | undefined)[];
}

export type TreeDecision = 'unchanged' | 'patched' | 'compacted' | 'rebased' | 'fresh';

export interface IncrementalPlan {
  /** Every tree's layers in the order of the server image's stack (each tree's own layers in its order). */
  layers: PlannedLayer[];
  decisions: Record<TreeName, { decision: TreeDecision; reason?: string }>;
}

/**
 * Weight of re-unpacked bytes when choosing patches to merge at the layer limit: a tie-break only. Any weight that
 * matters makes the newest patches (nothing above them) the cheapest pair every day, and that pile grows without
 * end (90 simulated days: 15× on one update at 0.25); by live bytes, mostly dead old patches go first.
 */
const MERGE_UNPACK_WEIGHT = 0.01;
/**
 * A changed tree's newest multi-file patch is folded into its new top when that costs (its live bytes pushed again,
 * and the layers above it unpacked again) at most this share of the day's new bytes: a tree changed every day by
 * small edits (the app's configs) then keeps one small patch on top instead of a layer a day.
 */
const FOLD_SHARE = 0.25;
/**
 * The same for a chunked tree. Its new bytes are the bytes written (new chunks, not whole files), so a quarter of them
 * spent on re-sending yesterday's patch was most of issue 20's headroom (sent ≤ 1.3× the bytes written): app media's
 * folds cost 1–4 % of the month (docs/compaction.md, "Seventh round"). The app's config patch (kilobytes) still folds.
 */
const CHUNKED_FOLD_SHARE = 0.05;
/**
 * From this many layers below the limit, runs of patches are merged ahead of it (levelled: see LEVEL_RATIO) within
 * EARLY_MERGE_SHARE of the day's changed files or new bytes, whichever is more, compressed and less what compaction
 * spent: the merges fall on the days that carry them (a pak rewritten in part carries several), so the image stays
 * under the limit and no merge lands on a small day (90 days: the worst update 4.3–4.4× → 1.8×; docs/compaction.md,
 * "Eighth round"). 0.8, not 1: a day's new layers are estimated at their tree's ratio, and text assets compress better.
 */
const EARLY_MERGE_ROOM = 10;
const EARLY_MERGE_SHARE = 0.8;
/**
 * Levelled early merges: a run merges only when its patches are of similar size (the biggest's live bytes at most
 * LEVEL_RATIO times the others' together), so a small new patch is not merged into a big old one (a rewrite of the
 * big one for a small gain) and the newest patches merge among themselves into bigger ones, as LSM tiers do; a run
 * that sends at most LEVEL_SMALL of the day's budget is cheap whatever its sizes. Up to LEVEL_RUN patches in one go
 * (k patches remove k − 1 layers), and re-unpacked bytes weigh LEVEL_UNPACK_WEIGHT: with runs of similar size the
 * newest ones no longer snowball into one pile, and merges near the top spare nodes a re-chain of the big lower
 * layers (90 days, chunked: node unpack 2.97–4.02× → 1.94–2.64×).
 */
const LEVEL_RATIO = 1;
const LEVEL_SMALL = 0.15;
const LEVEL_RUN = 8;
const LEVEL_UNPACK_WEIGHT = 0.05;
/**
 * In an image with a chunked tree, what the early merges may make nodes unpack again beyond what the day re-chains
 * anyway (a compaction, a fold, a tree planned afresh: see rechainCosts), compressed, as a share of the day's changed
 * files or new bytes, whichever is more. An early merge is optional work ahead of the limit, yet by live bytes the
 * old patches deep in the stack (mostly dead) are the cheapest to merge, and containerd re-unpacks everything above a
 * replaced layer: on the 90 real days such merges re-chained 15–54× the day (1.2–1.7 GB on days of 32–111 MB) and
 * made most of the nodes' 1.65× unpack. Deep merges then fall on the days whose changed files carry them (a pak
 * rewritten in part) or that re-chain the stack anyway (docs/compaction.md, "Ninth round"). With whole files only the
 * image reaches the limit instead and the forced merges there re-chain as deep on small days (90 simulated days:
 * worst update 1.83× → 2.2–2.5×), and nodes unpack 4–5× the changed files whatever the merges (a partly rewritten
 * pak's dead copy forces deep compactions): no bound there.
 */
const EARLY_UNPACK_SHARE = 1;
/** Patch layers merged in one go at most (several only when cheap: see cheapestRun). */
const MAX_RUN = 4;
/** A dead layer of its own file is dropped at once when nodes unpack again at most this share of the day's bytes. */
const EAGER_DROP = 1;
/** Layers a server image should not pass by default (patch layers fill up to it; ECR and containerd allow more). */
const MAX_STACK = 60;
/** Weight of a byte a node unpacks again against a byte pushed, when choosing what to compact. */
const UNPACK_WEIGHT = 1;
/**
 * A forced compaction rewrites every layer above its lowest one that is this dead (no budget), in an image with a
 * chunked tree. There the chunk layers lie lowest and die slowly, so a swept stack stays clean for days and the
 * next forced compaction (a re-chain of everything above it) comes late. With whole files only, the dead old copies
 * of partly rewritten paks force the next compaction within days whatever was swept, so the sweep re-sends live
 * bytes for little (docs/compaction.md, "Third round": the bench's month 1.21× → 1.16× the changed files without it).
 */
const SWEEP_DEAD_SHARE = 0.25;
/** Once a compaction re-chains the stack from some layer up, layers above it this dead are rewritten too. */
const PIGGYBACK_DEAD_SHARE = 0.5;
/**
 * Share of a build's own new bytes it may add in compaction while the image is under maxDeadShare. Every compaction
 * budget is counted compressed, as what it sends: a kept layer's live part at its recorded compressed size (scaled
 * by its live share), the day's new bytes at their tree's measured ratio.
 */
const COMPACT_BUDGET = 0.5;
/** Below maxDeadShare, only layers at least this dead are compacted (their live bytes are the cost). */
const SOFT_MIN_DEAD_SHARE = 0.3;
/**
 * From this share of the dead bytes' allowance on, a build compacts deep layers too, within EARLY_BUDGET of its
 * changed files' bytes (compressed), down to EARLY_GOAL of this share: big days then carry compaction, small days
 * stay small. 0.6, not 1: a day then sends at most about 1.6× its changed files (issue 16: ≤ 2×), with room for the
 * estimate of its new layers' compressed sizes (docs/compaction.md, "Sixth round").
 */
const EARLY_FROM = 0.9;
const EARLY_BUDGET = 0.6;
/**
 * Down to this share of the threshold (0.855 of the allowance; was 0.85, 0.765): an early compaction removes what brings
 * the limit back under its threshold, not more. What it leaves dies further and is compacted later for fewer live
 * bytes per dead byte, or never within the month (docs/compaction.md, "Seventh round").
 */
const EARLY_GOAL = 0.95;
/**
 * The same for a tree image's own limit, from this share of its allowance. 0.8 made the app tree's early compaction
 * (its binary's dead own-file layers) fire on small days; those layers now go free at MUST_FREE_FROM instead.
 */
const TREE_EARLY_FROM = 0.9;
/**
 * The least dead bytes' allowance of any limit, compressed, as a share of the layer target size (32 MiB at the default
 * 512 MiB): dead bytes under it never make a build compact. A compaction rewrites whole layers, and on a small game a
 * tree is one layer: a 5 MiB rename in a 33 MiB tree was 15 % dead and sent the tree again (6.6× the change). With
 * this floor a small game compacts only once ~30 MiB have died, so rewriting its layers (at most its content) costs
 * about what it removes; a fresh node pulls at most this much more than the content. On the 3.1 GB game every limit's
 * relative allowance is above it already (docs/compaction.md, "Thirteenth round": its figures unchanged). Tied to
 * the target size because that is the unit a compaction rewrites: a game cut into smaller layers rewrites less.
 */
const MIN_DEAD_SHARE_OF_TARGET = 1 / 16;
/** From this share of maxDeadShare on (headroom for the next day's dead bytes), deep layers are compacted too… */
const MUST_FREE_FROM = 0.95;
/** …down to this share of it, in one go. */
const HARD_GOAL = 0.7;

interface Slot {
  layer: PlannedLayer;
  pos: number;
}

/** Where a tree planned afresh goes in the stack: replaced by its layers at the end, no bytes until then. */
function marker(tree: TreeName, part: 'all' | 'hot' = 'all'): PlannedLayer {
  return { tree, index: -1, entries: [], inputKey: part === 'hot' ? `marker:${tree}:hot` : `marker:${tree}`, bytes: 0 };
}
const isMarker = (l: PlannedLayer) => l.index === -1 && l.inputKey.startsWith('marker:');

interface Owner {
  entry: FileEntry;
  layer: PlannedLayer;
}

export function planIncremental(
  manifests: readonly TreeManifest[],
  previous: Partial<Record<TreeName, PreviousTree>>,
  opts: IncrementalOptions,
): IncrementalPlan {
  const stable = planLayers(manifests, opts);
  const layouts = new Map<TreeName, FreshLayout>();
  /** A tree planned afresh: a chunked tree's chunk layers apart from its other layers (see churnLayout). */
  const layoutOf = (t: TreeName): FreshLayout => {
    let l = layouts.get(t);
    if (!l) {
      const own = stable.layers.filter((x) => x.tree === t);
      l = churnLayout(manifests.find((m) => m.tree === t)!, opts) ?? { cold: [], hot: own };
      // The split costs a layer or two: the stable plan where that would pass the limit.
      if (stable.layers.length - own.length + l.cold.length + l.hot.length > opts.maxLayers - (opts.baseLayers ?? 0)) l = { cold: [], hot: own };
      layouts.set(t, l);
    }
    return l;
  };
  const freshLayers = (t: TreeName) => [...layoutOf(t).cold, ...layoutOf(t).hot];
  const maxPatchLayers = opts.maxPatchLayers ?? Math.max(16, MAX_STACK - stable.layers.length);
  const maxPatches = opts.maxPatches ?? maxPatchLayers;
  const maxDeadShare = opts.maxDeadShare ?? 0.15;
  const compactDeadShare = Math.min(opts.compactDeadShare ?? (2 / 3) * maxDeadShare, maxDeadShare);
  const maxUnpackedDeadShare = opts.maxUnpackedDeadShare ?? 1;
  const maxTreeDeadShare = opts.maxTreeDeadShare ?? maxDeadShare;
  const minDead = opts.minDeadBytes ?? MIN_DEAD_SHARE_OF_TARGET * opts.targetSize;
  const rebaseShare = opts.rebaseShare ?? 0.5;
  const layerBudget = opts.maxLayers - (opts.baseLayers ?? 0);
  const decisions = {} as IncrementalPlan['decisions'];
  const current = new Map(TREE_NAMES.map((t) => [t, manifests.find((m) => m.tree === t)!]));
  const freshTrees: TreeName[] = [];
  const changed = new Set<TreeName>();
  const reasons = new Map<TreeName, string[]>();
  const note = (t: TreeName, r: string) => reasons.set(t, [...(reasons.get(t) ?? []), r]);
  /** Per changed tree, its changed files big enough for a layer of their own (bigChanges). */
  const bigChanged = new Map<TreeName, number>();

  // 1. Which trees keep their recorded layers.
  const slots: Slot[] = [];
  let fallbackPos = 0;
  /** Lowest stack position this build replaces anyway (a tree planned afresh): compaction above it is not unpacked twice. */
  let lowestReplaced = Infinity;
  /** Content bytes this build pushes anyway: what compaction may add to them on an ordinary day. */
  let newBytes = 0;
  // Compaction budgets are counted compressed, as what they send: the day's new bytes and changed files at their
  // tree's measured ratio (what its new layers are taken to compress to).
  const packed = packedSizes(previous);
  const ratio = treeRatios(previous, packed);
  /** The day's new bytes, compressed: what the soft compaction's budget is a share of. */
  let newPacked = 0;
  /** The day's changed files, compressed: what early compaction may spend a share of. */
  let changedFilePacked = 0;
  for (const tree of TREE_NAMES) {
    const cur = current.get(tree)!;
    const prev = previous[tree];
    const base = fallbackPos;
    fallbackPos += prev?.layers.length ?? 0;
    const replaced = () => {
      freshTrees.push(tree);
      newBytes += totalBytes(cur.entries);
      newPacked += ratio(tree) * totalBytes(cur.entries);
      changedFilePacked += ratio(tree) * totalBytes(cur.entries);
      if (!prev?.layers.length) return;
      // The tree's new layers take the place of its old ones: what lies above is unpacked again today either way,
      // and later changes up there then do not make nodes unpack the new tree again.
      const positions = prev.layers.map((_l, i) => prev.positions?.[i] ?? base + i);
      const at = Math.min(...positions);
      lowestReplaced = Math.min(lowestReplaced, at);
      slots.push({ layer: marker(tree), pos: at });
      // A chunked tree's other layers go where its old ones were, above its chunk layers (and the trees between).
      const hotAt = Math.min(...positions.filter((_p, i) => !chunkLayer(prev.layers[i]!)));
      if (layoutOf(tree).cold.length && hotAt > at && hotAt < Infinity) slots.push({ layer: marker(tree, 'hot'), pos: hotAt });
    };
    if (!prev || prev.layers.length === 0 || prev.unavailable) {
      decisions[tree] = { decision: 'fresh', reason: prev?.unavailable ?? 'no previous build of this tree' };
      replaced();
      continue;
    }
    if (prev.manifest.digest !== cur.digest) {
      const d = diffEntries(tree, prev.manifest.entries, cur.entries);
      const typeChange = d.modified.find((m) => m.before.type !== m.after.type);
      const treeBytes = totalBytes(cur.entries);
      if (typeChange) {
        decisions[tree] = { decision: 'rebased', reason: `${typeChange.after.path} changed from ${typeChange.before.type} to ${typeChange.after.type}` };
        replaced();
        continue;
      }
      const changedBytes = d.bytesAdded + d.bytesModified;
      if (treeBytes > 0 && changedBytes >= rebaseShare * treeBytes) {
        const share = Math.round((100 * changedBytes) / treeBytes);
        // No parentheses: the build prints the reason inside its own, `rebased (…)`.
        decisions[tree] = { decision: 'rebased', reason: `the change holds ${share} % of the tree's bytes, at least the ${Math.round(rebaseShare * 100)} % that re-plans a tree` };
        replaced();
        continue;
      }
      changed.add(tree);
      // What step 3 asks of this diff, counted now: diffing the tree again there made its entries again.
      bigChanged.set(tree, bigChanges(d, ownLayerSize(opts, treeBytes)));
      newBytes += changedBytes;
      newPacked += ratio(tree) * changedBytes;
      changedFilePacked += ratio(tree) * changedFilesBytes(cur, d, changedBytes);
    }
    prev.layers.forEach((layer, i) => slots.push({ layer, pos: prev.positions?.[i] ?? base + i }));
  }
  slots.sort((a, b) => a.pos - b.pos);
  let stack = slots.map((s) => s.layer);
  /** The previous build's stack (markers where trees are planned afresh): where today's re-chain begins is measured on it. */
  const previousStack = stack;
  const keptTrees = TREE_NAMES.filter((t) => !freshTrees.includes(t));
  const treeLayers = (t: TreeName) => stack.filter((l) => l.tree === t && !isMarker(l));

  opts.betweenSteps?.();
  // 2. Dead bytes: rewrite the layers where removing them costs least per byte removed.
  const content = manifests.reduce((n, m) => n + totalBytes(m.entries), 0);
  const live = liveness(stack, keptTrees, current);
  const liveStack = stack;
  let dead = stack.reduce((n, l) => n + (l.bytes - live.get(l)!.bytes), 0);
  // The limit is on the compressed image (what the registry stores and a fresh node pulls): kept layers count as
  // built, their dead share as their share of the layer's content; new layers (tops, trees planned afresh) at their
  // tree's measured ratio. What the live layers leave of (1 + maxDeadShare) × content is the dead bytes' allowance.
  const pk = (l: PlannedLayer) => packed.get(l) ?? l.bytes;
  const deadPackedOf = (l: PlannedLayer) => (l.bytes > 0 ? (pk(l) * (l.bytes - live.get(l)!.bytes)) / l.bytes : 0);
  const keptLive = new Map<TreeName, number>();
  for (const l of stack) keptLive.set(l.tree, (keptLive.get(l.tree) ?? 0) + live.get(l)!.bytes);
  const treeBytesOf = new Map(manifests.map((m) => [m.tree, totalBytes(m.entries)]));
  // Each tree image too (a pod pulls one image per tree: issue 20's "a fresh node pulls at most 1.15× the tree's
  // content"), with the same accounting on the tree's own layers and content: otherwise the dead bytes of a tree that
  // barely compresses use the room the well-compressing trees leave in the server image. A tree whose live layers
  // alone are bigger than its content (tar headers on tiny files) may carry maxTreeDeadShare of them instead.
  const treeDeadPacked = new Map<TreeName, number>(TREE_NAMES.map((t) => [t, 0]));
  for (const l of stack) treeDeadPacked.set(l.tree, treeDeadPacked.get(l.tree)! + deadPackedOf(l));
  let deadPacked = [...treeDeadPacked.values()].reduce((n, d) => n + d, 0);
  const treeAllow = new Map<TreeName, number>();
  let livePacked = 0;
  for (const m of manifests) {
    const bytes = treeBytesOf.get(m.tree)!;
    const livePackedOfTree =
      stack.reduce((n, l) => (l.tree === m.tree ? n + pk(l) - deadPackedOf(l) : n), 0) + ratio(m.tree) * Math.max(0, bytes - (keptLive.get(m.tree) ?? 0));
    livePacked += livePackedOfTree;
    treeAllow.set(m.tree, Math.max((1 + maxTreeDeadShare) * bytes - livePackedOfTree, maxTreeDeadShare * livePackedOfTree, minDead));
  }
  const allowPacked = Math.max((1 + maxDeadShare) * content - livePacked, minDead);
  const share = (d: number, allow: number) => (allow > 0 ? d / allow : d > 0 ? Infinity : 0);
  /** A tree image's dead bytes (compressed) as a share of its allowance. */
  const treePressureOf = (t: TreeName, treeDead: number) => share(treeDead, treeAllow.get(t) ?? 0);
  /** The server image's dead bytes as a share of their allowance: compressed, or uncompressed (a node's disk) if that is higher. */
  const serverPressureOf = (packedDead: number, unpackedDead: number) => Math.max(share(packedDead, allowPacked), unpackedDead / Math.max(1, maxUnpackedDeadShare * content, minDead));
  const treePressure = (t: TreeName) => treePressureOf(t, treeDeadPacked.get(t)!);
  const serverPressure = () => serverPressureOf(deadPacked, dead);
  const softFrom = maxDeadShare > 0 ? compactDeadShare / maxDeadShare : 0;
  // A file's own layer whose file changed goes now, its new version being a layer of its own on top: that
  // costs nothing to push and leaves no dead bytes.
  const ownFile = (l: PlannedLayer) => hasFileOf(l.entries, ownLayerSize(opts, treeBytesOf.get(l.tree)!));
  // Past `compactDeadShare` a build compacts, within half its own new bytes, the layers high enough in the stack
  // that nodes unpack again no more than the day's new bytes (a patch that is mostly dead, say). Deeper layers
  // are rewritten only past `maxDeadShare`, and then in one go down to HARD_GOAL of it: every such rewrite makes
  // nodes unpack the whole stack above it again, so it should happen rarely and collect much when it does.
  // A tree planned afresh re-chains the stack from its old place anyway: compaction above that is free for nodes.
  const above = bytesAbove(stack);
  const firstReplaced = slots.findIndex((x) => x.pos >= lowestReplaced);
  const unpack = (l: PlannedLayer) => (firstReplaced >= 0 && stack.indexOf(l) >= firstReplaced ? 0 : above.get(l)!);
  const deadOf = (l: PlannedLayer) => l.bytes - live.get(l)!.bytes;
  const score = (l: PlannedLayer) => deadOf(l) / (live.get(l)!.bytes + UNPACK_WEIGHT * unpack(l) + 1);
  // A file's own layer whose file changed (its new version is a layer of its own on top) goes as soon as nodes
  // would not unpack more than the day's new bytes again for it: it costs nothing to push.
  const chosen = new Set(stack.filter((l) => ownFile(l) && live.get(l)!.count === 0 && unpack(l) <= EAGER_DROP * newBytes));
  for (const l of chosen) {
    dead -= l.bytes;
    deadPacked -= pk(l);
    treeDeadPacked.set(l.tree, treeDeadPacked.get(l.tree)! - pk(l));
  }
  /** What rewriting a layer sends: its live part, compressed. */
  const livePackedOf = (l: PlannedLayer) => pk(l) - deadPackedOf(l);
  /** Compressed bytes compaction has added to the day's push so far. */
  let spent = 0;
  /** What is left of the soft (and piggyback) budget, and of the day's budget (early and forced compaction). */
  const softLeft = () => COMPACT_BUDGET * newPacked - spent;
  const dayLeft = () => EARLY_BUDGET * changedFilePacked - spent;
  /** Whether an early or forced compaction took a layer (a soft one alone does not bring the piggyback). */
  let deepTaken = false;
  const take = (l: PlannedLayer, deep = false) => {
    deepTaken ||= deep;
    chosen.add(l);
    dead -= deadOf(l);
    deadPacked -= deadPackedOf(l);
    treeDeadPacked.set(l.tree, treeDeadPacked.get(l.tree)! - deadPackedOf(l));
    spent += livePackedOf(l);
  };
  // Each phase below works on the limits over its threshold only (the server image's, a tree image's), down to its
  // goal: a tree over its own limit does not drive the server image's dead bytes down with it. Layers of the trees
  // over their limit come first (best per byte of cost among them); a layer counts while a limit it helps is pressing.
  type Over = { server: boolean; trees: Set<TreeName>; goal: number; treeGoal: number };
  const overFrom = (from: number, goal: number, upTo = Infinity, treeFrom = from, treeGoal = goal): Over => ({
    server: serverPressure() > from && serverPressure() <= upTo,
    trees: new Set(keptTrees.filter((t) => treePressure(t) > treeFrom && treePressure(t) <= upTo)),
    goal,
    treeGoal,
  });
  /** Whether the limits of `o` are still over their goals, and whether a layer helps one that is, under these pressures. */
  const judge = (server: () => number, tree: (t: TreeName) => number) => ({
    over: (o: Over) => (o.server && server() > o.goal) || [...o.trees].some((t) => tree(t) > o.treeGoal),
    helps: (l: PlannedLayer, o: Over) => (o.server && server() > o.goal) || (o.trees.has(l.tree) && tree(l.tree) > o.treeGoal),
  });
  const { over: stillOver, helps } = judge(serverPressure, treePressure);
  const candidates = (o: Over) => {
    const first = (l: PlannedLayer) => (o.trees.has(l.tree) ? 0 : 1);
    return stack.filter((x) => !chosen.has(x) && deadOf(x) > 0).sort((a, b) => first(a) - first(b) || score(b) - score(a));
  };
  // A build that changes nothing is never the one to compact: a no-op build + push sends 0 bytes (issue 16), and
  // what its record holds stays for the next build that changes something (estimates of new layers' compressed
  // sizes may leave a tree just past its limit once measured: tar and gzip overheads weigh on tiny trees).
  const nothingChanged = changed.size === 0 && newBytes === 0;
  /** An image with a chunked tree: its dead bytes are old copies of small files and chunks, and come slowly. */
  const chunkedImage = manifests.some((m) => m.chunks);
  // From the forced threshold on, a file's own layer whose file changed goes whatever nodes unpack again for it:
  // it sends nothing, and left in place it would make the forced compaction below rewrite live bytes instead (the
  // app binary's old layers filled the app tree image's small allowance, and its forced compaction landed on small
  // days). Highest first (least unpacked again), while the limit it helps is pressing.
  if (!nothingChanged) {
    const deadOwn = stack.filter((l) => !chosen.has(l) && ownFile(l) && live.get(l)!.count === 0).sort((a, b) => unpack(a) - unpack(b));
    for (const l of deadOwn) if (serverPressure() >= MUST_FREE_FROM || treePressure(l.tree) >= MUST_FREE_FROM) take(l);
  }
  /** The pressures once `ls` are rewritten too (nothing taken yet): whether `o` would still be over its goal, and whether `l` would help it. */
  const after = (ls: readonly PlannedLayer[]) => {
    let dp = deadPacked;
    let du = dead;
    const td = new Map(treeDeadPacked);
    for (const l of ls) {
      dp -= deadPackedOf(l);
      du -= deadOf(l);
      td.set(l.tree, td.get(l.tree)! - deadPackedOf(l));
    }
    return judge(() => serverPressureOf(dp, du), (t) => treePressureOf(t, td.get(t)!));
  };
  // Nor the soft or the early one: a layer with nothing live left costs nothing to send, yet dropping it makes new
  // images (and nodes unpack the stack above it again) on a day that changed nothing.
  const soft = overFrom(softFrom, softFrom);
  if (!nothingChanged && stillOver(soft)) {
    for (const l of candidates(soft)) {
      if (!stillOver(soft)) break;
      if (!helps(l, soft)) continue;
      if (deadOf(l) >= SOFT_MIN_DEAD_SHARE * l.bytes && unpack(l) <= newBytes && livePackedOf(l) <= softLeft()) take(l);
    }
  }
  // Ahead of the limit, a day whose changed files can carry it compacts deep layers too, within EARLY_BUDGET of
  // them (compressed, as what it sends): the forced compaction below would otherwise land on whatever day crosses
  // the limit, small or not. Past the forced compaction's threshold it is that one's job (with its sweep).
  const earlyFrom = opts.earlyCompactFrom ?? EARLY_FROM;
  // A tree image's own early compaction from TREE_EARLY_FROM on (at most earlyCompactFrom): at 80 % the app tree's
  // fired on small days; a forced one now takes what fits in the day's budget first.
  const treeEarlyFrom = Math.min(earlyFrom, TREE_EARLY_FROM);
  const early0 = overFrom(earlyFrom, EARLY_GOAL * earlyFrom, MUST_FREE_FROM, treeEarlyFrom, EARLY_GOAL * treeEarlyFrom);
  if (!nothingChanged && stillOver(early0)) {
    const fits = (l: PlannedLayer, cost = 0) => deadOf(l) >= SOFT_MIN_DEAD_SHARE * l.bytes && livePackedOf(l) <= dayLeft() - cost;
    // A layer that alone brings the limits back to the goal: the one that sends least (not the best per byte, which
    // may remove three times what is needed today: its dead bytes wait, and it is cheaper per dead byte later).
    const enough = candidates(early0)
      .filter((l) => helps(l, early0) && fits(l) && !after([l]).over(early0))
      .sort((a, b) => livePackedOf(a) - livePackedOf(b))[0];
    if (enough) take(enough, true);
    else {
      // Otherwise the best per byte of cost, within the day's budget, down to the goal…
      const picked: PlannedLayer[] = [];
      let cost = 0;
      for (const l of candidates(early0)) {
        const now = after(picked);
        if (!now.over(early0)) break;
        if (!now.helps(l, early0) || !fits(l, cost)) continue;
        picked.push(l);
        cost += livePackedOf(l);
      }
      // …and in an image with a chunked tree only when that reaches the goal: a day whose budget cannot carry the
      // compaction leaves it to a bigger one (the forced compaction, past 95 %, first takes what fits in its day).
      // A part of it on a small day made the next day compact again, each a deep rewrite (the `random` month: 55 MB
      // of patches on day 27, then the 542 MB layer the day after, which alone would have done).
      if (!chunkedImage || !after(picked).over(early0)) for (const l of picked) take(l, true);
    }
  }
  const forced = nothingChanged ? { server: false, trees: new Set<TreeName>(), goal: 0, treeGoal: 0 } : overFrom(MUST_FREE_FROM, HARD_GOAL);
  if (stillOver(forced)) {
    // First the layers that fit in the day's budget (best first, down to the goal); further, whatever it takes, only
    // for a limit still past the forced threshold: a forced compaction on a small day then sends what the day can
    // carry whenever that is enough, and the next big day's early compaction takes the rest (docs/compaction.md,
    // "Sixth round": without this the forced compaction of a 33 MB day sent 319 MB).
    for (const l of candidates(forced)) {
      if (!stillOver(forced)) break;
      if (helps(l, forced) && livePackedOf(l) <= dayLeft()) take(l, true);
    }
    /** The day's budget brought the limits down to the goal: a compaction the day could carry, not a forced re-chain. */
    const withinDay = !stillOver(forced);
    const further: Over = { ...forced, server: forced.server && serverPressure() > MUST_FREE_FROM, trees: new Set([...forced.trees].filter((t) => treePressure(t) > MUST_FREE_FROM)) };
    for (const l of candidates(further)) {
      if (!stillOver(further)) break;
      if (helps(l, further)) take(l, true);
    }
    // Nodes unpack everything above the lowest layer taken again anyway: sweep what is SWEEP_DEAD_SHARE dead up there,
    // whatever the budget, so that the next forced compaction comes late (each one re-chains the stack above it).
    // Not when the day's budget sufficed: the sweep re-sends live bytes that no limit needs yet (it is for the bulk
    // compactions that re-chain much of the stack).
    if (chunkedImage && !withinDay) {
      const lowest = Math.min(...[...chosen].map((l) => stack.indexOf(l)));
      // Only the layers whose limit forced it: a tree image over its own limit does not sweep the other trees.
      const swept = (l: PlannedLayer) => forced.server || forced.trees.has(l.tree);
      for (const l of stack.slice(lowest)) if (!chosen.has(l) && swept(l) && l.bytes > 0 && deadOf(l) >= SWEEP_DEAD_SHARE * l.bytes) take(l, true);
    }
  }
  // In an image with a chunked tree only after an early or forced compaction: a soft one's piggyback re-sent deep
  // app-media layers that no limit needed within the month (on the engine upgrade's day, whose bytes fund half of
  // them: 160–250 MB beyond the day's changes, 4–7 % of the month's written bytes).
  if (chosen.size && (!chunkedImage || deepTaken)) {
    // The stack is re-chained from the lowest layer chosen: layers above it that are mostly dead go too.
    const lowest = Math.min(...[...chosen].map((l) => stack.indexOf(l)));
    for (const l of stack.slice(lowest)) {
      if (!chosen.has(l) && l.bytes > 0 && deadOf(l) >= PIGGYBACK_DEAD_SHARE * l.bytes && livePackedOf(l) <= Math.max(softLeft(), 0)) take(l);
    }
  }
  if (chosen.size) {
    const next: PlannedLayer[] = [];
    for (const l of stack) {
      if (!chosen.has(l)) {
        next.push(l);
        continue;
      }
      const kept = live.get(l)!;
      const verb = kept.count ? 'rewrote' : 'dropped';
      note(l.tree, `${verb} layer ${l.index}, ${Math.round((100 * (l.bytes - kept.bytes)) / Math.max(l.bytes, 1))} % dead`); // no parentheses: printed inside `compacted (…)`
      if (kept.count) next.push(liveLayer(l, keptEntries([l], kept.entries()), current.get(l.tree)!, opts.mounts[l.tree], opts.parents?.[l.tree]));
    }
    stack = next;
  }

  opts.betweenSteps?.();
  // 3. Layer count. First a changed tree's newest patch goes into its new top when that is cheap (its live files
  // are the top's again); then, ahead of the limit, runs of patches merge when that is as cheap; at the limit the
  // run of one tree's adjacent patches that costs least per layer it removes. A merge's cost is its live bytes
  // pushed again and the layers above it that nodes unpack again, so it is weighed against the day's new bytes.
  const tops0 = new Map(keptTrees.map((t) => [t, changed.has(t) ? 1 + bigChanged.get(t)! : 0]));
  const newTop = (t: TreeName) => tops0.get(t)!;
  /** A layer's compressed size: recorded, else its bytes at its tree's measured ratio. */
  const packedOf = (l: PlannedLayer) => packed.get(l) ?? ratio(l.tree) * l.bytes;
  /** What re-sending `liveBytes` of layer `l` sends, compressed: its share of the layer's compressed size. */
  const sentOfLive = (l: PlannedLayer, liveBytes: number) => (l.bytes > 0 ? (packedOf(l) * liveBytes) / l.bytes : 0);
  /** What the day's folds re-send: part of the day's cost, so the early merges' budget is what is left of it. */
  let foldSent = 0;
  {
    // Step 2's liveness holds while its stack does (nothing rewritten): walking the trees again cost a second walk
    // of every kept entry.
    const liveNow = stack === liveStack ? live : liveness(stack, keptTrees, current);
    const aboveNow = bytesAbove(stack);
    const folded = new Set<PlannedLayer>();
    for (const t of keptTrees) {
      if (!changed.has(t)) continue;
      const newest = treeLayers(t).at(-1);
      if (!newest?.patch || ownFile(newest)) continue;
      if (liveNow.get(newest)!.bytes + aboveNow.get(newest)! <= (current.get(t)!.chunks ? CHUNKED_FOLD_SHARE : FOLD_SHARE) * newBytes) {
        folded.add(newest);
        foldSent += sentOfLive(newest, liveNow.get(newest)!.bytes);
        note(t, `folded patch layer ${newest.index} into the new top`);
      }
    }
    if (folded.size) stack = stack.filter((l) => !folded.has(l));
  }
  const freshCount = freshTrees.reduce((n, t) => n + freshLayers(t).length, 0);
  // The image's layers in all stay under MAX_STACK (a re-planned tree may have more layers than before).
  const stackLimit = Math.max(MAX_STACK, stable.layers.length + 16);
  const countLimit = Math.min(layerBudget, stackLimit);
  // Compressed, as what a merge sends: a kept layer's live part at its recorded size, a merged one at its tree's ratio.
  // The day's folds come out of it too: a day that folds a patch and merges must stay within its 1.8× (the 90 real
  // days sent 2.10× on a day whose fold was not counted, docs/compaction.md "Eighth round").
  let earlyBudget = Math.max(0, EARLY_MERGE_SHARE * Math.max(0, Math.max(newPacked, changedFilePacked) - spent) - foldSent);
  const level: Level = {
    ratio: LEVEL_RATIO,
    small: LEVEL_SMALL,
    run: LEVEL_RUN,
    sentOf: sentOfLive,
  };
  /** In an image with a chunked tree, what the early merges may still make nodes unpack again (EARLY_UNPACK_SHARE). */
  let unpackLeft = EARLY_UNPACK_SHARE * Math.max(newPacked, changedFilePacked);
  for (let guard = 0; guard < 10_000; guard++) {
    const patches = (t: TreeName) => treeLayers(t).filter((l) => l.patch).length + newTop(t);
    const allPatches = keptTrees.reduce((n, t) => n + patches(t), 0);
    const total = stack.length + freshCount + keptTrees.reduce((n, t) => n + newTop(t), 0);
    const overTree = keptTrees.filter((t) => patches(t) > maxPatches);
    const over = overTree.length > 0 || allPatches > maxPatchLayers || total > countLimit;
    let run: PlannedLayer[] | undefined;
    if (over) run = cheapestRun(stack, overTree.length ? overTree : keptTrees, current, MERGE_UNPACK_WEIGHT, newBytes)?.run;
    else if (total > countLimit - EARLY_MERGE_ROOM) {
      // Ahead of the limit: a levelled merge that the day carries.
      // In an image with a chunked tree, within what the day may make nodes unpack again (EARLY_UNPACK_SHARE).
      if (chunkedImage) level.unpack = { rechain: rechainCosts(stack, previousStack, packedOf), left: unpackLeft };
      const early = cheapestRun(stack, keptTrees, current, LEVEL_UNPACK_WEIGHT, earlyBudget, level);
      if (early && early.sent <= earlyBudget) {
        run = early.run;
        earlyBudget -= early.sent;
        unpackLeft -= early.rechain;
      }
    }
    if (!run) break;
    const [lower] = run;
    const entries = mergedEntries(stack, run, current.get(lower!.tree)!);
    note(lower!.tree, `merged patch layers ${run.map((l) => l.index).join(', ').replace(/, (\d+)$/, ' and $1')}`);
    const merged = liveLayer(lower!, entries, current.get(lower!.tree)!, opts.mounts[lower!.tree], opts.parents?.[lower!.tree]);
    const gone = new Set(run.slice(1));
    stack = stack.filter((l) => !gone.has(l)).map((l) => (l === lower ? merged : l));
  }

  opts.betweenSteps?.();
  // 4. The top of each kept tree: what its layers lack to unpack to exactly the manifest.
  const tops: PlannedLayer[] = [];
  for (const tree of keptTrees) {
    const cur = current.get(tree)!;
    const own = treeLayers(tree);
    // Layers holding every file once, in order, with no whiteout (a tree planned in one go) unpack to their files in
    // turn and their folders: walked beside the manifest, without a map and a list of every path.
    const d = unpacksTo(own, cur.entries, cur.digest)
      ? { label: tree, added: [], removed: [], modified: [], unchanged: cur.entries.length, bytesAdded: 0, bytesModified: 0, bytesRemoved: 0 }
      : own.length === 1 && orderedList(own[0]!.entries)
      ? // One layer in strictly increasing path order, no whiteout: it unpacks to its list as it is (two packed
        // stores are then compared on their columns).
        diffEntries(tree, own[0]!.entries, cur.entries)
      : filesOnceInOrder(own)
      ? diffEntriesOf(tree, unpackedInOrder(own), cur.entries)
      : layersInPathOrder(own)
      ? diffEntriesOf(tree, unpackedEntries(own), cur.entries)
      : diffEntries(tree, [...stateOf(own).values()].map((o) => o.entry).sort((a, b) => compareBytewise(a.path, b.path)), cur.entries);
    const typeChange = d.modified.find((m) => m.before.type !== m.after.type);
    if (typeChange) {
      // Compaction exposed an older entry of another type: plan the tree afresh rather than risk it.
      decisions[tree] = { decision: 'rebased', reason: `${typeChange.after.path} changed from ${typeChange.before.type} to ${typeChange.after.type}` };
      freshTrees.push(tree);
      stack = stack.filter((l) => l.tree !== tree);
      continue;
    }
    const top = topLayers(tree, d, cur, opts);
    tops.push(...top);
    const compacted = reasons.get(tree);
    if (compacted) decisions[tree] = { decision: 'compacted', reason: compacted.join('; ') };
    else decisions[tree] = { decision: top.length ? 'patched' : 'unchanged' };
  }

  // 5. The stack: kept layers in place, trees planned afresh where they were (or on top when they were not in
  // it), then the new tops.
  const order = opts.freshOrder ?? TREE_NAMES;
  const placed = new Set(stack.filter(isMarker).map((l) => l.tree).filter((t) => freshTrees.includes(t)));
  const split = new Set(stack.filter((l) => isMarker(l) && l.inputKey.endsWith(':hot')).map((l) => l.tree));
  // Trees not in the stack before (a first build): chunk layers lowest, below every tree's other layers. Chunks
  // die only where a file is rewritten, so they are rarely compacted; a partial rewrite of an engine would
  // otherwise make nodes unpack them again, and small files (whose old copies force the compactions) lie above.
  const unplaced = [...freshTrees].filter((t) => !placed.has(t)).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const fresh = [...unplaced.flatMap((t) => layoutOf(t).cold), ...unplaced.flatMap((t) => layoutOf(t).hot)];
  stack = stack.flatMap((l) => {
    if (!isMarker(l) || !placed.has(l.tree)) return isMarker(l) ? [] : [l];
    if (!split.has(l.tree)) return freshLayers(l.tree);
    return l.inputKey.endsWith(':hot') ? layoutOf(l.tree).hot : layoutOf(l.tree).cold;
  });
  // New tops in the stack order of trees (the app, changed most often, last): a tree's newest patch is then high in
  // the stack, and folding it into the next day's top makes nodes unpack little again.
  const topsInOrder = [...tops].sort((a, b) => order.indexOf(a.tree) - order.indexOf(b.tree));
  let layers = renumber([...stack, ...fresh, ...topsInOrder]);
  if (layers.length > layerBudget) {
    // Still over the limit (few patches to merge): plan the trees with most layers afresh, as the stable plan fits.
    const byCount = [...keptTrees].sort((a, b) => layers.filter((l) => l.tree === b).length - layers.filter((l) => l.tree === a).length);
    for (const t of byCount) {
      if (layers.length <= layerBudget) break;
      decisions[t] = { decision: 'rebased', reason: `the image would have ${layers.length} layers, over ${layerBudget}` };
      layers = renumber([...layers.filter((l) => l.tree !== t), ...stable.layers.filter((l) => l.tree === t)]);
    }
  }
  return { layers, decisions };
}

const CHUNK_ENTRY_PREFIX = `${CHUNKS_DIR}/c/`;

interface FreshLayout {
  /** Chunk layers (bottom). */
  cold: PlannedLayer[];
  /** The other layers: small files, recipes, folders. */
  hot: PlannedLayer[];
}

/** A layer holding chunks and their folders only. */
function chunkLayer(l: PlannedLayer): boolean {
  return l.entries.some((e) => e.type === 'file') && l.entries.every((e) => e.type === 'dir' || e.path.startsWith(CHUNK_ENTRY_PREFIX));
}

/**
 * A chunked tree planned afresh, its layers ordered by how often their bytes die: its chunks (which die only
 * where a file is rewritten) below, its small files and recipes (modified, resized and removed whole every day)
 * above, each part cut as the stable plan cuts. Compacting the old copies of small files then re-chains only the
 * small files' layers and what is above them, not the chunks. Undefined for a tree without chunks or without
 * other files (the stable plan).
 */
function churnLayout(m: TreeManifest, opts: IncrementalOptions): FreshLayout | undefined {
  if (!m.chunks) return undefined;
  const isChunk = (e: FileEntry) => e.type === 'file' && e.path.startsWith(CHUNK_ENTRY_PREFIX);
  const chunks = m.entries.filter(isChunk);
  if (!chunks.length || !m.entries.some((e) => e.type !== 'dir' && !isChunk(e))) return undefined;
  const chunkDirs = new Set<string>();
  for (const e of chunks) for (let i = e.path.lastIndexOf('/'); i > 0; i = e.path.lastIndexOf('/', i - 1)) chunkDirs.add(e.path.slice(0, i));
  const cut = (entries: FileEntry[]) =>
    planLayers(
      TREE_NAMES.map((t) => ({ ...m, tree: t, entries: t === m.tree ? entries : [] })),
      { ...opts, maxLayers: Number.MAX_SAFE_INTEGER, baseLayers: 0 },
    ).layers.filter((l) => l.tree === m.tree);
  const cold = cut(m.entries.filter((e) => isChunk(e) || (e.type === 'dir' && chunkDirs.has(e.path))));
  const hot = cut(m.entries.filter((e) => !isChunk(e)));
  return { cold, hot: hot.map((l, i) => ({ ...l, index: cold.length + i })) };
}

/** Kept layers' compressed sizes, as the previous build recorded them. */
function packedSizes(previous: Partial<Record<TreeName, PreviousTree>>): Map<PlannedLayer, number> {
  const out = new Map<PlannedLayer, number>();
  for (const p of Object.values(previous)) {
    p?.layers.forEach((l, i) => {
      const size = p.packed?.[i];
      if (size !== undefined && Number.isFinite(size) && size >= 0) out.set(l, size);
    });
  }
  return out;
}

/**
 * Compressed bytes per content byte of each tree's recorded layers (those with a recorded size): what a new layer of
 * the tree is taken to compress to. 1 (incompressible, the conservative guess) for a tree with nothing recorded.
 */
function treeRatios(previous: Partial<Record<TreeName, PreviousTree>>, packed: Map<PlannedLayer, number>): (t: TreeName) => number {
  const ratios = new Map<TreeName, number>();
  for (const t of TREE_NAMES) {
    let bytes = 0;
    let size = 0;
    for (const l of previous[t]?.layers ?? []) {
      const s = packed.get(l);
      if (s === undefined || l.bytes === 0) continue;
      bytes += l.bytes;
      size += s;
    }
    ratios.set(t, bytes > 0 ? size / bytes : 1);
  }
  return (t) => ratios.get(t)!;
}

const isChunkEntry = (e: FileEntry) => e.type === 'file' && e.path.startsWith(CHUNK_ENTRY_PREFIX);

/**
 * The bytes of a tree's changed files, whole: in a chunked tree a file whose recipe changed counts its size (the
 * manifest's recipe list), not the chunks it got. Issue 16's reference for one update. The changed entries' bytes
 * when the manifest lists no recipes.
 */
function changedFilesBytes(cur: TreeManifest, d: TreeDiff, changedBytes: number): number {
  if (!cur.chunks) return changedBytes;
  const sizes = new Map((cur.recipes ?? []).map((r) => [r.path, r.size]));
  let n = 0;
  for (const e of [...d.added, ...d.modified.map((m) => m.after)]) {
    if (isChunkEntry(e)) continue;
    const file = recipeFileOf(e.path);
    if (file === undefined) n += e.size;
    else {
      const size = sizes.get(file);
      if (size === undefined) return changedBytes;
      n += size;
    }
  }
  return Math.max(n, changedBytes);
}

function totalBytes(entries: readonly FileEntry[]): number {
  return totalsOf(entries).bytes;
}

/** Changed files big enough for a layer of their own. */
function bigChanges(d: TreeDiff, targetSize: number): number {
  return [...d.added, ...d.modified.map((m) => m.after)].filter((e) => e.type === 'file' && e.size >= targetSize).length;
}

/**
 * Changed files from this size up get a layer of their own on top: a big pak or binary patched again later leaves
 * a whole dead layer, dropped for free, instead of dead bytes inside a patch (and patches stay small, cheap to
 * merge). An eighth of the target size, or of the tree when that is less (not below 1 MiB).
 */
function ownLayerSize(opts: PlanOptions, treeBytes: number): number {
  return Math.min(opts.targetSize / 8, Math.max(2 ** 20, treeBytes / 8));
}

/**
 * What a tree's layers unpack to: each path's topmost entry and the layer holding it. Within a layer the
 * whiteouts apply to the layers below, then its entries are added.
 */
export function stateOf(layers: readonly PlannedLayer[]): Map<string, Owner> {
  const state = new Map<string, Owner>();
  for (const layer of layers) {
    const hidden = new Set<string>();
    for (const e of eachEntry(layer.entries)) {
      const target = whiteoutTarget(e);
      if (target !== undefined) hidden.add(target);
    }
    if (hidden.size) {
      for (const p of state.keys()) {
        for (let q = p; ; ) {
          if (hidden.has(q)) {
            state.delete(p);
            break;
          }
          const i = q.lastIndexOf('/');
          if (i <= 0) break;
          q = q.slice(0, i);
        }
      }
    }
    for (const e of eachEntry(layer.entries)) if (!isWhiteout(e)) state.set(e.path, { entry: e, layer });
  }
  return state;
}

interface Live {
  /**
   * Files and symlinks of the layer that the image shows as they are in the manifest: found again when asked (a
   * layer rewritten or merged), not held for every layer (a 1M-entry tree's are 1M objects).
   */
  entries: () => FileEntry[];
  count: number;
  bytes: number;
}

/** Per layer, its live entries: topmost for their path and equal to the manifest's. */
function liveness(stack: readonly PlannedLayer[], trees: readonly TreeName[], current: Map<TreeName, TreeManifest>): Map<PlannedLayer, Live> {
  const out = new Map<PlannedLayer, Live>();
  for (const l of stack) out.set(l, { entries: () => [], count: 0, bytes: 0 });
  for (const t of trees) {
    const layers = stack.filter((l) => l.tree === t);
    const cur = current.get(t)!;
    if (unpacksTo(layers, cur.entries, cur.digest)) {
      // Its one layer is the manifest: every file and link in it is live.
      const [l] = layers as [PlannedLayer];
      const { entries: count, bytes } = nonFolderTotalsOf(l.entries);
      out.set(l, { count, bytes, entries: () => [...eachEntry(l.entries)].filter((e) => e.type !== 'dir') });
      continue;
    }
    if (liveInOrder(layers, cur.entries, out)) continue;
    if (liveMerged(layers, cur.entries, out)) continue;
    const want = new Map(current.get(t)!.entries.map((e) => [e.path, e]));
    const found = new Map<PlannedLayer, FileEntry[]>();
    for (const [path, o] of stateOf(layers)) {
      if (o.entry.type === 'dir') continue;
      const w = want.get(path);
      if (!w || !sameEntry(w, o.entry)) continue;
      const live = out.get(o.layer)!;
      let list = found.get(o.layer);
      if (!list) {
        found.set(o.layer, (list = []));
        const held = list;
        live.entries = () => held;
      }
      list.push(o.entry);
      live.count++;
      live.bytes += o.entry.size;
    }
  }
  return out;
}

/**
 * Whether a tree's layers hold every file (and link) once, in path order across the layers, with no whiteout and no
 * folder of a file's path (a tree planned in one go, as most are; each layer carries its own folders): then what they
 * unpack to is, folders aside, their entries in turn, and each layer's live entries are found by walking them beside
 * the manifest, both sorted, instead of two maps of every path (a 1M-entry tree: hundreds of MiB of maps and owner
 * objects). Adds them to `out` and returns true; false, with `out` untouched, for any other tree.
 */
function liveInOrder(layers: readonly PlannedLayer[], want: readonly FileEntry[], out: Map<PlannedLayer, Live>): boolean {
  if (!filesOnceInOrder(layers) || !inPathOrder([want], false)) return false;
  for (const l of layers) out.set(l, { ...out.get(l)!, entries: () => liveEntriesInOrder(layers, want, l) });
  liveEntriesInOrder(layers, want, undefined, (l, e) => {
    const live = out.get(l)!;
    live.count++;
    live.bytes += e.size;
  });
  return true;
}

/**
 * Like liveInOrder, for layers each in path order but overlapping or with whiteouts (a tree with patches on it): what
 * they unpack to is merged from the layers in path order (unpackedStack) and walked beside the manifest; each layer's
 * live entries are found again when asked. False, with `out` untouched, when a layer or the manifest is out of order.
 */
function liveMerged(layers: readonly PlannedLayer[], want: readonly FileEntry[], out: Map<PlannedLayer, Live>): boolean {
  if (!layersInPathOrder(layers) || !inPathOrder([want], false)) return false;
  const walk = (each: (l: PlannedLayer, e: FileEntry) => void) => {
    let j = 0;
    let w = want[0];
    for (const { entry: e, layer: l } of unpackedStack(layers)) {
      if (e.type === 'dir') continue;
      while (w && compareBytewise(w.path, e.path) < 0) w = want[++j];
      if (w && w.path === e.path && sameEntry(w, e)) each(l, e);
    }
  };
  for (const l of layers) {
    out.set(l, {
      ...out.get(l)!,
      entries: () => {
        const found: FileEntry[] = [];
        walk((x, e) => x === l && found.push(e));
        return found;
      },
    });
  }
  walk((l, e) => {
    const live = out.get(l)!;
    live.count++;
    live.bytes += e.size;
  });
  return true;
}

/**
 * The walk of liveInOrder: each live entry of `layers` (in order) given to `each`; returns those of `only`. A packed
 * manifest makes an object per read: each entry is read once, as the walk reaches it.
 */
function liveEntriesInOrder(layers: readonly PlannedLayer[], want: readonly FileEntry[], only: PlannedLayer | undefined, each?: (l: PlannedLayer, e: FileEntry) => void): FileEntry[] {
  const found: FileEntry[] = [];
  let j = 0;
  let w = want[0];
  for (const l of layers) {
    for (const e of eachEntry(l.entries)) {
      if (e.type === 'dir') continue;
      while (w && compareBytewise(w.path, e.path) < 0) w = want[++j];
      if (!w || w.path !== e.path || !sameEntry(w, e)) continue;
      if (l === only) found.push(e);
      each?.(l, e);
    }
    if (l === only) break;
  }
  return found;
}

/** Lists known to be in strictly increasing path order with no whiteout; and each list's entries digest, once taken. */
const orderedLists = new WeakSet<readonly FileEntry[]>();
const listDigests = new WeakMap<readonly FileEntry[], string>();

/**
 * Whether `layers` unpack to exactly `entries`, every file and link in them live: one layer whose entries are
 * `entries` (the same list, or the same lines: its digest is `digest`, the scan's, or that of `entries`), in strictly
 * increasing path order, with no whiteout. That is a tree kept in one layer and unchanged since (a no-op build's
 * 1M-entry tree), which the record's check, liveness and the tree's new top would each walk as objects, several
 * times over: here the lines are hashed from a packed store's columns and the order walked once per list.
 */
function unpacksTo(layers: readonly PlannedLayer[], entries: readonly FileEntry[], digest?: string): boolean {
  if (layers.length !== 1) return false;
  const own = layers[0]!.entries;
  if (own.length !== entries.length) return false;
  if (own !== entries && digestOfList(own) !== (digest ?? digestOfList(entries))) return false;
  return orderedList(own);
}

/** Whether a list is in strictly increasing path order with no whiteout; remembered per list. */
function orderedList(list: readonly FileEntry[]): boolean {
  if (orderedLists.has(list)) return true;
  if (!inPathOrder([list], true)) return false;
  orderedLists.add(list);
  return true;
}

function digestOfList(list: readonly FileEntry[]): string {
  let d = listDigests.get(list);
  if (d === undefined) listDigests.set(list, (d = entriesDigest(list)));
  return d;
}

/** See liveInOrder: files once, in path order across the layers; no whiteout; no folder where a file is. */
function filesOnceInOrder(layers: readonly PlannedLayer[]): boolean {
  const folders = new Set<string>();
  let last: string | undefined;
  for (const l of layers) {
    for (const e of eachEntry(l.entries)) {
      if (isWhiteout(e)) return false;
      if (e.type === 'dir') {
        folders.add(e.path);
        continue;
      }
      if (last !== undefined && compareBytewise(last, e.path) >= 0) return false;
      last = e.path;
    }
  }
  if (!folders.size) return true;
  for (const l of layers) for (const e of eachEntry(l.entries)) if (e.type !== 'dir' && folders.has(e.path)) return false;
  return true;
}

/**
 * What such layers unpack to (see filesOnceInOrder), in path order: the files in turn, each folder's topmost entry;
 * one at a time (a 1M-entry tree's would be 1M objects held at once).
 */
function* unpackedInOrder(layers: readonly PlannedLayer[]): Generator<FileEntry> {
  const folders = new Map<string, FileEntry>();
  for (const l of layers) for (const e of eachEntry(l.entries)) if (e.type === 'dir') folders.set(e.path, e);
  const dirs = [...folders.values()].sort((a, b) => compareBytewise(a.path, b.path));
  let i = 0;
  for (const l of layers) {
    for (const e of eachEntry(l.entries)) {
      if (e.type === 'dir') continue;
      while (i < dirs.length && compareBytewise(dirs[i]!.path, e.path) < 0) yield dirs[i++]!;
      yield e;
    }
  }
  while (i < dirs.length) yield dirs[i++]!;
}

/**
 * The path diffEntries(before, after) names first in a recorded tree's check (its first added entry, else its first
 * removed one, else its first modified one), walking `before` once without holding it.
 */
function firstDifference(before: Iterable<FileEntry>, after: readonly FileEntry[]): string | undefined {
  let added: string | undefined;
  let removed: string | undefined;
  let modified: string | undefined;
  let j = 0;
  let b = after[0];
  const add = (e: FileEntry) => void (added ??= e.path);
  for (const a of before) {
    while (b && compareBytewise(b.path, a.path) < 0) {
      add(b);
      b = after[++j];
    }
    if (b && b.path === a.path) {
      if (!sameEntry(a, b)) modified ??= b.path;
      b = after[++j];
    } else removed ??= a.path;
    if (added !== undefined) return added;
  }
  if (b) return b.path;
  return removed ?? modified;
}

/** Whether the lists, one after another, are in strictly increasing path order (and, if asked, hold no whiteout). */
function inPathOrder(lists: readonly (readonly FileEntry[])[], noWhiteouts: boolean): boolean {
  const store = lists.length === 1 ? packedStoreOf(lists[0]!) : undefined;
  if (store) return store.inPathOrder(noWhiteouts);
  let last: string | undefined;
  for (const list of lists) {
    for (const e of eachEntry(list)) {
      if (noWhiteouts && isWhiteout(e)) return false;
      if (last !== undefined && compareBytewise(last, e.path) >= 0) return false;
      last = e.path;
    }
  }
  return true;
}

/** Per layer, the bytes of the layers above it in the stack: what a node unpacks again when it changes. */
function bytesAbove(stack: readonly PlannedLayer[]): Map<PlannedLayer, number> {
  const out = new Map<PlannedLayer, number>();
  let sum = 0;
  for (let i = stack.length - 1; i >= 0; i--) {
    out.set(stack[i]!, sum);
    sum += stack[i]!.bytes;
  }
  return out;
}

/** The rules of a levelled merge (see LEVEL_RATIO): runs of similar size, and what a layer's live part sends. */
interface Level {
  ratio: number;
  small: number;
  run: number;
  sentOf: (l: PlannedLayer, liveBytes: number) => number;
  /**
   * Only in an image with a chunked tree (whole-file images merge without this bound): per layer, what nodes unpack
   * again beyond today's re-chain when it is rewritten (see rechainCosts), and what the early merges may still make
   * them unpack again (compressed). A run starting at a layer whose re-chain is over `left` is not taken.
   */
  unpack?: { rechain: Map<PlannedLayer, number>; left: number };
}

/**
 * Per layer of the stack, what nodes unpack again (compressed) if it is rewritten, beyond what today's build makes
 * them unpack anyway: containerd re-unpacks every layer from the lowest one replaced, and the stack already differs
 * from the previous build's from some layer up (a compaction, a fold, a tree planned afresh). A layer at or above
 * that point costs nothing more; one below it costs the layers from it up to that point.
 */
function rechainCosts(stack: readonly PlannedLayer[], previousStack: readonly PlannedLayer[], packedOf: (l: PlannedLayer) => number): Map<PlannedLayer, number> {
  let from = 0;
  while (from < stack.length && stack[from] === previousStack[from] && !isMarker(stack[from]!)) from++;
  const out = new Map<PlannedLayer, number>();
  let sum = 0;
  for (let i = stack.length - 1; i >= 0; i--) {
    if (i < from) sum += packedOf(stack[i]!);
    out.set(stack[i]!, sum);
  }
  return out;
}

/**
 * Adjacent patch layers of one tree (adjacent in the tree's order) that cost least to merge, per layer the merge
 * removes: their live bytes, and the layers above the lowest one that nodes unpack again (weighted). Two layers at
 * a time, or up to MAX_RUN when the whole merge costs at most `cheap` (small patches merged together). With `level`,
 * up to its run, `cheap` a budget on what the merge sends, and only runs of similar size (or that send little).
 */
function cheapestRun(
  stack: readonly PlannedLayer[],
  trees: readonly TreeName[],
  current: Map<TreeName, TreeManifest>,
  unpackWeight: number,
  cheap: number,
  level?: Level,
): { run: PlannedLayer[]; cost: number; sent: number; rechain: number } | undefined {
  const live = liveness(stack, trees, current);
  const above = bytesAbove(stack);
  const sentOf = level?.sentOf ?? ((_l: PlannedLayer, b: number) => b);
  let best: { run: PlannedLayer[]; cost: number; sent: number; rechain: number } | undefined;
  let bestScore = Infinity;
  for (const t of trees) {
    const own = stack.filter((l) => l.tree === t && !isMarker(l));
    for (let i = 0; i + 1 < own.length; i++) {
      let liveBytes = live.get(own[i]!)!.bytes;
      if (!own[i]!.patch) continue;
      const rechain = level?.unpack?.rechain.get(own[i]!) ?? 0;
      if (level?.unpack && rechain > level.unpack.left) continue;
      let sent = sentOf(own[i]!, liveBytes);
      let biggest = liveBytes;
      for (let k = 2; k <= (level?.run ?? MAX_RUN) && i + k <= own.length; k++) {
        const upper = own[i + k - 1]!;
        if (!upper.patch) break;
        const upperLive = live.get(upper)!.bytes;
        liveBytes += upperLive;
        sent += sentOf(upper, upperLive);
        biggest = Math.max(biggest, upperLive);
        const cost = liveBytes + unpackWeight * above.get(own[i]!)!;
        if (k > 2 && (level ? sent : cost) > cheap) break;
        if (level && biggest > level.ratio * (liveBytes - biggest) && sent > level.small * cheap) continue;
        const score = cost / (k - 1);
        if (score < bestScore) {
          bestScore = score;
          best = { run: own.slice(i, i + k), cost, sent, rechain };
        }
      }
    }
  }
  return best;
}

/** Entries of adjacent patch layers merged: the live files of all, and their whiteouts. */
function mergedEntries(stack: readonly PlannedLayer[], run: readonly PlannedLayer[], manifest: TreeManifest): FileEntry[] {
  const live = liveness(stack, [run[0]!.tree], new Map([[run[0]!.tree, manifest]]));
  return keptEntries(run, run.flatMap((l) => live.get(l)!.entries()));
}

/**
 * Live files of layers being rewritten, with the layers' whiteouts except where the new layer holds an entry of
 * that name or below it (a whiteout and an entry of one name in a layer is not portable); the tree's top layer
 * restores whatever that leaves visible.
 */
function keptEntries(layers: readonly PlannedLayer[], files: FileEntry[]): FileEntry[] {
  const names = new Set<string>();
  for (const e of files) for (let p = e.path; p; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) names.add(p);
  const whiteouts = new Map<string, FileEntry>();
  for (const l of layers) {
    for (const e of l.entries) {
      const target = whiteoutTarget(e);
      if (target !== undefined && !names.has(target)) whiteouts.set(e.path, e);
    }
  }
  return [...files, ...whiteouts.values()];
}

/** A layer of the given files and whiteouts in place of `like` (same tree, patch or not), with their parent folders. */
function liveLayer(like: PlannedLayer, files: FileEntry[], current: TreeManifest, mount: string, parents: MountParents | undefined): PlannedLayer {
  const entries = withParents(files, current);
  return { tree: like.tree, index: like.index, entries, inputKey: layerInputKey(mount, entries, parents), bytes: totalBytes(entries), ...(like.patch ? { patch: true } : {}) };
}

function withParents(files: FileEntry[], current: TreeManifest): FileEntry[] {
  return withParentsIn(new Map(files.map((e) => [e.path, e])), current);
}

/** withParents of the entries of `byPath` (by their paths), which it adds the folders to. */
function withParentsIn(byPath: Map<string, FileEntry>, current: TreeManifest): FileEntry[] {
  const dirs = dirsOf(current);
  for (const p of [...byPath.keys()]) {
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const parent = p.slice(0, i);
      if (byPath.has(parent)) break;
      byPath.set(parent, dirs.get(parent) ?? { path: parent, type: 'dir', mode: 0o755, size: 0 });
    }
  }
  return [...byPath.values()].sort((a, b) => compareBytewise(a.path, b.path));
}

const dirCache = new WeakMap<TreeManifest, Map<string, FileEntry>>();
function dirsOf(m: TreeManifest): Map<string, FileEntry> {
  let d = dirCache.get(m);
  if (!d) {
    // Only the folders are made as objects (a packed manifest's 1M files are not).
    const source = entrySourceOf(m.entries);
    d = new Map();
    for (let i = 0; i < source.length; i++) {
      if (source.type(i) !== 'dir') continue;
      const e = m.entries[i]!;
      d.set(e.path, e);
    }
    dirCache.set(m, d);
  }
  return d;
}

/** The new top of a tree: a layer per changed file of ownLayerSize or more, one patch layer for the rest. */
function topLayers(tree: TreeName, d: TreeDiff, current: TreeManifest, opts: IncrementalOptions): PlannedLayer[] {
  if (!d.added.length && !d.removed.length && !d.modified.length) return [];
  const changedFiles = [...d.added, ...d.modified.map((m) => m.after)];
  const own = ownLayerSize(opts, totalBytes(current.entries));
  const big = changedFiles.filter((e) => e.type === 'file' && e.size >= own).sort((a, b) => compareBytewise(a.path, b.path));
  const isBig = new Set(big.map((e) => e.path));
  const rest: TreeDiff = { ...d, added: d.added.filter((e) => !isBig.has(e.path)), modified: d.modified.filter((m) => !isBig.has(m.after.path)) };
  const out: PlannedLayer[] = [];
  // Big files first, the patch last: a tree's patch is then its top layer, cheap to fold into the next day's.
  for (const e of big) out.push(liveLayer({ tree, index: 0, entries: [], inputKey: '', bytes: 0, patch: true }, [e], current, opts.mounts[tree], opts.parents?.[tree]));
  if (rest.added.length || rest.removed.length || rest.modified.length) out.push(patchLayer(tree, 0, rest, current, opts.mounts[tree], Object.values(opts.mounts), opts.parents?.[tree]));
  return out;
}

/** Each tree's layers numbered 0.. in its own order; the stack order is kept. */
function renumber(layers: PlannedLayer[]): PlannedLayer[] {
  const next = new Map<TreeName, number>();
  return layers.map((l) => {
    const index = next.get(l.tree) ?? 0;
    next.set(l.tree, index + 1);
    return l.index === index ? l : { ...l, index };
  });
}

/** Added and modified entries (with their parent directories) and a whiteout per topmost removed path. */
function patchLayer(tree: TreeName, index: number, d: TreeDiff, current: TreeManifest, mount: string, allMounts: string[] = [], above?: MountParents): PlannedLayer {
  const kept = [...d.added, ...d.modified.map((m) => m.after)];
  for (const e of kept) assertTreePath(tree, mount, e.path);
  // The removed entries one at a time (a packed diff's are a store: 100k of them are not made into objects at once).
  for (const e of eachEntry(d.removed)) assertTreePath(tree, mount, e.path);
  // The removed paths that hold another removed entry (a few folders), not every removed path.
  const parents = new Set<string>();
  for (const e of eachEntry(d.removed)) {
    const slash = e.path.lastIndexOf('/');
    if (slash > 0) parents.add(e.path.slice(0, slash));
  }
  const removed = new Set<string>();
  for (const e of eachEntry(d.removed)) if (parents.has(e.path)) removed.add(e.path);
  parents.clear();
  /** The topmost removed paths, each checked: what gets a whiteout. */
  const topmost = function* (): Generator<string> {
    for (const e of eachEntry(d.removed)) {
      const slash = e.path.lastIndexOf('/');
      const parent = slash > 0 ? e.path.slice(0, slash) : '';
      if (parent && removed.has(parent)) continue; // its folder's whiteout removes it
      assertNoMountBelow(tree, mount, e.path, allMounts);
      yield e.path;
    }
  };
  if (packedStoreOf(d.removed) && !kept.some(isPendingHash)) {
    // Many removed (a packed diff's store): the patch is a store too, its whiteouts never objects nor a map.
    const entries = packedPatchEntries(kept, topmost(), dirsOf(current));
    return { tree, index, entries, inputKey: layerInputKey(mount, entries, above), bytes: totalBytes(entries), patch: true };
  }
  const byPath = new Map<string, FileEntry>(kept.map((e) => [e.path, e]));
  for (const p of topmost()) {
    const slash = p.lastIndexOf('/');
    const parent = slash > 0 ? p.slice(0, slash) : '';
    const wh = `${parent ? `${parent}/` : ''}${WHITEOUT_PREFIX}${p.slice(slash + 1)}`;
    byPath.set(wh, { path: wh, type: 'file', mode: 0o644, size: 0, xxh64: EMPTY_XXH64 });
  }
  // Its own map takes the folders: a copy of it (100k whiteouts after a removal) was a second map held beside it.
  const entries = withParentsIn(byPath, current);
  const bytes = totalBytes(entries);
  return { tree, index, entries, inputKey: layerInputKey(mount, entries, above), bytes, patch: true };
}

/**
 * A patch may add or delete only paths strictly inside its tree (so inside its mount): a recorded manifest is
 * read from disk, and a path such as `..` or `a/../..` would become a whiteout deleting another tree's files.
 */
function assertTreePath(tree: TreeName, mount: string, p: string): void {
  if (p === '' || p.startsWith('/') || p.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new GamelayerError(
      'plan.path-outside',
      `${tree}: the patch layer would touch "${p}", which is not a path inside the tree (mount ${mount})`,
      'the previous build record is damaged or forged: run gamelayer build --rebase',
    );
  }
}

/**
 * A whiteout of `p` deletes everything below it in the image, so it may not sit above another tree's mount (a tree
 * mounted inside this one, e.g. engine media inside the engine): the other tree's files would vanish.
 */
function assertNoMountBelow(tree: TreeName, mount: string, p: string, allMounts: string[]): void {
  const target = mount === '/' ? `/${p}` : `${mount}/${p}`;
  const hit = allMounts.find((m) => m !== mount && (m === target || m.startsWith(`${target}/`)));
  if (hit) {
    throw new GamelayerError(
      'plan.path-outside',
      `${tree}: ${p} was removed, and its whiteout would delete ${hit}, the mount of another tree`,
      'plan the tree afresh instead of patching it: gamelayer build --rebase',
    );
  }
}


/**
 * Why a recorded tree cannot be built on: a layer whose entries do not give its inputKey (its blob would not
 * hold them), or layers that do not unpack to the recorded manifest. Undefined when the record is sound.
 */
export function recordedTreeProblem(tree: TreeName, prev: PreviousTree, mount: string, parents?: MountParents): string | undefined {
  for (const [i, l] of prev.layers.entries()) {
    if (l.tree !== tree || layerInputKey(mount, l.entries, parents) !== l.inputKey) return `${tree} layer ${i}: its entries do not match its inputKey ${l.inputKey}`;
  }
  if (unpacksTo(prev.layers, prev.manifest.entries)) return undefined;
  // Layers holding every file once, in order, with no whiteout, unpack to their files in turn and their folders:
  // compared without a map of every path.
  if (filesOnceInOrder(prev.layers)) {
    const first = firstDifference(unpackedInOrder(prev.layers), prev.manifest.entries);
    return first !== undefined ? `${tree}: its layers do not unpack to its recorded manifest (${first} differs)` : undefined;
  }
  // Layers each in path order (patches with whiteouts on a tree): merged in path order, also without a map.
  if (layersInPathOrder(prev.layers)) {
    const first = firstDifference(unpackedEntries(prev.layers), prev.manifest.entries);
    return first !== undefined ? `${tree}: its layers do not unpack to its recorded manifest (${first} differs)` : undefined;
  }
  const state = [...stateOf(prev.layers).values()].map((o) => o.entry).sort((a, b) => compareBytewise(a.path, b.path));
  const d = diffEntries(tree, state, prev.manifest.entries);
  const first = d.added[0] ?? d.removed[0] ?? d.modified[0]?.after;
  return first ? `${tree}: its layers do not unpack to its recorded manifest (${first.path} differs)` : undefined;
}

/**
 * Each tree of a recorded build for one platform: its manifest, its layers in order, their stack positions and, when
 * the record lists the built layers, their compressed sizes (the dead-byte limit is on the compressed image).
 */
export function recordedTrees(record: Pick<BuildRecord, 'plan' | 'manifests'> & Partial<Pick<BuildRecord, 'layers'>>, platform: string): Partial<Record<TreeName, PreviousTree>> {
  const out: Partial<Record<TreeName, PreviousTree>> = {};
  const stack = record.plan.layers.filter((l) => l.platform === platform);
  const sizes = new Map((record.layers ?? []).map((l) => [l.inputKey, l.size]));
  for (const tree of TREE_NAMES) {
    const positions: number[] = [];
    const layers: PlannedLayer[] = [];
    stack.forEach(({ platform: _p, ...l }, i) => {
      if (l.tree !== tree) return;
      layers.push(l);
      positions.push(i);
    });
    const manifest = record.manifests.find((m) => m.tree === tree && (m.platform === undefined || m.platform === platform));
    if (manifest && layers.length) out[tree] = { manifest, layers, positions, packed: layers.map((l) => sizes.get(l.inputKey)) };
  }
  return out;
}
