// A packed store's entries as a `FileEntry[]` for every reader of `TreeManifest.entries` (issue 17 item 2;
// docs/architecture.md "Memory of a cold build", round 6). The list is a read-only view: `list[i]` makes entry i's
// object from the columns when it is read, and nothing keeps it, so a reader that walks 1M entries holds one at a
// time, not 1M objects and their path strings. The cold build's own steps (plan, layer writer, digests) read the
// store itself (`packedStoreOf`), without an object per entry at all.
//
// An entry read twice is two equal objects, not one: code that needs identity or writes entries takes the store's
// objects instead (`PackedEntries.materialize`, kept in step with the store).
import type { FileEntry } from '../types.js';
import type { PackedEntries } from './packed-entries.js';

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

/** The entries of `list` one at a time: from a packed store's columns without the view's per-read cost. */
export function* eachEntry(list: readonly FileEntry[]): Generator<FileEntry> {
  const store = packedStoreOf(list);
  if (!store) {
    yield* list;
    return;
  }
  for (let i = 0; i < store.length; i++) yield store.entry(i);
}

/**
 * A list's files and the bytes of its entries: a packed store's totals from its columns (its other entries hold
 * 0 bytes), else counted. Readers ask this rather than telling the two kinds of list apart themselves.
 */
export function totalsOf(list: readonly FileEntry[]): { files: number; bytes: number } {
  const store = packedStoreOf(list);
  if (store) return store.fileTotals();
  let files = 0;
  let bytes = 0;
  for (const e of list) {
    if (e.type === 'file') files++;
    bytes += e.size;
  }
  return { files, bytes };
}

/** Entries other than files of `size` bytes or more, and their bytes: what a tree's cut into layers spreads. */
export function entriesBelowOf(list: readonly FileEntry[], size: number): { entries: number; bytes: number } {
  const store = packedStoreOf(list);
  if (store) return store.entriesBelow(size);
  let entries = 0;
  let bytes = 0;
  for (const e of list) {
    if (e.type === 'file' && e.size >= size) continue;
    entries++;
    bytes += e.size;
  }
  return { entries, bytes };
}
