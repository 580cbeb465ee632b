// A packed store given its room up front (`reserve`: a record's list, whose count is known before its entries) holds
// what one grown entry by entry holds, whatever room it was given; a record's list packed with its count is the same.
import { describe, expect, it } from 'vitest';
import { PackedEntries, packedDigest } from '../src/entries/packed-entries.js';
import { packedFromBatches } from '../src/state/record-parse.js';
import type { FileEntry } from '../src/types.js';
import { EMPTY_XXH64, ODD_ENTRIES } from './support/odd-entries.js';

const EMPTY = EMPTY_XXH64;
const ENTRIES: FileEntry[] = [...ODD_ENTRIES];

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
