// Issue 17 item 2: `gamelayer scan`, a first scan that hashes every file itself, keeps a large tree's entries in the
// packed store (src/entries/packed-entries.ts) and hashes into its columns. Lowering the size from which it does so to
// 0 sends the sample game through that path: the stat caches, the scan record and the printed summary must be the
// ones the object path writes, byte for byte (but times); and no step may turn the tree into objects on the way.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { loadConfig } from '../src/config/load.js';
import { PackedEntries } from '../src/entries/packed-entries.js';
import { silentReporter } from '../src/report/reporter.js';
import { packedStoreOf } from '../src/entries/packed-list.js';
import { packedScan, scanTree } from '../src/scan/scan.js';
import { awkwardGame } from './support/awkward-game.js';
import { tempDir } from './support/tmp.js';

const DEFAULT_MIN = packedScan.minHashedEntries;
afterEach(() => {
  packedScan.minHashedEntries = DEFAULT_MIN;
  vi.restoreAllMocks();
});

/**
 * `gamelayer scan [args]` run in this process on the game at `root`, its state folder removed first: what it
 * printed (times masked), its stat caches and scan record (but `createdAt`), and how often the packed store took a
 * hash or made its entries' objects.
 */
async function coldScan(root: string, minEntries: number, args: string[] = []) {
  packedScan.minHashedEntries = minEntries;
  const yaml = path.join(root, 'gamelayer.yaml');
  const config = await loadConfig(yaml);
  await rm(config.stateDir, { recursive: true, force: true });
  const materialize = vi.spyOn(PackedEntries.prototype, 'materialize');
  const setXxh64 = vi.spyOn(PackedEntries.prototype, 'setXxh64');
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const code = await main(['-c', yaml, 'scan', ...args]);
  const counts = { materialize: materialize.mock.calls.length, setXxh64: setXxh64.mock.calls.length };
  vi.restoreAllMocks();
  expect(code).toBe(0);
  const statDir = path.join(config.stateDir, 'cache', 'stat');
  const statCaches = await Promise.all((await readdir(statDir)).sort().map((f) => readFile(path.join(statDir, f), 'utf8')));
  const recordText = await readFile(path.join(config.stateDir, 'records', 'scan-last.json'), 'utf8');
  const record = recordText.replace(/"createdAt":"[^"]*"/, '');
  const manifests = (JSON.parse(recordText) as { manifests: { source: { kind: string }; entries: { type: string }[] }[] }).manifests;
  const printed = stdout.replace(/\b\d+\.\d\ds\b/g, 'T').replace(/"ms": \d+/g, '"ms": T');
  return { printed, statCaches, record, manifests, counts };
}

describe('gamelayer scan through the packed entry store', () => {
  it('prints, records and caches what the object path does, hashing into the store without an object per entry', async () => {
    const root = await awkwardGame(await tempDir());
    for (const args of [[], ['--json']]) {
      const objects = await coldScan(root, DEFAULT_MIN, args);
      const packed = await coldScan(root, 0, args);
      // Every directory tree's files were hashed into a store (one hash each), and no store made its objects.
      const files = packed.manifests.reduce((n, m) => n + (m.source.kind === 'dir' ? m.entries.filter((e) => e.type === 'file').length : 0), 0);
      expect(files).toBeGreaterThan(50);
      expect(packed.counts).toEqual({ materialize: 0, setXxh64: files });
      expect(objects.counts.setXxh64).toBe(0);

      expect(packed.printed).toBe(objects.printed);
      expect(packed.printed).toContain('app-media');
      expect(packed.record).toBe(objects.record);
      expect(packed.statCaches).toEqual(objects.statCaches);
      expect(packed.statCaches.length).toBeGreaterThanOrEqual(3);
    }
  });
});

describe('a packed first scan of a file that changed after the walk', () => {
  it('hashes it again as it is now: its new size and mode in the store, as the object path has them', async () => {
    const dir = await tempDir();
    const run = async (minEntries: number, name: string) => {
      packedScan.minHashedEntries = minEntries;
      const root = path.join(dir, name);
      await mkdir(path.join(root, 'd'), { recursive: true });
      for (let i = 0; i < 20; i++) await writeFile(path.join(root, 'd', `f${i}`), `${i}\n`);
      execFileSync('find', [root, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);
      const stateDir = path.join(dir, `${name}-state`);
      // Called after the walk, before the first file is read: the file no longer has the stat the walk saw.
      const reporter = {
        ...silentReporter,
        task: (...args: Parameters<typeof silentReporter.task>) => {
          appendFileSync(path.join(root, 'd', 'f7'), 'grown\n');
          chmodSync(path.join(root, 'd', 'f7'), 0o755);
          return silentReporter.task(...args);
        },
      };
      const scan = await scanTree('app', root, { include: ['**'], exclude: [] }, { stateDir, reporter, packEntries: true });
      const statDir = path.join(stateDir, 'cache', 'stat');
      // Two trees: their times and inodes differ, the rest of the cache must not.
      const statCaches = await Promise.all(
        (await readdir(statDir)).sort().map(async (f) => {
          const text = await readFile(path.join(statDir, f), 'utf8');
          const { paths, size, xxh64 } = JSON.parse(text.slice(text.indexOf('\n') + 1)) as { paths: string[]; size: number[]; xxh64: string };
          return { paths, size, xxh64 };
        }),
      );
      return { scan, statCaches };
    };
    const objects = await run(DEFAULT_MIN, 'objects');
    const packed = await run(0, 'packed');
    expect(packedStoreOf(packed.scan.manifest.entries)).toBeInstanceOf(PackedEntries);
    expect(packedStoreOf(objects.scan.manifest.entries)).toBeUndefined();
    const f7 = packed.scan.manifest.entries.find((e) => e.path === 'd/f7');
    expect(f7).toMatchObject({ size: 8, mode: 0o755 });
    expect(JSON.stringify(packed.scan.manifest.entries)).toBe(JSON.stringify(objects.scan.manifest.entries));
    expect(packed.scan.manifest.digest).toBe(objects.scan.manifest.digest);
    expect(packed.scan.stats).toEqual({ ...objects.scan.stats, ms: packed.scan.stats.ms });
    expect(packed.statCaches).toEqual(objects.statCaches);
    // Grown while it was hashed: too new for the cache (racy rule), the 19 others kept.
    expect(packed.statCaches[0]!.paths).toHaveLength(19);
  });
});
