// A chunked tree's diff as the user's files: its layers hold chunks named by hash and a recipe per big file, but a
// build engineer changed `paks/a.pak`, not "3 entries added, 2 removed". Counted here: each chunked file once (by
// its recipe entry, at the file's own size from the manifest's recipe list), the tree's other files as they are,
// and nothing else under the chunks folder.
import { inChunkStore, recipeFileOf } from '../chunk/recipe.js';
import type { FileEntry, TreeManifest } from '../types.js';

export interface FileCounts {
  added: number;
  modified: number;
  removed: number;
  unchanged: number;
  bytesAdded: number;
  bytesModified: number;
  bytesRemoved: number;
}

/** An entry the user knows as a file or folder of the tree: anything outside the chunks folder, or a recipe file. */
export function isUserEntry(e: FileEntry): boolean {
  if (!inChunkStore(e.path)) return true;
  return e.type === 'file' && recipeFileOf(e.path) !== undefined;
}

/** A chunked file's own size, from the manifest's recipe list; the recipe entry's size in records made before it. */
function sizeIn(m: TreeManifest | undefined): (e: FileEntry) => number {
  const sizes = new Map((m?.recipes ?? []).map((r) => [r.path, r.size]));
  return (e) => {
    const f = recipeFileOf(e.path);
    return f === undefined ? e.size : (sizes.get(f) ?? e.size);
  };
}

/** The entry lists of a tree diff (diff.ts's TreeDiff, named here by shape: diff.ts imports this module). */
export interface EntryChanges {
  added: readonly FileEntry[];
  removed: readonly FileEntry[];
  modified: readonly { before: FileEntry; after: FileEntry }[];
}

export function chunkedFileCounts(d: EntryChanges, before: TreeManifest | undefined, after: TreeManifest | undefined): FileCounts {
  const sizeBefore = sizeIn(before);
  const sizeAfter = sizeIn(after);
  const added = d.added.filter(isUserEntry);
  const removed = d.removed.filter(isUserEntry);
  const modified = d.modified.filter((m) => isUserEntry(m.after));
  const shownAfter = after ? after.entries.reduce((n, e) => n + (isUserEntry(e) ? 1 : 0), 0) : 0;
  return {
    added: added.length,
    modified: modified.length,
    removed: removed.length,
    unchanged: shownAfter - added.length - modified.length,
    bytesAdded: added.reduce((n, e) => n + sizeAfter(e), 0),
    bytesModified: modified.reduce((n, m) => n + sizeAfter(m.after), 0),
    bytesRemoved: removed.reduce((n, e) => n + sizeBefore(e), 0),
  };
}
