// Plan stage: TreeManifests → LayerPlan, in the stable order engine → engine-media → app → app-media.
//
// Splitting rule (DESIGN.md "Splitting big trees"): a boundary falls after an entry whose path hash has
// `k` low zero bits. The path alone decides it, so editing a file never moves a boundary, and adding or
// removing a file can only split or join the layer it lands in. `k` per tree comes from its entry count
// and bytes, rounded to a power of two, so it moves only when a tree grows or shrinks by about 40 %.
// Raising `k` keeps a subset of the boundaries: merging to meet the layer limit stays stable too.
// Files at or above the target size are layers of their own.
import { createHash } from 'node:crypto';
import { compareBytewise, hashEntries } from '../scan/manifest.js';
import { entriesBelowOf, entrySourceOf } from '../entries/packed-list.js';
import { parentsKeyText, type MountParents } from './mount-parents.js';
import { TREE_NAMES, type FileEntry, type LayerPlan, type PlannedLayer, type TreeManifest, type TreeName } from '../types.js';

export interface PlanOptions {
  /** Trees above this many bytes are split; files at or above it are layers of their own. */
  targetSize: number;
  /** Most layers in the combined image, base layers included. */
  maxLayers: number;
  /** Layers the base image brings (they count against maxLayers). */
  baseLayers?: number;
  /** Mount path per tree: part of every layer's inputKey, since the tar paths start with it. */
  mounts: Record<TreeName, string>;
  /** Per tree, the base's owner and mode of the folders above its mount that are not root 0755 (mount-parents.ts). */
  parents?: Partial<Record<TreeName, MountParents>>;
}

/** Bumped whenever the tar layout of a planned layer changes, so cached layers are not reused wrongly. */
export const LAYER_FORMAT = 'gamelayer-layer/1';

/** Hard ceiling from ECR: no layer may reach 52,000 MiB. */
export const ECR_MAX_LAYER_BYTES = 52_000 * 1024 * 1024;

interface TreeSplit {
  tree: TreeName;
  manifest: TreeManifest;
  k: number;
  bigThreshold: number;
  /**
   * Low 32 bits of sha256(path) per manifest entry, made on the first cut that splits: re-cutting while merging
   * rehashes nothing, and 4 bytes an entry are freed with the plan (a map of path strings held 1M of them for good).
   */
  pathHashes?: Uint32Array;
}

export function planLayers(manifests: readonly TreeManifest[], opts: PlanOptions): LayerPlan {
  const byTree = new Map(manifests.map((m) => [m.tree, m]));
  const splits: TreeSplit[] = [];
  for (const tree of TREE_NAMES) {
    const m = byTree.get(tree);
    if (!m) throw new Error(`planLayers: no manifest for tree ${tree}`);
    splits.push({ tree, manifest: m, k: initialBits(m, opts.targetSize), bigThreshold: opts.targetSize });
  }
  let layers = splits.map((s) => cut(s, opts));
  const budget = opts.maxLayers - (opts.baseLayers ?? 0);
  if (budget < TREE_NAMES.length) {
    throw new Error(`planLayers: the base image has ${opts.baseLayers} layers, leaving fewer than one per tree under ${opts.maxLayers}`);
  }
  // Over the limit: coarsen the tree with most layers (latest in order on ties) until it fits.
  for (let guard = 0; layers.flat().length > budget && guard < 1000; guard++) {
    let worst = 0;
    for (let i = 1; i < layers.length; i++) if (layers[i]!.length >= layers[worst]!.length) worst = i;
    const s = splits[worst]!;
    const small = layers[worst]!.filter((l) => !isBigLayer(l, s.bigThreshold)).length;
    if (small > 1) s.k++;
    else s.bigThreshold *= 2; // only big files left: let the smaller of them join the other layers
    layers[worst] = cut(s, opts);
  }
  return { layers: layers.flat() };
}

function isBigLayer(l: PlannedLayer, threshold: number): boolean {
  return l.entries.some((e) => e.type === 'file' && e.size >= threshold);
}

/** Boundary bits so that, on average, a layer holds about targetSize bytes. 0 = no split. */
function initialBits(m: TreeManifest, targetSize: number): number {
  const { entries: count, bytes } = entriesBelowOf(m.entries, targetSize);
  const wanted = bytes / targetSize;
  if (wanted <= 1 || count < 2) return 32;
  return Math.max(0, Math.min(31, Math.round(Math.log2(count / wanted))));
}

function pathHashesOf(entries: readonly FileEntry[]): Uint32Array {
  const out = new Uint32Array(entries.length);
  for (let i = 0; i < entries.length; i++) out[i] = createHash('sha256').update(entries[i]!.path).digest().readUInt32LE(0);
  return out;
}

/** Cuts one tree into layers; every layer carries the ancestor directories of its entries. */
function cut(s: TreeSplit, opts: PlanOptions): PlannedLayer[] {
  // A boundary falls after an entry whose path hash has k low zero bits; k >= 32: no boundaries.
  const mask = s.k >= 32 ? undefined : 2 ** s.k - 1;
  const source = entrySourceOf(s.manifest.entries);
  // One layer for the whole tree: no boundary, no file of its own.
  const oneLayer = mask === undefined && !source.hasFileOf(s.bigThreshold);
  // One that lists its folders is the manifest's list itself, not a copy (8 bytes an entry less while the layers
  // are written, 8 MiB on 1M files); a packed tree's list view, nothing made per entry. Cut into several, a packed
  // tree's entries are its objects.
  if (oneLayer && source.listsEveryFolder()) {
    return [{ tree: s.tree, index: 0, entries: s.manifest.entries, inputKey: layerInputKey(opts.mounts[s.tree], s.manifest.entries, opts.parents?.[s.tree]), bytes: source.fileTotals().bytes }];
  }
  const entries = source.materialize();
  const hashes = mask === undefined ? undefined : (s.pathHashes ??= pathHashesOf(entries));
  const dirs = new Map<string, FileEntry>();
  for (const e of entries) if (e.type === 'dir') dirs.set(e.path, e);
  // One layer still, its missing folders added.
  if (oneLayer) return [makeLayer(s.tree, 0, withAncestors(entries, dirs), opts.mounts[s.tree], opts.parents?.[s.tree])];
  const groups: FileEntry[][] = [];
  let current: FileEntry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.type === 'file' && e.size >= s.bigThreshold) {
      if (current.length) groups.push(current);
      groups.push([e]);
      current = [];
      continue;
    }
    current.push(e);
    if (hashes !== undefined && (hashes[i]! & mask!) === 0) {
      groups.push(current);
      current = [];
    }
  }
  if (current.length || groups.length === 0) groups.push(current);
  return groups.map((g, index) => makeLayer(s.tree, index, withAncestors(g, dirs), opts.mounts[s.tree], opts.parents?.[s.tree]));
}

/**
 * `entries` with the directories above them that they lack, in bytewise order. Only a directory (or a link, which a
 * walk or an archive never has entries below) can be an ancestor, so only those paths are remembered: a layer of 1M
 * files no longer means a set of 1M paths. Sorted input (every manifest's) takes the missing folders in front by a
 * merge instead of a sorted copy of the whole layer.
 */
export function withAncestors(entries: FileEntry[], dirs: ReadonlyMap<string, FileEntry>): FileEntry[] {
  const have = new Set<string>();
  for (const e of entries) if (e.type !== 'file') have.add(e.path);
  const extra: FileEntry[] = [];
  for (const e of entries) {
    for (let i = e.path.lastIndexOf('/'); i > 0; i = e.path.lastIndexOf('/', i - 1)) {
      const p = e.path.slice(0, i);
      if (have.has(p)) break;
      have.add(p);
      extra.push(dirs.get(p) ?? { path: p, type: 'dir', mode: 0o755, size: 0 });
    }
  }
  if (extra.length === 0) return entries;
  extra.sort((a, b) => compareBytewise(a.path, b.path));
  if (!isSortedBytewise(entries)) return [...entries, ...extra].sort((a, b) => compareBytewise(a.path, b.path));
  const out: FileEntry[] = new Array(entries.length + extra.length);
  let i = 0;
  let j = 0;
  for (let o = 0; o < out.length; o++) out[o] = j >= extra.length || (i < entries.length && compareBytewise(entries[i]!.path, extra[j]!.path) <= 0) ? entries[i++]! : extra[j++]!;
  return out;
}

function isSortedBytewise(entries: readonly FileEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) if (compareBytewise(entries[i - 1]!.path, entries[i]!.path) > 0) return false;
  return true;
}

/**
 * A layer's inputs: its tar's format, mount and entries, and the base's owner and mode of folders above the mount
 * where they are not root 0755 (those layers' folders differ). With none, the key is as it always was.
 */
export function layerInputKey(mount: string, entries: readonly FileEntry[], parents?: MountParents): string {
  const above = parentsKeyText(parents);
  const h = createHash('sha256').update(above ? `${LAYER_FORMAT}+parents\n${above}\n${mount}\n` : `${LAYER_FORMAT}\n${mount}\n`);
  return `sha256:${hashEntries(h, entries).digest('hex')}`;
}

function makeLayer(tree: TreeName, index: number, entries: FileEntry[], mount: string, parents?: MountParents): PlannedLayer {
  let bytes = 0;
  for (const e of entries) bytes += e.size;
  return { tree, index, entries, inputKey: layerInputKey(mount, entries, parents), bytes };
}

/** Layers over ECR's per-layer limit cannot be pushed there: say which, before any work is done. */
export function oversizedLayers(plan: LayerPlan, limit = ECR_MAX_LAYER_BYTES): PlannedLayer[] {
  return plan.layers.filter((l) => l.bytes >= limit);
}
