// Issue 17, memory: once a cold build's scan reserved every file, the stat cache moves their stats (mtime, ctime,
// inode: 24 bytes a file, 24 MiB at 1M files) to a temp file read back a page at a time. The same stats come back
// and the same cache is saved, byte for byte; the memory goes, and no file is left behind.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatCache, type ReservedFile, type StatKey } from '../src/scan/stat-cache.js';
import { tempDir } from './support/tmp.js';

const BASE = 1_700_000_000_000;

async function reserved(file: string, n: number): Promise<{ cache: StatCache; keys: StatKey[] }> {
  const cache = await StatCache.open(file);
  const files: ReservedFile[] = [];
  for (let i = 0; i < n; i++) files.push({ path: `d${i % 7}/f${i}`, size: i % 5, xxh64: (0x1000000000000000 + i).toString(16) });
  cache.attach(files);
  const keys: StatKey[] = [];
  for (let i = 0; i < n; i++) {
    const k: StatKey = [i % 5, BASE + i * 1.25, BASE + i * 1.5 + 0.000123, 2 ** 40 + i];
    keys.push(k);
    cache.reserve(i, k);
  }
  return { cache, keys };
}

describe('stat cache: reserved stats moved to a file', () => {
  it('gives back every stat, in any order, and saves the same bytes as a cache that kept them in memory', async () => {
    const dir = await tempDir();
    const n = 3000; // several pages, more than the pages held would be for a smaller page count
    const kept = await reserved(path.join(dir, 'kept.json'), n);
    const spilled = await reserved(path.join(dir, 'spilled.json'), n);
    spilled.cache.spillReserved(0);
    // The temp file is removed at once: only the open file holds it.
    expect((await readdir(dir)).filter((f) => f.includes('.keys.'))).toEqual([]);
    for (const slot of [0, n - 1, 1500, 1, 2999, 511, 512, 1023, 1024]) expect(spilled.cache.reservedKey(slot)).toEqual(spilled.keys[slot]);
    for (let slot = n - 1; slot >= 0; slot -= 3) expect(spilled.cache.reservedKey(slot)).toEqual(spilled.keys[slot]);
    // Hashed later, some under another stat (written back to the file when their page leaves memory).
    for (const c of [kept, spilled]) {
      for (let slot = 0; slot < n; slot++) {
        const k: StatKey = slot % 10 === 0 ? [slot % 5, BASE - 5000, BASE + 7.5, 42] : c.keys[slot]!;
        c.cache.record(slot, k, BASE * 2);
      }
    }
    expect(() => spilled.cache.reserve(0, spilled.keys[0]!)).toThrow(/after the reserved stats were moved/);
    await kept.cache.save();
    await spilled.cache.save();
    const a = await readFile(path.join(dir, 'kept.json'), 'utf8');
    expect(await readFile(path.join(dir, 'spilled.json'), 'utf8')).toBe(a);
    expect(a).toContain('"ctime":[');
  });

  it('keeps fewer than statSpill.minFiles reserved files in memory', async () => {
    const dir = await tempDir();
    const { cache, keys } = await reserved(path.join(dir, 'small.json'), 10);
    cache.spillReserved();
    expect(cache.reservedKey(9)).toEqual(keys[9]);
    await cache.save();
    // A closed spill would throw here: the small cache still answers after its save.
    expect(cache.reservedKey(3)).toEqual(keys[3]);
  });

  it('frees the stats from memory: 3 × 300k reserved files hold about 18 MiB less of array buffers once moved', () => {
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/support/stat-cache-spill-probe.ts', '300000'], {
      cwd: path.join(import.meta.dirname, '..'),
    }).toString();
    const { before, after } = JSON.parse(out) as { before: number; after: number };
    // 300k × 24 bytes = 6.9 MiB in each of 3 caches, less the 1 MiB of pages each holds in memory.
    expect(before - after).toBeGreaterThan(3 * (300_000 * 24 - (1 << 20)) * 0.9);
  }, 60_000);
});
