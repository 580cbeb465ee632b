// A patch layer written straight into a packed store (issue 17 item 2): a removal of 100k files from a 1M-entry
// tree made 100k whiteout objects, their path strings and a map of every one, held beside the two 1M-entry stores
// through the plan. Here the whiteouts go into the store's columns one at a time (one reused object), and only the
// folders and the few added or modified entries are objects. The layer's entries equal `patchLayer`'s object form
// in order and content (test/packed-patch.test.ts holds the two equal).
import { PackedEntries } from '../entries/packed-entries.js';
import { packedList } from '../entries/packed-list.js';
import { EMPTY_XXH64 } from '../scan/hash.js';
import type { FileEntry } from '../types.js';
import { WHITEOUT_PREFIX } from '../util/whiteout.js';

/**
 * The entries of a patch as a packed list in manifest order: `kept` (added and modified, as they are), a whiteout
 * per path of `whiteouts`, and every folder those lie in (the tree's own folder entry where it has one, `dirs`).
 */
export function packedPatchEntries(kept: readonly FileEntry[], whiteouts: Iterable<string>, dirs: ReadonlyMap<string, FileEntry>): FileEntry[] {
  const store = new PackedEntries();
  const listed = new Set<string>();
  for (const e of kept) {
    store.append(e);
    listed.add(e.path);
  }
  // One object for all whiteouts: `append` copies its fields into the columns.
  const wh: FileEntry = { path: '', type: 'file', mode: 0o644, size: 0, xxh64: EMPTY_XXH64 };
  for (const p of whiteouts) {
    const slash = p.lastIndexOf('/');
    wh.path = `${p.slice(0, slash + 1)}${WHITEOUT_PREFIX}${p.slice(slash + 1)}`;
    store.append(wh);
  }
  // The folders entries lie in, and theirs: each one the store lists (a few, not one per entry).
  const parents = new Set<string>();
  for (const f of [...store.folderPaths()]) {
    for (let p = f; p !== '' && !parents.has(p); p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) parents.add(p);
  }
  for (const p of parents) if (!listed.has(p)) store.append(dirs.get(p) ?? { path: p, type: 'dir', mode: 0o755, size: 0 });
  return packedList(store.seal().sorted());
}
