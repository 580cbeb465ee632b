// What the plan, the layer writer, the digests and the pending hashes ask of a tree's entries, however they are held
// (a packed store's columns or a list of objects; `entrySourceOf` in packed-list.ts picks). A module of its own so
// that both kinds can name it without importing each other.
import type { Hash } from 'node:crypto';
import type { FileEntry } from '../types.js';

/**
 * A tree's entries in manifest order, however they are held: what the plan, the layer writer, the digests and the
 * pending hashes ask of them. `PackedEntries` answers from its columns; `ListEntries` from a list of objects.
 */
export interface EntrySource {
  readonly length: number;
  path(i: number): string;
  type(i: number): FileEntry['type'];
  size(i: number): number;
  xxh64(i: number): string | undefined;
  /** True when entry i is `entry`: the same object in a list, the same path in a store (its objects are made per read). */
  holds(i: number, entry: FileEntry): boolean;
  setXxh64(i: number, xxh64: string | undefined): void;
  /** Sets entry i's size and mode (a file that changed while the scan hashed it, hashed again as it is now). */
  setSizeAndMode(i: number, size: number, mode: number): void;
  /**
   * Entry i, a file whose hash is not taken yet, now reads as `mark` (a scan's pending mark, src/scan/pending.ts);
   * false when it is no such file. A store has one mark for all its pending files.
   */
  markPending(i: number, mark: string): boolean;
  /** The entries one at a time, in order (a store's made from its columns, without the list view's per-read cost). */
  each(): Iterable<FileEntry>;
  /** The entries as objects that keep their identity: the list itself, or the store's objects kept in step with it. */
  materialize(): FileEntry[];
  /** Files, and the bytes of the entries (a store's other entries hold 0 bytes). */
  fileTotals(): { files: number; bytes: number };
  /** Entries other than files of `size` bytes or more, and their bytes: what a tree's cut into layers spreads. */
  entriesBelow(size: number): { entries: number; bytes: number };
  /** True when some file has at least `size` bytes. */
  hasFileOf(size: number): boolean;
  /** Entries other than folders (files and links), and their bytes: what a layer shows of them when all are live. */
  nonFolderTotals(): { entries: number; bytes: number };
  /** True while some entry still waits for its hash (`isPendingHash`). */
  hasPending(): boolean;
  /** Every folder an entry lies in is itself an entry (or the root): a layer of all of them needs no folder added. */
  listsEveryFolder(): boolean;
  /** `hashEntries` of the entries: every entry's `encodeEntry` line fed to `h`, in chunks. */
  hashLines(h: Hash): Hash;
}
