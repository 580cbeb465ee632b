// The two kinds of entry list (a list of objects, a packed store behind its list view) answer the one interface the
// plan, the layer writer, the digests and the pending hashes read (src/entries/entry-source.ts `EntrySource`) alike.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeEntry } from '../src/scan/manifest.js';
import { PackedEntries } from '../src/entries/packed-entries.js';
import { entrySourceOf, isPendingHash, packedList, type EntrySource } from '../src/entries/packed-list.js';
import type { FileEntry } from '../src/types.js';

function sample(): FileEntry[] {
  return [
    { path: 'a', type: 'dir', mode: 0o755, size: 0 },
    { path: 'a/big', type: 'file', mode: 0o644, size: 5000, xxh64: '0123456789abcdef' },
    { path: 'a/pending', type: 'file', mode: 0o644, size: 7, xxh64: '' },
    { path: 'a/x "q"', type: 'file', mode: 0o755, size: 3, xxh64: 'fedcba9876543210' },
    { path: 'l', type: 'symlink', mode: 0o777, size: 0, linkTarget: 'a/x "q"' },
  ];
}

/** Both kinds over equal entries: the list of objects, and a packed store's list view. */
function both(entries: () => FileEntry[]): { name: string; list: FileEntry[]; source: EntrySource }[] {
  const objects = entries();
  const view = packedList(PackedEntries.from(entries()));
  return [
    { name: 'objects', list: objects, source: entrySourceOf(objects) },
    { name: 'packed', list: view, source: entrySourceOf(view) },
  ];
}

const digest = (s: EntrySource) => s.hashLines(createHash('sha256')).digest('hex');

describe('entry source', () => {
  it('answers reads, totals, sizes and the digest lines alike for both kinds', () => {
    const [objects, packed] = both(sample);
    expect(packed!.source).toBeInstanceOf(PackedEntries);
    expect(objects!.source).not.toBeInstanceOf(PackedEntries);
    const lines = createHash('sha256').update(sample().map(encodeEntry).join('')).digest('hex');
    for (const { source } of [objects!, packed!]) {
      expect(source.length).toBe(5);
      expect([...source.each()]).toEqual(sample());
      expect([0, 1, 2, 3, 4].map((i) => [source.path(i), source.type(i), source.size(i), source.xxh64(i)])).toEqual(sample().map((e) => [e.path, e.type, e.size, e.xxh64]));
      expect(source.fileTotals()).toEqual({ files: 3, bytes: 5010 });
      expect(source.entriesBelow(1000)).toEqual({ entries: 4, bytes: 10 });
      expect(source.hasFileOf(5000)).toBe(true);
      expect(source.hasFileOf(5001)).toBe(false);
      expect(source.listsEveryFolder()).toBe(true);
      expect(digest(source)).toBe(lines);
      expect(source.materialize()).toEqual(sample());
    }
    // The list's objects are its own; a store's are made once and kept.
    expect(objects!.source.materialize()).toBe(objects!.list);
    expect(packed!.source.materialize()).toBe(packed!.source.materialize());
  });

  it('tells a list that lacks a folder of its entries', () => {
    const lacking = () => sample().filter((e) => e.path !== 'a');
    for (const { source } of both(lacking)) expect(source.listsEveryFolder()).toBe(false);
    // A folder listed only as a file is not listed.
    const asFile = () => [{ path: 'd', type: 'file' as const, mode: 0o644, size: 0, xxh64: '0123456789abcdef' }, { path: 'd/e', type: 'file' as const, mode: 0o644, size: 0, xxh64: '0123456789abcdef' }];
    for (const { source } of both(asFile)) expect(source.listsEveryFolder()).toBe(false);
  });

  it('marks only files waiting for their hash pending, and fills them', () => {
    for (const { name, list, source } of both(sample)) {
      expect([0, 1, 3, 4].map((i) => source.markPending(i, '~7')), name).toEqual([false, false, false, false]);
      expect(source.hasPending(), name).toBe(name === 'packed'); // a store's unhashed file reads as its mark ('')
      expect(source.markPending(2, '~7'), name).toBe(true);
      expect(source.xxh64(2)).toBe('~7');
      expect(isPendingHash(list[2]!)).toBe(true);
      expect(source.hasPending()).toBe(true);
      // Found again by the layer writer's entry: the same object in a list, the same path in a store.
      expect(source.holds(2, list[2]!), name).toBe(true);
      expect(source.holds(3, list[2]!), name).toBe(false);
      source.setXxh64(2, '00000000000000ff');
      expect(source.hasPending()).toBe(false);
      expect(list[2]!.xxh64).toBe('00000000000000ff');
    }
  });
});
