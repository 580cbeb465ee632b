// The synthetic game generator: deterministic from the seed, sized as asked, shaped like a shipped game.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';
import { TREE_NAMES } from '../src/types.js';
import { generateGame, type GenerateResult } from '../fixtures/generator/generate.js';
import { planGame } from '../fixtures/generator/plan.js';
import { listFiles, snapshotDir, type SnapshotEntry } from '../fixtures/generator/tree-files.js';

const run = promisify(execFile);
const TSX = path.resolve('node_modules/.bin/tsx');
const SIZE = 20e6;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'fixtures-generator-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function regularFiles(snap: Map<string, SnapshotEntry>): [string, SnapshotEntry][] {
  return [...snap].filter(([, e]) => e.type === 'file');
}

describe('generateGame', () => {
  let a: GenerateResult;
  let snapA: Map<string, SnapshotEntry>;
  beforeAll(async () => {
    a = await generateGame({ out: path.join(work, 'a'), size: SIZE, seed: 'one' });
    snapA = await snapshotDir(a.dir);
  });

  it('is byte-identical for the same seed (content, modes, symlinks, folders)', async () => {
    const b = await generateGame({ out: path.join(work, 'b'), size: SIZE, seed: 'one' });
    const snapB = await snapshotDir(b.dir);
    expect(snapB.size).toBe(snapA.size);
    expect([...snapB]).toEqual([...snapA]);
    const { seconds: _s1, dir: _d1, ...restA } = a;
    const { seconds: _s2, dir: _d2, ...restB } = b;
    expect(restB).toEqual(restA);
  });

  it('differs for another seed', async () => {
    const c = await generateGame({ out: path.join(work, 'c'), size: SIZE, seed: 'two' });
    const snapC = await snapshotDir(c.dir);
    const shared = regularFiles(snapC).filter(([p, e]) => snapA.get(p)?.content === e.content);
    // Only the fixed files (start script, server config, gamelayer.yaml) coincide; every generated file differs.
    expect(shared.map(([p]) => p).sort()).toEqual(['app/Config/server.cfg', 'engine/start.sh', 'gamelayer.yaml']);
    expect(regularFiles(snapC).length).toBeGreaterThan(20);
  });

  it('writes the requested total size exactly and the default file count, matching its summary', async () => {
    let bytes = 0;
    let files = 0;
    for (const t of TREE_NAMES) {
      const listed = await listFiles(path.join(a.dir, t));
      const treeBytes = listed.reduce((s, f) => s + f.size, 0);
      expect(listed.length).toBe(a.trees[t].files);
      expect(treeBytes).toBe(a.trees[t].bytes);
      bytes += treeBytes;
      files += listed.length;
    }
    expect(bytes).toBe(SIZE);
    expect(a.bytes).toBe(SIZE);
    expect(files).toBe(a.files);
    expect(files).toBeGreaterThanOrEqual(60);
  });

  it('is shaped like the seed game: bytes mostly in app-media and engine, big paks, some compressible text', async () => {
    const t = a.trees;
    expect(t['app-media'].bytes + t.engine.bytes).toBeGreaterThan(0.75 * SIZE);
    expect(t['app-media'].bytes).toBeGreaterThan(t.engine.bytes);
    const pak = t['app-media'].largestFile!;
    expect(pak.path).toMatch(/\.pak$/);
    expect(pak.bytes).toBeGreaterThan(0.1 * SIZE);
    const text = Object.values(t).reduce((s, x) => s + x.textBytes, 0);
    expect(text).toBeGreaterThan(0.05 * SIZE);
    expect(text).toBeLessThan(0.5 * SIZE);

    const pakBytes = await readFile(path.join(a.dir, 'app-media', pak.path));
    expect(gzipSync(pakBytes.subarray(0, 1 << 20)).length).toBeGreaterThan(0.99 * (1 << 20));
    const media = await listFiles(path.join(a.dir, 'app-media'));
    const xml = media.filter((f) => /\.(mtl|prefab|xml)$/.test(f.path)).sort((x, y) => y.size - x.size)[0]!;
    const xmlBytes = await readFile(path.join(a.dir, 'app-media', xml.path));
    expect(gzipSync(xmlBytes).length).toBeLessThan(xmlBytes.length / 2.5);
    expect(media.some((f) => f.path.startsWith('levels/') && f.path.split('/').length >= 4)).toBe(true);

    expect(snapA.get('app/Config/current.cfg')).toMatchObject({ type: 'symlink', content: 'server.cfg' });
    expect(snapA.get('engine/start.sh')?.mode).toBe(0o755);
    for (const [p, e] of snapA) if (e.type === 'dir') expect(e.mode, p).toBe(0o755);
  });

  it('writes a gamelayer.yaml that the config loader accepts', async () => {
    const config = await loadConfig(path.join(a.dir, 'gamelayer.yaml'));
    expect(config.game).toBe('synthetic-game');
    expect(config.start).toEqual(['/opt/local/engine/start.sh']);
    for (const t of TREE_NAMES) expect(config.trees[t].sources['*']).toBe(path.join(a.dir, t));
  });

  it('writes an engine start.sh that checks the trees under busybox sh', async () => {
    const { stdout } = await run('busybox', ['sh', path.join(a.dir, 'engine/start.sh')]);
    for (const t of TREE_NAMES) expect(stdout).toMatch(new RegExp(`^${t}: present`, 'm'));
    await expect(
      run('busybox', ['sh', path.join(a.dir, 'engine/start.sh')], { env: { GAMELAYER_ROOT: path.join(work, 'nowhere') } }),
    ).rejects.toMatchObject({ stdout: expect.stringContaining('engine: MISSING') });
  });

  it('gives exactly --files regular files, spread over nested folders', async () => {
    const r = await generateGame({ out: path.join(work, 'many'), size: 4e6, files: 3000, seed: 'many' });
    let files = 0;
    let widest = 0;
    for (const t of TREE_NAMES) {
      const listed = await listFiles(path.join(r.dir, t));
      files += listed.length;
      const perDir = new Map<string, number>();
      for (const f of listed) perDir.set(path.posix.dirname(f.path), (perDir.get(path.posix.dirname(f.path)) ?? 0) + 1);
      widest = Math.max(widest, ...perDir.values());
    }
    expect(files).toBe(3000);
    expect(r.bytes).toBe(4e6);
    expect(widest).toBeLessThan(600);
  });

  it('plans multi-GB paks for a large game without writing it', () => {
    const plan = planGame({ size: 20e9, files: 20_000, seed: 'big', game: 'g' });
    const paks = plan.files.filter((f) => f.tree === 'app-media' && f.path.endsWith('.pak')).map((f) => f.size);
    expect(Math.max(...paks)).toBeGreaterThan(2e9);
    expect(plan.files.reduce((s, f) => s + f.size, 0)).toBe(20e9);
    const seed = planGame({ size: 3.1e9, files: 4030, seed: 'gamelayer', game: 'g' });
    const biggest = Math.max(...seed.files.map((f) => f.size));
    expect(biggest).toBeGreaterThan(300e6);
    expect(biggest).toBeLessThan(1.2e9);
    expect(new Set(plan.files.map((f) => `${f.tree}/${f.path}`)).size).toBe(plan.files.length);
  });

  it('refuses a non-empty --out and leaves no partial directory behind', async () => {
    const out = path.join(work, 'taken');
    await mkdir(out);
    await writeFile(path.join(out, 'keep.txt'), 'mine');
    await expect(generateGame({ out, size: 1e6, files: 30 })).rejects.toThrow(GamelayerError);
    await expect(generateGame({ out, size: 1e6, files: 30 })).rejects.toThrow(/not empty/);
    expect(await readdir(out)).toEqual(['keep.txt']);
    await expect(generateGame({ out: path.join(work, 'tiny'), size: 1e6, files: 3 })).rejects.toThrow(/--files 3/);
    expect((await readdir(work)).filter((n) => n.includes('.partial-'))).toEqual([]);
  });
});

describe('fixtures/generate.ts CLI', () => {
  it('generates and prints a JSON summary that matches the disk', async () => {
    const out = path.join(work, 'cli');
    const { stdout } = await run(TSX, ['fixtures/generate.ts', '--out', out, '--size', '2MB', '--files', '40', '--seed', 's', '--json']);
    const summary = JSON.parse(stdout) as GenerateResult;
    expect(summary.files).toBe(40);
    expect(summary.bytes).toBe(2e6);
    const files = (await Promise.all(TREE_NAMES.map((t) => listFiles(path.join(out, t))))).flat();
    expect(files.length).toBe(40);
    expect(files.reduce((s, f) => s + f.size, 0)).toBe(2e6);
  });

  it('prints a per-tree table by default', async () => {
    const { stdout } = await run(TSX, ['fixtures/generate.ts', '--out', path.join(work, 'cli2'), '--size', '1MB', '--files', '30']);
    for (const t of TREE_NAMES) expect(stdout).toMatch(new RegExp(`^  ${t} +\\d+ files`, 'm'));
  });

  it('exits 1 with a clear message on bad arguments', async () => {
    await expect(run(TSX, ['fixtures/generate.ts', '--out', path.join(work, 'x'), '--size', 'lots'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--size lots: expected a size'),
    });
    await expect(run(TSX, ['fixtures/generate.ts', '--size', '1MB'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--out DIR is required'),
    });
  });
});
