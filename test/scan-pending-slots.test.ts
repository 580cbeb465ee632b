// Issue 17, memory: the files a cold build's scan leaves to the layer writer share one pending mark per scan, and
// each entry finds its stat-cache slot through a slot index sorted in the manifest's path order (no string per file).
// The lookup must give every pending entry its own slot, whatever its path (code point order, long names, links),
// and the hashes filled through it must make the manifest and stat cache a hashing scan makes, byte for byte.
import { execFileSync } from 'node:child_process';
import { link, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_XXH64, hashFile, hex64, xxhashApi } from '../src/scan/hash.js';
import { sortEntries } from '../src/scan/manifest.js';
import { StatCache } from '../src/scan/stat-cache.js';
import { isPendingHash, type PendingHashes } from '../src/scan/pending.js';
import { packedScan, scanTree } from '../src/scan/scan.js';
import { packedStoreOf } from '../src/entries/packed-list.js';
import type { FileEntry } from '../src/types.js';
import { tempDir } from './support/tmp.js';
import { shuffled } from './support/prng.js';

const ALL = { include: ['**'], exclude: [] };

/**
 * Paths whose UTF-16 order differs from their UTF-8 byte order (an astral emoji beside U+FF21, so the manifest sorts
 * by code points), names of 200+ bytes, a hard link pair, symlinks (one dangling), empty folders and empty files.
 */
async function trickyTree(root: string): Promise<void> {
  const long = 'n'.repeat(120);
  for (const d of ['ünïcødé/日本語', `${long}/${'m'.repeat(100)}`, 'empty/nested', 'many']) await mkdir(path.join(root, d), { recursive: true });
  await writeFile(path.join(root, 'ünïcødé/日本語/😀 emoji.txt'), 'emoji\n');
  await writeFile(path.join(root, 'ünïcødé/日本語/\uFF21 fullwidth.txt'), 'fullwidth\n');
  await writeFile(path.join(root, 'ünïcødé/日本語/z.txt'), 'z\n');
  await writeFile(path.join(root, 'ünïcødé/q"uo\\te'), 'quote\n');
  await writeFile(path.join(root, long, 'm'.repeat(100), 'f'.repeat(240)), 'long\n');
  await writeFile(path.join(root, 'hard-a'), 'linked\n');
  await link(path.join(root, 'hard-a'), path.join(root, 'hard-b'));
  await symlink('ünïcødé/z.txt', path.join(root, 'link'));
  await symlink('../nowhere', path.join(root, 'empty', 'dangling'));
  for (let i = 0; i < 300; i++) await writeFile(path.join(root, 'many', `f${i}`), i % 3 === 0 ? '' : `content ${i}\n`);
  execFileSync('find', [root, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);
}

/**
 * How many slots the files find, each looked up in manifest order and in two shuffled orders: every file finds a
 * slot, the same each time, for the file at its path with its size.
 */
function distinctSlots(pending: PendingHashes, root: string, files: readonly FileEntry[]): number {
  const slotAt = new Map<string, number>();
  for (const order of [files, shuffled(files, 7), shuffled(files, 99)]) {
    for (const e of order) {
      const slot = pending.slotOf(e);
      expect(slot, e.path).toBeGreaterThanOrEqual(0);
      expect(pending.file(slot)).toBe(path.join(root, e.path));
      expect(pending.before(slot).size).toBe(e.size);
      if (slotAt.has(e.path)) expect(slotAt.get(e.path)).toBe(slot);
      slotAt.set(e.path, slot);
    }
  }
  return new Set(slotAt.values()).size;
}

describe('pending hashes: one mark per scan, slots found by path', () => {
  it('gives every pending entry its own slot in any order, and fills to what a hashing scan finds', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    await trickyTree(root);
    const hashing = await scanTree('app', root, ALL, { stateDir: path.join(dir, 's1') });
    const cold = await scanTree('app', root, ALL, { stateDir: path.join(dir, 's2'), packHashes: () => true });
    const pending = cold.pending!;
    const files = cold.manifest.entries.filter((e) => e.type === 'file');
    expect(files.length).toBe(307);
    expect(pending.count).toBe(files.length);
    // Code point order was needed: the emoji sorts after U+FF21, which UTF-16 order would put the other way round.
    const names = cold.manifest.entries.map((e) => e.path);
    expect(names.indexOf('ünïcødé/日本語/😀 emoji.txt')).toBeGreaterThan(names.indexOf('ünïcødé/日本語/\uFF21 fullwidth.txt'));

    // One mark string for the whole scan (an entry's xxh64 is not a string of its own), never a hash.
    const marks = new Set(files.map((e) => e.xxh64));
    expect(marks.size).toBe(1);
    expect(files.every(isPendingHash)).toBe(true);

    expect(distinctSlots(pending, root, files)).toBe(files.length);
    // An equal copy is not the entry, and the entries of another scan of the same tree are not this scan's.
    expect(pending.slotOf({ ...files[0]! })).toBe(-1);
    const other = await scanTree('app', root, ALL, { stateDir: path.join(dir, 's3'), packHashes: () => true });
    expect(other.manifest.entries.find((e) => e.type === 'file')!.xxh64).not.toBe(files[0]!.xxh64);
    for (const e of other.manifest.entries.filter((x) => x.type === 'file')) expect(pending.slotOf(e)).toBe(-1);

    // Filled through those slots (in shuffled order), a filled entry has no slot any more, and the manifest and the
    // stat cache are the hashing scan's.
    const started = Date.now();
    for (const e of shuffled(files, 3)) {
      const slot = pending.slotOf(e);
      pending.fill(slot, await hashFile(pending.file(slot), pending.before(slot)), started);
      expect(pending.slotOf(e)).toBe(-1);
    }
    await pending.finish();
    expect(cold.manifest).toEqual(hashing.manifest);
    const cacheOf = async (s: string) => {
      const d = path.join(dir, s, 'cache', 'stat');
      return readFile(path.join(d, (await readdir(d))[0]!), 'utf8');
    };
    expect(await cacheOf('s2')).toBe(await cacheOf('s1'));
  });
});

describe('pending hashes over a packed store: slots found by path', () => {
  const DEFAULT_MIN = packedScan.minEntries;
  afterEach(() => {
    packedScan.minEntries = DEFAULT_MIN;
  });

  it('gives every entry read from the store its own slot in any order, and fills to what a hashing scan finds', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    await trickyTree(root);
    const hashing = await scanTree('app', root, ALL, { stateDir: path.join(dir, 's1') });
    packedScan.minEntries = 0;
    const cold = await scanTree('app', root, ALL, { stateDir: path.join(dir, 's2'), packHashes: () => true });
    expect(packedStoreOf(cold.manifest.entries)).toBeDefined();
    const pending = cold.pending!;
    // Each read of the store's list is a new object: the slot is found by path, in manifest and shuffled order.
    const files = cold.manifest.entries.filter((e) => e.type === 'file');
    expect(files.length).toBe(307);
    expect(distinctSlots(pending, root, files)).toBe(files.length);
    // A path the manifest lacks, and a folder's path (no pending file), have no slot.
    expect(pending.slotOf({ ...files[0]!, path: 'many/f300' })).toBe(-1);
    expect(pending.slotOf({ ...files[0]!, path: 'many' })).toBe(-1);

    const started = Date.now();
    for (const e of shuffled(files, 3)) {
      const slot = pending.slotOf(e);
      pending.fill(slot, await hashFile(pending.file(slot), pending.before(slot)), started);
      expect(pending.slotOf(cold.manifest.entries.find((x) => x.path === e.path)!)).toBe(-1);
    }
    await pending.finish();
    expect(cold.manifest.digest).toBe(hashing.manifest.digest);
    expect([...cold.manifest.entries]).toEqual(hashing.manifest.entries);
  });
});

describe('what a scan holds per entry (issue 17, memory)', () => {
  it('the stat cache holds places in a list, follows the list when it is reordered, and saves the same rows', async () => {
    const dir = await tempDir();
    const files = ['b', 'a', 'c'].map((p, i) => ({ path: p, size: i, xxh64: `${i}`.repeat(16) }));
    const cache = await StatCache.open(path.join(dir, 'stat.json'));
    cache.attach(files);
    files.forEach((_, place) => cache.reserve(place, [place, 1000, 1000, place]));
    // Sorted into a new list: b, a, c -> a, b, c (places 1, 0, 2); the slots stay in walk order.
    const sorted = [files[1]!, files[0]!, files[2]!];
    cache.moveTo(sorted, Int32Array.from([1, 0, 2]));
    expect([0, 1, 2].map((slot) => cache.reservedPlace(slot))).toEqual([1, 0, 2]);
    expect([0, 1, 2].map((slot) => cache.reservedPath(slot))).toEqual(files.map((f) => f.path));
    for (let slot = 0; slot < 3; slot++) cache.record(slot, cache.reservedKey(slot), 10_000);
    await cache.save();
    const saved = JSON.parse((await readFile(path.join(dir, 'stat.json'), 'utf8')).split('\n')[1]!) as { paths: string[]; size: number[]; xxh64: string };
    expect(saved.paths).toEqual(['b', 'a', 'c']);
    expect(saved.size).toEqual([0, 1, 2]);
    expect(saved.xxh64).toBe(files.map((f) => f.xxh64).join(''));
  });

  it('sorts entries into a new list, the one given left as it was', () => {
    const given: FileEntry[] = ['z', 'a/b', 'a'].map((p) => ({ path: p, type: 'file', mode: 0o644, size: 0 }));
    const sorted = sortEntries(given);
    expect(sorted.map((e) => e.path)).toEqual(['a', 'a/b', 'z']);
    expect(given.map((e) => e.path)).toEqual(['z', 'a/b', 'a']);
    expect(sorted[0]).toBe(given[2]);
  });

  it('a pending scan places each slot at its entry in the manifest', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    await trickyTree(root);
    const cold = await scanTree('app', root, ALL, { stateDir: path.join(dir, 's'), packHashes: () => true });
    const cache = (cold.pending as unknown as { cache: StatCache }).cache;
    for (let slot = 0; slot < cache.reservedCount; slot++) {
      expect(cold.manifest.entries[cache.reservedPlace(slot)]!.path).toBe(cache.reservedPath(slot));
    }
  });

  it('every empty file of a scan shares one hash string, hashed or from the stat cache', async () => {
    const dir = await tempDir();
    const root = path.join(dir, 'tree');
    await mkdir(root);
    for (let i = 0; i < 400; i++) await writeFile(path.join(root, `e${i}`), '');
    execFileSync('find', [root, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);
    // The hash of nothing, taken here (not the constant under test).
    const nothing = hex64((await xxhashApi()).h64Raw(new Uint8Array(0)));
    expect(EMPTY_XXH64).toBe(nothing);
    const probe = (mode: string) =>
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', 'test/support/scan-heap-probe.ts', root, path.join(dir, 's'), mode, nothing], { cwd: path.join(import.meta.dirname, '..') }).toString(),
      ) as { strings: number; entries: number };
    // Hashing scan, then a rescan served by the stat cache: one string holding the hash of nothing, not 400.
    for (const mode of ['hash', 'rescan']) {
      const seen = probe(mode);
      expect(seen.entries).toBe(400);
      expect(seen.strings, mode).toBeLessThanOrEqual(2);
    }
  }, 60_000);
});
