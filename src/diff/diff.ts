// What changed between two states of a game: per tree, entries added / modified / removed and their bytes.
import type { PackedEntries } from '../entries/packed-entries.js';
import { packedList, packedStoreOf } from '../entries/packed-list.js';
import { recipeFileOf } from '../chunk/recipe.js';
import { compareBytewise } from '../scan/manifest.js';
import type { FileEntry, TreeManifest } from '../types.js';
import { chunkedFileCounts, type FileCounts } from './chunked-files.js';

export interface TreeDiff {
  /** Tree name, with the platform for per-platform trees (e.g. `engine linux/arm64`). */
  label: string;
  added: FileEntry[];
  removed: FileEntry[];
  modified: { before: FileEntry; after: FileEntry }[];
  unchanged: number;
  /** Content bytes of added files, of modified files (new size), and of removed files (old size). */
  bytesAdded: number;
  bytesModified: number;
  bytesRemoved: number;
  /**
   * Set for a chunked tree: the same change counted in the files a copy assembles (a chunked file once, by its
   * recipe, at its own size; chunks and their folders left out), as a user reads a diff. The fields above count the
   * tree's entries, as its layers hold them.
   */
  files?: FileCounts;
  /**
   * Set when the tree's chunk settings differ between the two sides (`trees.<tree>.chunks` turned on, off or
   * changed; null: whole files): its big files' entries then change though their content may not.
   */
  chunking?: { before: ChunkSettings | null; after: ChunkSettings | null };
  /** With `chunking`: the chunked files whose recipe changed while their content (size, xxh64) did not: cut again. */
  recut?: string[];
}

export type ChunkSettings = NonNullable<TreeManifest['chunks']>;

/** What `chunking` and `recut` say of a tree whose chunk settings moved between `x` and `y`; {} when they did not. */
function chunkingChange(x: TreeManifest, y: TreeManifest, d: TreeDiff): Pick<TreeDiff, 'chunking' | 'recut'> {
  const a = x.chunks;
  const b = y.chunks;
  if (a?.minFileSize === b?.minFileSize && a?.avgChunkSize === b?.avgChunkSize) return {};
  const content = (m: TreeManifest) => new Map((m.recipes ?? []).map((r) => [r.path, `${r.size}:${r.xxh64}`]));
  const before = content(x);
  const after = content(y);
  const recut = d.modified.flatMap(({ after: e }) => {
    const f = recipeFileOf(e.path);
    return f !== undefined && before.has(f) && before.get(f) === after.get(f) ? [f] : [];
  });
  return { chunking: { before: a ?? null, after: b ?? null }, ...(recut.length ? { recut } : {}) };
}

export function sameEntry(a: FileEntry, b: FileEntry): boolean {
  return a.type === b.type && a.mode === b.mode && a.size === b.size && a.xxh64 === b.xxh64 && a.linkTarget === b.linkTarget;
}

/** Merge-walk of two bytewise-sorted entry lists. */
export function diffEntries(label: string, before: readonly FileEntry[], after: readonly FileEntry[]): TreeDiff {
  const pa = packedStoreOf(before);
  const pb = packedStoreOf(after);
  if (pa && pb) return diffPacked(label, pa, pb);
  const d: TreeDiff = { label, added: [], removed: [], modified: [], unchanged: 0, bytesAdded: 0, bytesModified: 0, bytesRemoved: 0 };
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const a = before[i];
    const b = after[j];
    const c = a && b ? compareBytewise(a.path, b.path) : a ? -1 : 1;
    if (c < 0) {
      d.removed.push(a!);
      d.bytesRemoved += a!.size;
      i++;
    } else if (c > 0) {
      d.added.push(b!);
      d.bytesAdded += b!.size;
      j++;
    } else {
      if (sameEntry(a!, b!)) d.unchanged++;
      else {
        d.modified.push({ before: a!, after: b! });
        d.bytesModified += b!.size;
      }
      i++;
      j++;
    }
  }
  return d;
}

/**
 * diffEntries of two packed stores (a 1M-entry tree's manifest against its record's): the same walk on their
 * columns, an object made only for an entry that is listed (added, removed, modified). Read through the list
 * views, each step made two objects and their path strings, 2M of them at 1M entries, and the listed ones were
 * promoted among them.
 */
export function diffPacked(label: string, before: PackedEntries, after: PackedEntries): TreeDiff {
  const d: TreeDiff = { label, added: [], removed: [], modified: [], unchanged: 0, bytesAdded: 0, bytesModified: 0, bytesRemoved: 0 };
  let i = 0;
  let j = 0;
  // The removed entries' indexes: many of them (files removed from a large tree) are kept as a store of their own.
  let removed = new Int32Array(1024);
  let removedCount = 0;
  while (i < before.length || j < after.length) {
    const c = i < before.length && j < after.length ? before.comparePath(i, after, j) : i < before.length ? -1 : 1;
    if (c < 0) {
      if (removedCount === removed.length) {
        const bigger = new Int32Array(removed.length * 2);
        bigger.set(removed);
        removed = bigger;
      }
      removed[removedCount++] = i;
      d.bytesRemoved += before.size(i);
      i++;
    } else if (c > 0) {
      d.added.push(listedEntry(after, j));
      d.bytesAdded += after.size(j);
      j++;
    } else {
      if (before.sameEntryAs(i, after, j)) d.unchanged++;
      else {
        d.modified.push({ before: listedEntry(before, i), after: listedEntry(after, j) });
        d.bytesModified += after.size(j);
      }
      i++;
      j++;
    }
  }
  const order = removed.subarray(0, removedCount);
  if (removedCount >= packedDiff.minRemoved) d.removed = packedList(before.subset(order));
  else for (const k of order) d.removed.push(listedEntry(before, k));
  return d;
}

/**
 * From how many removed entries a packed diff lists them as a packed store (read-only, an object made per read):
 * 100k removed files as objects were about 14 MiB held through the plan's last step and `diff`'s layer table.
 */
export const packedDiff = { minRemoved: 16_384 };

/**
 * `p.entry(i)`, made at an allocation site of its own: the listed entries are kept (100k removed ones after a 10 %
 * removal), and V8 pretenures what a site makes once most of it survives. Made by `entry` itself, they had every
 * later `entry` (the record's writer: 1M objects, each dead at once) allocated in the old generation, about 100 MiB
 * of garbage between its full collections.
 */
function listedEntry(p: PackedEntries, i: number): FileEntry {
  const e: FileEntry = { path: p.path(i), type: p.type(i), mode: p.mode(i), size: p.size(i) };
  const h = p.xxh64(i);
  if (h !== undefined) e.xxh64 = h;
  const t = p.linkTarget(i);
  if (t !== undefined) e.linkTarget = t;
  return e;
}

/**
 * diffEntries with `before` walked once, one entry at a time (the entries a tree's layers unpack to, made as they
 * are read: a 1M-entry tree's as a list were 1M objects held at once). The same lists, in the same order.
 */
export function diffEntriesOf(label: string, before: Iterable<FileEntry>, after: readonly FileEntry[]): TreeDiff {
  const d: TreeDiff = { label, added: [], removed: [], modified: [], unchanged: 0, bytesAdded: 0, bytesModified: 0, bytesRemoved: 0 };
  let j = 0;
  let b = after[0];
  for (const a of before) {
    while (b && compareBytewise(a.path, b.path) > 0) {
      d.added.push(b);
      d.bytesAdded += b.size;
      b = after[++j];
    }
    if (b && compareBytewise(a.path, b.path) === 0) {
      if (sameEntry(a, b)) d.unchanged++;
      else {
        d.modified.push({ before: a, after: b });
        d.bytesModified += b.size;
      }
      b = after[++j];
    } else {
      d.removed.push(a);
      d.bytesRemoved += a.size;
    }
  }
  for (; b; b = after[++j]) {
    d.added.push(b);
    d.bytesAdded += b.size;
  }
  return d;
}

export function manifestLabel(m: Pick<TreeManifest, 'tree' | 'platform'>): string {
  return m.platform ? `${m.tree} ${m.platform}` : m.tree;
}

/** Pairs manifests by tree and platform; a tree present on one side only is all added or all removed. */
export function diffManifests(before: readonly TreeManifest[], after: readonly TreeManifest[]): TreeDiff[] {
  const labels: string[] = [];
  const a = new Map<string, TreeManifest>();
  const b = new Map<string, TreeManifest>();
  for (const m of before) {
    a.set(manifestLabel(m), m);
    labels.push(manifestLabel(m));
  }
  for (const m of after) {
    b.set(manifestLabel(m), m);
    if (!a.has(manifestLabel(m))) labels.push(manifestLabel(m));
  }
  return labels.map((l) => {
    const x = a.get(l);
    const y = b.get(l);
    // Same digest ⇒ same entries: skip the walk.
    const d: TreeDiff =
      x && y && x.digest === y.digest
        ? { label: l, added: [], removed: [], modified: [], unchanged: y.entries.length, bytesAdded: 0, bytesModified: 0, bytesRemoved: 0 }
        : diffEntries(l, x?.entries ?? [], y?.entries ?? []);
    if (x?.chunks || y?.chunks) d.files = chunkedFileCounts(d, x, y);
    return x && y ? Object.assign(d, chunkingChange(x, y, d)) : d;
  });
}

export function hasChanges(d: TreeDiff): boolean {
  return d.added.length + d.removed.length + d.modified.length > 0;
}
