// A packed store given its room up front (`reserve`: a record's list, whose count is known before its entries) holds
// what one grown entry by entry holds, whatever room it was given; a record's list packed with its count is the same.
import { describe, expect, it } from 'vitest';
import { PackedEntries, packedDigest } from '../src/entries/packed-entries.js';
import { packedFromBatches } from '../src/state/record-parse.js';
import type { FileEntry } from '../src/types.js';

const EMPTY = 'ef46db3751d8e999';
const ENTRIES: FileEntry[] = [
  { path: 'a', type: 'dir', mode: 493, size: 0 },
  { path: 'a/b', type: 'dir', mode: 493, size: 0 },
  { path: 'a/b/c', type: 'file', mode: 420, size: 0, xxh64: EMPTY },
  { path: 'a/bc', type: 'file', mode: 493, size: 12, xxh64: '00000000000000ff' },
  { path: 'a/ln', type: 'symlink', mode: 511, size: 0, linkTarget: '../ü "x"' },
  { path: 'ab', type: 'file', mode: 420, size: 3, xxh64: 'not-a-hex-hash' },
  { path: 'ü/日本', type: 'file', mode: 420, size: 1, xxh64: '0123456789abcdef' },
];

describe('a packed store given its room up front', () => {
  it('holds what a store grown entry by entry holds, whatever room it was given', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ENTRIES[i % ENTRIES.length]!).map((e, i) => ({ ...e, path: `${e.path}${String(i).padStart(5, '0')}` }));
    const grown = PackedEntries.from(many);
    for (const room of [0, 1, 2999, 3000, 3001, 10_000]) {
      const p = new PackedEntries().reserve(room);
      for (const e of many) p.append(e);
      p.seal();
      expect(packedDigest(p), `${room}`).toBe(packedDigest(grown));
      expect([...p.each()], `${room}`).toEqual(many);
      expect(p.columnBytes, `${room}`).toBe(grown.columnBytes);
    }
    // Room asked for after some entries are in keeps them.
    const half = new PackedEntries();
    for (const e of many.slice(0, 1500)) half.append(e);
    half.reserve(3000);
    for (const e of many.slice(1500)) half.append(e);
    expect([...half.seal().each()]).toEqual(many);
  });

  it('gives a record\'s list back the same with its count known, too few or too many', () => {
    const batches = [ENTRIES.slice(0, 3), ENTRIES.slice(3)];
    for (const count of [0, 3, ENTRIES.length, 100]) {
      const list = packedFromBatches(batches, count)!;
      expect(JSON.stringify(list), `${count}`).toBe(JSON.stringify(ENTRIES));
    }
  });
});
