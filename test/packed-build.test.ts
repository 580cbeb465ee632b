// Issue 17 item 2: a cold build keeps a large tree's entries in the packed store (src/entries/packed-entries.ts) from
// the walk to the record, read through a list view (src/entries/packed-list.ts). Lowering the size from which it does
// so to 0 sends the sample game through that path: the layers, images, record, manifests and stat caches must be
// the ones the object path writes, byte for byte; and no step may turn the whole tree into objects on the way.
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { build } from '../src/pipeline/build.js';
import { PackedEntries } from '../src/entries/packed-entries.js';
import { entriesBelowOf, packedList, packedStoreOf, totalsOf } from '../src/entries/packed-list.js';
import { packedScan } from '../src/scan/scan.js';
import { awkwardGame } from './support/awkward-game.js';
import { tempDir } from './support/tmp.js';

const DEFAULT_MIN = packedScan.minEntries;
afterEach(() => {
  packedScan.minEntries = DEFAULT_MIN;
});

/** What a cold build of the game at `root` wrote (its state folder removed first): record, stat caches, as text. */
async function coldBuild(root: string, minEntries: number) {
  packedScan.minEntries = minEntries;
  const config = await loadConfig(path.join(root, 'gamelayer.yaml'));
  await rm(config.stateDir, { recursive: true, force: true });
  const result = await build({ config });
  const statDir = path.join(config.stateDir, 'cache', 'stat');
  const statCaches = await Promise.all((await readdir(statDir)).sort().map((f) => readFile(path.join(statDir, f), 'utf8')));
  const record = (await readFile(result.recordFile, 'utf8')).replace(/"createdAt":"[^"]*"/, '');
  return { result, statCaches, record };
}

describe('a cold build through the packed entry store', () => {
  it('writes the layers, images, record and stat caches of the object path, and keeps no object per entry', async () => {
    const root = await awkwardGame(await tempDir());
    const objects = await coldBuild(root, DEFAULT_MIN);
    const packed = await coldBuild(root, 0);
    // The sample's directory trees went through the store, and kept it to the end: no step made their objects.
    const stores = packed.result.scans.flatMap((s) => (s.manifest.source.kind === 'dir' ? [packedStoreOf(s.manifest.entries)] : []));
    expect(stores.length).toBeGreaterThanOrEqual(3);
    for (const s of stores) {
      expect(s).toBeInstanceOf(PackedEntries);
      expect(s!.materialized).toBeUndefined();
    }
    expect(objects.result.scans.every((s) => packedStoreOf(s.manifest.entries) === undefined)).toBe(true);

    expect(packed.result.record.images).toEqual(objects.result.record.images);
    expect(packed.result.record.layers).toEqual(objects.result.record.layers);
    expect(packed.record).toBe(objects.record);
    expect(packed.statCaches).toEqual(objects.statCaches);
    expect(packed.statCaches.length).toBeGreaterThanOrEqual(3);
  });

  it('gives the same layers when a packed tree is cut into several (its objects then kept in step with the store)', async () => {
    const root = await awkwardGame(await tempDir(), 'layers:\n  targetSize: 1MB');
    const objects = await coldBuild(root, DEFAULT_MIN);
    const packed = await coldBuild(root, 0);
    const media = packed.result.scans.find((s) => s.manifest.tree === 'app-media')!;
    expect(packed.result.record.layers.filter((l) => l.tree === 'app-media').length).toBeGreaterThan(1);
    expect(packedStoreOf(media.manifest.entries)!.materialized).toBeDefined();
    expect(packed.result.record.layers).toEqual(objects.result.record.layers);
    expect(packed.record).toBe(objects.record);
    expect(packed.statCaches).toEqual(objects.statCaches);
  });
});

describe('packed list view', () => {
  it('answers totals and the entries below a size from the columns, as counting the objects does', () => {
    const entries = [
      { path: 'a', type: 'dir' as const, mode: 0o755, size: 0 },
      { path: 'a/big', type: 'file' as const, mode: 0o644, size: 5000, xxh64: '0123456789abcdef' },
      { path: 'a/x', type: 'file' as const, mode: 0o644, size: 3, xxh64: '0123456789abcdef' },
      { path: 'a/y', type: 'file' as const, mode: 0o755, size: 40, xxh64: 'fedcba9876543210' },
      { path: 'l', type: 'symlink' as const, mode: 0o777, size: 0, linkTarget: 'a/x' },
    ];
    const list = packedList(PackedEntries.from(entries));
    expect(totalsOf(entries)).toEqual({ files: 3, bytes: 5043 });
    expect(totalsOf(list)).toEqual(totalsOf(entries));
    expect(entriesBelowOf(entries, 1000)).toEqual({ entries: 4, bytes: 43 });
    expect(entriesBelowOf(list, 1000)).toEqual(entriesBelowOf(entries, 1000));
    expect(entriesBelowOf(list, 3)).toEqual(entriesBelowOf(entries, 3));
  });

  it('reads as the store\'s entries, makes each object on demand, and refuses writes', () => {
    const entries = [
      { path: 'a', type: 'dir' as const, mode: 0o755, size: 0 },
      { path: 'a/x', type: 'file' as const, mode: 0o644, size: 3, xxh64: '0123456789abcdef' },
      { path: 'l', type: 'symlink' as const, mode: 0o777, size: 0, linkTarget: 'a/x' },
    ];
    const list = packedList(PackedEntries.from(entries));
    expect(Array.isArray(list)).toBe(true);
    expect(list.length).toBe(3);
    expect([...list]).toEqual(entries);
    expect(JSON.stringify(list)).toBe(JSON.stringify(entries));
    expect(list.slice(1, 2)).toEqual([entries[1]]);
    expect(list.slice(-1)).toEqual([entries[2]]);
    expect(list.slice()).toEqual(entries);
    expect(list.slice(2, 1)).toEqual([]);
    expect(list.filter((e) => e.type === 'file').map((e) => e.path)).toEqual(['a/x']);
    expect(list[3]).toBeUndefined();
    // Not kept: each read is a new object.
    expect(list[1]).not.toBe(list[1]);
    expect(() => list.push(entries[0]!)).toThrow(/read-only/);
    expect(() => {
      list[0] = entries[1]!;
    }).toThrow(/read-only/);
  });
});
