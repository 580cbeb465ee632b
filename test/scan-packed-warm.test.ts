// A rescan of a large tree (its stat cache holding it) with `packWarm` (a build's) keeps its entries in a packed
// store: the manifest, the stats and the stat cache it saves are the object path's, byte for byte; the files the
// cache vouches for are not read, an edited and an added file are. The size from which it packs is lowered to 0.
import { chmod, cp, readFile, readdir, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PackedEntries } from '../src/entries/packed-entries.js';
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

/** A tree of 60 files in 3 folders, old enough that the stat cache keeps every file. */
async function makeTree(root: string): Promise<void> {
  for (let d = 0; d < 3; d++) {
    await mkdir(path.join(root, `d${d}`, 'sub'), { recursive: true });
    for (let i = 0; i < 20; i++) await writeFile(path.join(root, `d${d}`, i % 3 ? 'sub' : '', `f${i}.dat`), `file ${d} ${i}\n`.repeat(i));
  }
  const old = new Date(Date.now() - 3600_000);
  const touchAll = async (p: string): Promise<void> => {
    for (const e of await readdir(p, { withFileTypes: true })) {
      const f = path.join(p, e.name);
      if (e.isDirectory()) await touchAll(f);
      await utimes(f, old, old);
    }
  };
  await touchAll(root);
}

/** Every file's ctime moved (its mode written again): each stored row misses, as in a fresh checkout. */
async function newCtimes(p: string): Promise<void> {
  for (const e of await readdir(p, { withFileTypes: true })) {
    const f = path.join(p, e.name);
    if (e.isDirectory()) await newCtimes(f);
    else await chmod(f, 0o644);
  }
}

// A build with a previous build hashes in the scan (packHashes answers false), also when the stat cache holds
// nothing for this source folder (a checkout in another folder, a CI host) or only stale rows: its entries stay
// packed. A first scan materialized its cold store into an object per entry (1M entries: 493-505 MiB peak RSS).
describe('a scan that hashes every file, with packWarm', () => {
  const scanBoth = async (dir: string, root: string, state?: string) => {
    const run = async (packWarm: boolean) => {
      const stateDir = path.join(dir, `state-${packWarm}`);
      if (state) await cp(state, stateDir, { recursive: true });
      packedScan.minHashedEntries = 0;
      const s = await scanTree('app', root, ALL, { stateDir, packWarm, packHashes: () => false });
      return { s, caches: await statCaches(stateDir) };
    };
    return { objects: await run(false), packed: await run(true) };
  };

  it('keeps a first scan packed: the object path manifest, stats and stat cache', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    await makeTree(root);
    const { objects, packed } = await scanBoth(dir, root);
    expect(packedStoreOf(objects.s.manifest.entries)).toBeUndefined();
    expect(packedStoreOf(packed.s.manifest.entries)).toBeDefined();
    expect(packed.s.manifest.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(packed.s.manifest)).toBe(JSON.stringify(objects.s.manifest));
    const { ms: _a, ...statsPacked } = packed.s.stats;
    const { ms: _b, ...statsObjects } = objects.s.stats;
    expect(statsPacked).toEqual(statsObjects);
    expect(statsPacked).toMatchObject({ hashedFiles: 60, cacheHits: 0 });
    expect(packed.caches).toEqual(objects.caches);
    expect(packed.caches).toHaveLength(1);
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a rescan whose every stored row is stale packed, and saves the same stat cache as a first scan', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    await makeTree(root);
    const fresh = path.join(dir, 'fresh-state');
    await scanTree('app', root, ALL, { stateDir: fresh });
    const stale = path.join(dir, 'stale-state');
    await cp(fresh, stale, { recursive: true });
    await newCtimes(root);
    const first = await scanTree('app', root, ALL, { stateDir: path.join(dir, 'first-state'), packWarm: true, packHashes: () => false });
    const { objects, packed } = await scanBoth(dir, root, stale);
    expect(packedStoreOf(packed.s.manifest.entries)).toBeDefined();
    expect(JSON.stringify(packed.s.manifest)).toBe(JSON.stringify(objects.s.manifest));
    expect(JSON.stringify(packed.s.manifest)).toBe(JSON.stringify(first.manifest));
    expect(packed.s.stats).toMatchObject({ hashedFiles: 60, cacheHits: 0 });
    expect(packed.caches).toEqual(objects.caches);
    expect(packed.caches).toEqual(await statCaches(path.join(dir, 'first-state')));
    expect(packed.caches).not.toEqual(await statCaches(stale));
    await rm(dir, { recursive: true, force: true });
  });
});

describe('a rescan with packWarm', () => {
  it('gives the object path manifest, stats and stat cache from a packed store', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    await makeTree(root);
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

// A rescan whose stat cache held a large tree (stop 43): the walk fills a store from its first entry, its columns
// sized once for the cache's rows (the first 128Ki entries were objects, moved into a store that then doubled its
// columns, each doubling a copy beside the last: the walk's peak at 1M files). A tree that shrank below the bound
// gives its objects, as before.
describe('a rescan with packWarm whose stat cache held a large tree', () => {
  const rescanOf = async (dir: string, root: string, cold: string, name: string, min: number, packWarm: boolean) => {
    const stateDir = path.join(dir, name);
    await cp(cold, stateDir, { recursive: true });
    packedScan.minHashedEntries = min;
    const s = await scanTree('app', root, ALL, { stateDir, packWarm });
    return { s, caches: await statCaches(stateDir) };
  };

  it('walks into a store with room for the cached rows from the start: the object path manifest and stat cache', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    await makeTree(root);
    const cold = path.join(dir, 'cold-state');
    await scanTree('app', root, ALL, { stateDir: cold });
    await writeFile(path.join(root, 'd0', 'new.dat'), 'added\n');
    // Each reserve: the room asked for and the entries the store held then.
    const reserved: [number, number][] = [];
    const original = PackedEntries.prototype.reserve;
    const reserve = vi.spyOn(PackedEntries.prototype, 'reserve').mockImplementation(function (this: PackedEntries, n: number) {
      reserved.push([n, this.length]);
      return original.call(this, n);
    });
    let packed;
    try {
      packed = await rescanOf(dir, root, cold, 'packed', 40, true);
      // Reserved before any entry went in: room for the 60 cached rows and a little more, never doubled.
      expect(reserved).toHaveLength(1);
      expect(reserved[0]![0]).toBeGreaterThanOrEqual(60);
      expect(reserved[0]![1]).toBe(0);
    } finally {
      reserve.mockRestore();
    }
    const objects = await rescanOf(dir, root, cold, 'objects', 40, false);
    expect(packedStoreOf(packed.s.manifest.entries)).toBeDefined();
    expect(packedStoreOf(objects.s.manifest.entries)).toBeUndefined();
    expect(JSON.stringify(packed.s.manifest)).toBe(JSON.stringify(objects.s.manifest));
    expect(packed.s.stats).toMatchObject({ hashedFiles: 1, cacheHits: 60 });
    expect(packed.caches).toEqual(objects.caches);
    await rm(dir, { recursive: true, force: true });
  });

  it('gives objects for a tree that shrank below the bound, the same manifest and stat cache', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    await makeTree(root);
    const cold = path.join(dir, 'cold-state');
    await scanTree('app', root, ALL, { stateDir: cold });
    await rm(path.join(root, 'd1'), { recursive: true });
    await rm(path.join(root, 'd2'), { recursive: true });
    // 60 rows cached, 22 entries now (20 files, 2 folders), the bound 40 between.
    const packed = await rescanOf(dir, root, cold, 'packed', 40, true);
    const objects = await rescanOf(dir, root, cold, 'objects', 40, false);
    expect(packed.s.manifest.entries).toHaveLength(22);
    expect(packedStoreOf(packed.s.manifest.entries)).toBeUndefined();
    expect(JSON.stringify(packed.s.manifest)).toBe(JSON.stringify(objects.s.manifest));
    expect(packed.s.stats).toMatchObject({ hashedFiles: 0, cacheHits: 20 });
    expect(packed.caches).toEqual(objects.caches);
    await rm(dir, { recursive: true, force: true });
  });
});
