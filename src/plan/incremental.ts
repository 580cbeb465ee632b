// Incremental plan: the previous build's layers, plus one patch layer per changed tree.
//
// A stable plan (plan.ts) rebuilds every layer a change touches, and with at most ~100 layers a day's
// scattered changes touch many. A patch layer holds just the files added or modified since the previous
// build and OCI whiteouts (`.wh.<name>`) for the ones removed, so a push sends about the bytes that changed.
// A tree is re-planned from scratch (rebased onto a fresh stable plan) when its patches grow past a share
// of its bytes or a count, when a path changes type (a whiteout and a new entry of the same name in one
// layer is not portable), or when nothing usable was recorded. Without a previous build the plan is the
// stable one: the same content then always gives the same layers.
import { diffEntries, type TreeDiff } from '../diff/diff.js';
import { GamelayerError } from '../errors.js';
import { compareBytewise } from '../scan/manifest.js';
import { TREE_NAMES, type BuildRecord, type FileEntry, type PlannedLayer, type TreeManifest, type TreeName } from '../types.js';
import { layerInputKey, planLayers, type PlanOptions } from './plan.js';

export const WHITEOUT_PREFIX = '.wh.';
/** xxh64 of zero bytes: the content of a whiteout file. */
export const EMPTY_XXH64 = 'ef46db3751d8e999';

export interface IncrementalOptions extends PlanOptions {
  /** Patch layers a tree may carry before it is rebased; default 8. */
  maxPatches?: number;
  /** Rebase a tree when its patch layers hold more than this share of its bytes; default 0.3. */
  maxPatchShare?: number;
}

export interface PreviousTree {
  manifest: TreeManifest;
  /** The tree's layers in the previous build, in order, patches last. */
  layers: PlannedLayer[];
}

export type TreeDecision = 'unchanged' | 'patched' | 'rebased' | 'fresh';

export interface IncrementalPlan {
  layers: PlannedLayer[];
  decisions: Record<TreeName, { decision: TreeDecision; reason?: string }>;
}

export function planIncremental(
  manifests: readonly TreeManifest[],
  previous: Partial<Record<TreeName, PreviousTree>>,
  opts: IncrementalOptions,
): IncrementalPlan {
  const stable = planLayers(manifests, opts);
  const maxPatches = opts.maxPatches ?? 8;
  const maxShare = opts.maxPatchShare ?? 0.3;
  const decisions = {} as IncrementalPlan['decisions'];
  const perTree = new Map<TreeName, PlannedLayer[]>();
  for (const tree of TREE_NAMES) {
    const current = manifests.find((m) => m.tree === tree)!;
    const prev = previous[tree];
    const fresh = stable.layers.filter((l) => l.tree === tree);
    const choose = (decision: TreeDecision, layers: PlannedLayer[], reason?: string) => {
      decisions[tree] = { decision, reason };
      perTree.set(tree, layers);
    };
    if (!prev || prev.layers.length === 0) {
      choose('fresh', fresh, 'no previous build of this tree');
      continue;
    }
    if (prev.manifest.digest === current.digest) {
      choose('unchanged', prev.layers);
      continue;
    }
    const d = diffEntries(tree, prev.manifest.entries, current.entries);
    const typeChange = d.modified.find((m) => m.before.type !== m.after.type);
    if (typeChange) {
      choose('rebased', fresh, `${typeChange.after.path} changed from ${typeChange.before.type} to ${typeChange.after.type}`);
      continue;
    }
    const patches = prev.layers.filter((l) => l.patch).length;
    const patch = patchLayer(tree, prev.layers.length, d, current, opts.mounts[tree]);
    const patchBytes = prev.layers.filter((l) => l.patch).reduce((n, l) => n + l.bytes, 0) + patch.bytes;
    const treeBytes = current.entries.reduce((n, e) => n + e.size, 0);
    if (patches + 1 > maxPatches) {
      choose('rebased', fresh, `${patches + 1} patch layers would exceed ${maxPatches}`);
    } else if (patchBytes > maxShare * Math.max(treeBytes, 1)) {
      choose('rebased', fresh, `patches would hold ${Math.round((100 * patchBytes) / Math.max(treeBytes, 1))} % of the tree's bytes (limit ${Math.round(maxShare * 100)} %)`);
    } else {
      choose('patched', [...prev.layers, patch]);
    }
  }
  const layers = TREE_NAMES.flatMap((t) => perTree.get(t)!);
  const budget = opts.maxLayers - (opts.baseLayers ?? 0);
  if (layers.length > budget) {
    // Patches pushed the image past the layer limit: rebase every patched tree.
    for (const t of TREE_NAMES) {
      if (decisions[t].decision === 'patched' || (decisions[t].decision === 'unchanged' && perTree.get(t)!.some((l) => l.patch))) {
        decisions[t] = { decision: 'rebased', reason: `the image would have ${layers.length} layers, over ${budget}` };
        perTree.set(t, stable.layers.filter((l) => l.tree === t));
      }
    }
    return { layers: TREE_NAMES.flatMap((t) => perTree.get(t)!), decisions };
  }
  return { layers, decisions };
}

/** Added and modified entries (with their parent directories) and a whiteout per topmost removed path. */
function patchLayer(tree: TreeName, index: number, d: TreeDiff, current: TreeManifest, mount: string): PlannedLayer {
  const byPath = new Map<string, FileEntry>();
  for (const e of [...d.added, ...d.modified.map((m) => m.after), ...d.removed]) assertTreePath(tree, mount, e.path);
  for (const e of [...d.added, ...d.modified.map((m) => m.after)]) byPath.set(e.path, e);
  const removed = new Set(d.removed.map((e) => e.path));
  for (const e of d.removed) {
    const slash = e.path.lastIndexOf('/');
    const parent = slash > 0 ? e.path.slice(0, slash) : '';
    if (parent && removed.has(parent)) continue; // its folder's whiteout removes it
    const wh = `${parent ? `${parent}/` : ''}${WHITEOUT_PREFIX}${e.path.slice(slash + 1)}`;
    byPath.set(wh, { path: wh, type: 'file', mode: 0o644, size: 0, xxh64: EMPTY_XXH64 });
  }
  const dirs = new Map(current.entries.filter((e) => e.type === 'dir').map((e) => [e.path, e]));
  for (const p of [...byPath.keys()]) {
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const parent = p.slice(0, i);
      if (byPath.has(parent)) break;
      byPath.set(parent, dirs.get(parent) ?? { path: parent, type: 'dir', mode: 0o755, size: 0 });
    }
  }
  const entries = [...byPath.values()].sort((a, b) => compareBytewise(a.path, b.path));
  const bytes = entries.reduce((n, e) => n + e.size, 0);
  return { tree, index, entries, inputKey: layerInputKey(mount, entries), bytes, patch: true };
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

export function isWhiteout(e: FileEntry): boolean {
  const name = e.path.slice(e.path.lastIndexOf('/') + 1);
  return name.startsWith(WHITEOUT_PREFIX);
}

/** Each tree of a recorded build for one platform: its manifest and its layers in order. */
export function recordedTrees(record: Pick<BuildRecord, 'plan' | 'manifests'>, platform: string): Partial<Record<TreeName, PreviousTree>> {
  const out: Partial<Record<TreeName, PreviousTree>> = {};
  for (const tree of TREE_NAMES) {
    const layers = record.plan.layers.filter((l) => l.tree === tree && l.platform === platform);
    const manifest = record.manifests.find((m) => m.tree === tree && (m.platform === undefined || m.platform === platform));
    if (manifest && layers.length) out[tree] = { manifest, layers: layers.map(({ platform: _p, ...l }) => l) };
  }
  return out;
}
