// A rescan of a large tree (its stat cache holding it) with `packWarm` (a build's) keeps its entries in a packed
// store: the manifest, the stats and the stat cache it saves are the object path's, byte for byte; the files the
// cache vouches for are not read, an edited and an added file are. The size from which it packs is lowered to 0.
import { cp, readFile, readdir, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packedStoreOf } from '../src/entries/packed-list.js';
import { packedScan, scanTree } from '../src/scan/scan.js';
import { tempDir } from './support/tmp.js';

const ALL = { include: ['**'], exclude: [] };
const DEFAULT_MIN = packedScan.minHashedEntries;
afterEach(() => {
  packedScan.minHashedEntries = DEFAULT_MIN;
});

async function statCaches(stateDir: string): Promise<string[]> {
  const dir = path.join(stateDir, 'cache', 'stat');
  return Promise.all((await readdir(dir)).sort().map((f) => readFile(path.join(dir, f), 'utf8')));
}

describe('a rescan with packWarm', () => {
  it('gives the object path manifest, stats and stat cache from a packed store', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    for (let d = 0; d < 3; d++) {
      await mkdir(path.join(root, `d${d}`, 'sub'), { recursive: true });
      for (let i = 0; i < 20; i++) await writeFile(path.join(root, `d${d}`, i % 3 ? 'sub' : '', `f${i}.dat`), `file ${d} ${i}\n`.repeat(i));
    }
    // Old enough that the stat cache keeps every file.
    const old = new Date(Date.now() - 3600_000);
    const touchAll = async (p: string): Promise<void> => {
      for (const e of await readdir(p, { withFileTypes: true })) {
        const f = path.join(p, e.name);
        if (e.isDirectory()) await touchAll(f);
        await utimes(f, old, old);
      }
    };
    await touchAll(root);
    const cold = path.join(dir, 'cold-state');
    await scanTree('app', root, ALL, { stateDir: cold });
    await writeFile(path.join(root, 'd1', 'sub', 'f4.dat'), 'edited\n');
    await writeFile(path.join(root, 'd2', 'new.dat'), 'added\n');
    const rescan = async (packWarm: boolean) => {
      const stateDir = path.join(dir, `state-${packWarm}`);
      await cp(cold, stateDir, { recursive: true });
      packedScan.minHashedEntries = 0;
      const s = await scanTree('app', root, ALL, { stateDir, packWarm });
      return { s, caches: await statCaches(stateDir) };
    };
    const objects = await rescan(false);
    const packed = await rescan(true);
    expect(packedStoreOf(objects.s.manifest.entries)).toBeUndefined();
    expect(packedStoreOf(packed.s.manifest.entries)).toBeDefined();
    expect(JSON.stringify(packed.s.manifest)).toBe(JSON.stringify(objects.s.manifest));
    const { ms: _a, ...statsPacked } = packed.s.stats;
    const { ms: _b, ...statsObjects } = objects.s.stats;
    expect(statsPacked).toEqual(statsObjects);
    expect(statsPacked).toMatchObject({ hashedFiles: 2, cacheHits: 59 });
    expect(packed.caches).toEqual(objects.caches);
    await rm(dir, { recursive: true, force: true });
  });
});
