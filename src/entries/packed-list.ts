// A packed store's entries as a `FileEntry[]` for every reader of `TreeManifest.entries` (issue 17 item 2;
// docs/architecture.md "Memory of a cold build", round 6). The list is a read-only view: `list[i]` makes entry i's
// object from the columns when it is read, and nothing keeps it, so a reader that walks 1M entries holds one at a
// time, not 1M objects and their path strings.
//
// An entry read twice is two equal objects, not one: code that needs identity or writes entries takes the store's
// objects instead (`PackedEntries.materialize`, kept in step with the store).
//
// The cold build's own steps (plan, layer writer, digests, pending hashes) read the entries through `EntrySource`
// (`entrySourceOf`), which both kinds of list answer: a packed store from its columns, without an object per entry,
// a list of objects from its objects. Only `entrySourceOf` tells the two apart.
import type { Hash } from 'node:crypto';
import { notePackedList, type FileEntry } from '../types.js';
import type { EntrySource } from './entry-source.js';
import { putHashedLine } from './hashed-lines.js';
import type { PackedEntries } from './packed-entries.js';

export type { EntrySource } from './entry-source.js';

const stores = new WeakMap<object, PackedEntries>();

function indexOf(key: string | symbol): number {
  if (typeof key !== 'string' || key.length === 0 || key.length > 10) return -1;
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57 || (c === 48 && key.length > 1)) return -1;
  const n = Number(key);
  return Number.isInteger(n) ? n : -1;
}

/** The store's entries as a read-only list (`Array.isArray` true; reads, iteration and array methods work). */
export function packedList(store: PackedEntries): FileEntry[] {
  const readOnly = (): never => {
    throw new Error('a packed entry list is read-only');
  };
  const list = new Proxy([] as FileEntry[], {
    get(target, key, receiver) {
      if (key === 'length') return store.length;
      // Taken in batches by the record's writer (jsonChunks): made from the columns, not read through the view.
      if (key === 'slice') return (start?: number, end?: number) => sliceOf(store, start, end);
      const i = indexOf(key);
      if (i >= 0) return i < store.length ? store.entry(i) : undefined;
      return Reflect.get(target, key, receiver);
    },
    has(target, key) {
      const i = indexOf(key);
      return i >= 0 ? i < store.length : Reflect.has(target, key);
    },
    getOwnPropertyDescriptor(target, key) {
      if (key === 'length') return { value: store.length, writable: true, enumerable: false, configurable: false };
      const i = indexOf(key);
      if (i >= 0) return i < store.length ? { value: store.entry(i), writable: false, enumerable: true, configurable: true } : undefined;
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    ownKeys() {
      return [...Array.from({ length: store.length }, (_, i) => String(i)), 'length'];
    },
    set: readOnly,
    defineProperty: readOnly,
    deleteProperty: readOnly,
  });
  stores.set(list, store);
  notePackedList(list);
  return list;
}

/** `Array.prototype.slice` of the store's entries. */
function sliceOf(store: PackedEntries, start = 0, end = store.length): FileEntry[] {
  const n = store.length;
  const from = start < 0 ? Math.max(0, n + start) : Math.min(start, n);
  const to = end < 0 ? Math.max(0, n + end) : Math.min(end, n);
  const out: FileEntry[] = [];
  for (let i = from; i < to; i++) out.push(store.entry(i));
  return out;
}

/** The store behind a list `packedList` made, else undefined (a plain list of objects). */
export function packedStoreOf(list: readonly unknown[]): PackedEntries | undefined {
  return stores.get(list);
}


/** The entries of `list` as an EntrySource: its packed store, or the list of objects itself. */
export function entrySourceOf(list: readonly FileEntry[]): EntrySource {
  return packedStoreOf(list) ?? new ListEntries(list);
}

/** A list of entry objects as an EntrySource: reads go to its objects, writes into them. */
class ListEntries implements EntrySource {
  constructor(private readonly list: readonly FileEntry[]) {}

  get length(): number {
    return this.list.length;
  }

  path(i: number): string {
    return this.list[i]!.path;
  }

  type(i: number): FileEntry['type'] {
    return this.list[i]!.type;
  }

  size(i: number): number {
    return this.list[i]!.size;
  }

  xxh64(i: number): string | undefined {
    return this.list[i]!.xxh64;
  }

  holds(i: number, entry: FileEntry): boolean {
    return this.list[i] === entry;
  }

  setXxh64(i: number, xxh64: string | undefined): void {
    this.list[i]!.xxh64 = xxh64;
  }

  setSizeAndMode(i: number, size: number, mode: number): void {
    const e = this.list[i]!;
    e.size = size;
    e.mode = mode;
  }

  markPending(i: number, mark: string): boolean {
    const e = this.list[i]!;
    if (e.type !== 'file' || e.xxh64 !== '') return false;
    e.xxh64 = mark;
    return true;
  }

  each(): Iterable<FileEntry> {
    return this.list;
  }

  materialize(): FileEntry[] {
    return this.list as FileEntry[];
  }

  fileTotals(): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    for (const e of this.list) {
      if (e.type === 'file') files++;
      bytes += e.size;
    }
    return { files, bytes };
  }

  entriesBelow(size: number): { entries: number; bytes: number } {
    let entries = 0;
    let bytes = 0;
    for (const e of this.list) {
      if (e.type === 'file' && e.size >= size) continue;
      entries++;
      bytes += e.size;
    }
    return { entries, bytes };
  }

  hasFileOf(size: number): boolean {
    return this.list.some((e) => e.type === 'file' && e.size >= size);
  }

  nonFolderTotals(): { entries: number; bytes: number } {
    let entries = 0;
    let bytes = 0;
    for (const e of this.list) {
      if (e.type === 'dir') continue;
      entries++;
      bytes += e.size;
    }
    return { entries, bytes };
  }

  hasPending(): boolean {
    return this.list.some(isPendingHash);
  }

  listsEveryFolder(): boolean {
    const listed = new Set<string>(['']);
    for (const e of this.list) if (e.type !== 'file') listed.add(e.path);
    return this.list.every((e) => listed.has(e.path.slice(0, Math.max(0, e.path.lastIndexOf('/')))));
  }

  hashLines(h: Hash): Hash {
    // In chunks of lines (one native call per entry costs more than the hashing), written into one buffer: a string
    // grown line by line was a chain of pieces that outlived young collections, and the planning of a 1M-entry
    // game (every layer's key, the previous build's checked) left about 1 GiB of it for full collections to find.
    const out = Buffer.allocUnsafe(1 << 16);
    let at = 0;
    for (const e of this.list) at = putHashedLine(h, out, at, encodeEntry(e));
    return h.update(out.subarray(0, at));
  }
}

/** One line per entry; JSON so that no path character can make two encodings collide. */
export function encodeEntry(e: FileEntry): string {
  // The bytes of JSON.stringify([path, type, mode, size, xxh64, linkTarget]) + "\n", built without the array:
  // type is a fixed word and xxh64 hex digits, so only the path and link target need JSON's escaping.
  return `[${JSON.stringify(e.path)},"${e.type}",${e.mode},${e.size},"${e.xxh64 ?? ''}",${e.linkTarget === undefined ? '""' : JSON.stringify(e.linkTarget)}]\n`;
}

/** First character of a pending entry's `xxh64` (src/scan/pending.ts): never a hex digit, so no source takes it for a hash. */
export const PENDING_MARK = '~';

/** True while `entry` waits for the layer writer's hash (see PendingHashes). */
export function isPendingHash(entry: Pick<FileEntry, 'xxh64'>): boolean {
  return entry.xxh64 !== undefined && entry.xxh64.charCodeAt(0) === 126;
}

/** The entries of `list` one at a time: from a packed store's columns without the view's per-read cost. */
export function eachEntry(list: readonly FileEntry[]): Iterable<FileEntry> {
  return entrySourceOf(list).each();
}

/** A list's files and the bytes of its entries (`EntrySource.fileTotals`). */
export function totalsOf(list: readonly FileEntry[]): { files: number; bytes: number } {
  return entrySourceOf(list).fileTotals();
}

/** A list's files and links, and their bytes (`EntrySource.nonFolderTotals`). */
export function nonFolderTotalsOf(list: readonly FileEntry[]): { entries: number; bytes: number } {
  return entrySourceOf(list).nonFolderTotals();
}

/** True when some file of the list has at least `size` bytes (`EntrySource.hasFileOf`). */
export function hasFileOf(list: readonly FileEntry[], size: number): boolean {
  return entrySourceOf(list).hasFileOf(size);
}

/** Entries other than files of `size` bytes or more, and their bytes (`EntrySource.entriesBelow`). */
export function entriesBelowOf(list: readonly FileEntry[], size: number): { entries: number; bytes: number } {
  return entrySourceOf(list).entriesBelow(size);
}
