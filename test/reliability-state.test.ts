// Caches and records that are stale or damaged are never trusted; two builds at once never corrupt the state;
// a file that changes while a build reads it never ends up in a layer under another file's hash; a full disk
// gives a clear error and leaves a valid store. Everything through the real CLI, checked with tools of our own.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import xxhash from 'xxhash-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBigGame, makeProject, type BigGame } from './support/big-game.js';
import { runCli, sleep, startCli, type CliResult } from './support/cli-process.js';
import { ageFiles, writeGame } from './support/trees.js';
import { layerContentProblems, listFilesUnder, recordProblems, storeProblems } from './support/verify-state.js';

const { create64 } = await xxhash();
function xxh64(bytes: Uint8Array): string {
  return create64().update(bytes).digest().toString(16).padStart(16, '0');
}

interface BuildJson {
  images: { name: string; digest: string }[];
  record: string;
  store: string;
  summary: { built: number; reused: number };
}

async function buildJson(cwd: string, args: string[] = []): Promise<{ out: BuildJson; r: CliResult }> {
  const r = await runCli(['build', '--json', ...args], { cwd });
  expect(r.stderr.replace(/^(read|hash|build) .*\n/gm, '')).toBe('');
  expect(r.code).toBe(0);
  return { out: JSON.parse(r.stdout) as BuildJson, r };
}

const serverOf = (b: BuildJson) => b.images.find((i) => i.name === 'server')!.digest;

interface Entry {
  path: string;
  xxh64?: string;
}
async function recordedEntry(project: string, tree: string, file: string): Promise<Entry | undefined> {
  const rec = JSON.parse(await readFile(path.join(project, '.gamelayer/records/build-last.json'), 'utf8')) as {
    manifests: { tree: string; entries: Entry[] }[];
  };
  return rec.manifests.find((m) => m.tree === tree)?.entries.find((e) => e.path === file);
}

async function expectValidState(project: string, store = path.join(project, '.gamelayer/oci')): Promise<void> {
  expect(await storeProblems(store)).toEqual([]);
  expect(await recordProblems(path.join(project, '.gamelayer'), store)).toEqual([]);
}

let root: string;
/**
 * The 12 MB generated game the tests that only build it share (two builds at once, disk full): generated once. The
 * test that writes into its game's files generates its own.
 */
let readOnly: Promise<BigGame> | undefined;
const readOnlyGame = () => (readOnly ??= makeBigGame(path.join(root, 'read-only'), 12e6, 150));
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-state-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('stale or damaged caches and records are never trusted', () => {
  /** A small game whose engine is a plain .tar (a changed byte keeps its size) and whose files are old. */
  async function smallGame(name: string): Promise<string> {
    const dir = path.join(root, name);
    await writeGame(dir);
    execFileSync('tar', ['-cf', path.join(dir, 'engine.tar'), '-C', path.join(dir, 'engine'), '.']);
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    await writeFile(path.join(dir, 'gamelayer.yaml'), yaml.replace('engine: {source: engine}', 'engine: {source: engine.tar}'));
    const all = execFileSync('find', [dir, '-type', 'f', '-o', '-type', 'l'], { encoding: 'utf8' }).trim().split('\n');
    await ageFiles('/', all, 3600);
    return dir;
  }

  it('an archive rewritten in place with the same size and mtime is read again (its ctime moved)', async () => {
    const dir = await smallGame('stale-archive');
    const first = await buildJson(dir);
    const tar = path.join(dir, 'engine.tar');
    const bytes = await readFile(tar);
    const at = bytes.indexOf('echo start');
    expect(at).toBeGreaterThan(0);
    bytes.write('echo START', at); // same length: the archive keeps its size
    const { mtime } = await stat(tar);
    await writeFile(tar, bytes);
    await utimes(tar, mtime, mtime);
    expect((await stat(tar)).size).toBe(bytes.length);

    const second = await buildJson(dir);
    expect(serverOf(second.out)).not.toBe(serverOf(first.out));
    expect((await recordedEntry(dir, 'engine', 'start.sh'))?.xxh64).toBe(xxh64(Buffer.from('#!/bin/sh\necho START\n')));
    expect(await layerContentProblems(second.out.store, second.out.record, root)).toEqual([]);
  });

  it('a file rewritten with the same size and mtime is hashed again (the stat cache keys on ctime and inode too)', async () => {
    const dir = await smallGame('stale-stat');
    const first = await buildJson(dir);
    const cfg = path.join(dir, 'app/config/server.cfg');
    const { mtime } = await stat(cfg);
    await writeFile(cfg, 'port=44435\n');
    await utimes(cfg, mtime, mtime);
    const second = await buildJson(dir);
    expect(serverOf(second.out)).not.toBe(serverOf(first.out));
    expect((await recordedEntry(dir, 'app', 'config/server.cfg'))?.xxh64).toBe(xxh64(Buffer.from('port=44435\n')));
    expect(await layerContentProblems(second.out.store, second.out.record, root)).toEqual([]);
  });

  it('a truncated archive cache and a garbled stat cache are ignored with a warning, giving the same image', async () => {
    const dir = await smallGame('torn-caches');
    const first = await buildJson(dir);
    const [archiveCache] = await listFilesUnder(path.join(dir, '.gamelayer/cache/archive'));
    const statCaches = await listFilesUnder(path.join(dir, '.gamelayer/cache/stat'));
    expect(archiveCache).toBeDefined();
    expect(statCaches.length).toBe(3);
    const ac = path.join(dir, '.gamelayer/cache/archive', archiveCache!);
    await truncate(ac, (await stat(ac)).size - 30);
    for (const s of statCaches) {
      const f = path.join(dir, '.gamelayer/cache/stat', s);
      const text = await readFile(f, 'utf8');
      await writeFile(f, text.replace(/"xxh64":"[0-9a-f]+"/, (m) => `"xxh64":"${'0123456789abcdef'.repeat((m.length - 10) / 16)}"`)); // plausible, wrong hashes
    }
    await writeFile(path.join(dir, '.gamelayer/cache/layers.json'), '{"format":"gamelayer-layer-cache/1","sha256":"00"}\n{}');
    // Not --json: that mode silences the reporter, warnings included.
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: engine: archive cache ignored (checksum mismatch (truncated or corrupt))');
    expect(r.stderr).toContain('warning: app: stat cache ignored (checksum mismatch (truncated or corrupt)); hashing every file again');
    expect(r.stderr).toContain('warning: layer cache ignored (checksum mismatch (truncated or corrupt)); the last build\'s layers found in the store are still reused');
    expect(r.stdout).toContain(`server image 1.0.0 = ${serverOf(first.out)}\n`);
    await expectValidState(dir);
  });

  it('a broken layer cache still reuses the last build\'s layers found in the store, as its warning says', async () => {
    // The warning said "layers found in the store are still reused" while the next build rebuilt every layer: the
    // cache was the only map from a layer's inputs to its blob. The last build's record is now that map too.
    const dir = await smallGame('broken-layer-cache');
    const first = await buildJson(dir);
    expect(first.out.summary.built).toBeGreaterThan(0);
    await writeFile(path.join(dir, '.gamelayer/cache/layers.json'), '{"format":"gamelayer-layer-cache/1","sha256":"00"}\n{}');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: layer cache ignored (checksum mismatch (truncated or corrupt)); the last build\'s layers found in the store are still reused');
    expect(r.stdout).toContain(`server image 1.0.0 = ${serverOf(first.out)}\n`);
    // The cache was written anew from the record: the next build finds every layer in it, nothing built.
    const again = await buildJson(dir);
    expect(again.out.summary.built).toBe(0);
    expect(again.out.summary.reused).toBe(first.out.summary.built + first.out.summary.reused);
    // And the build right after the damage built nothing either (its JSON, same check).
    await writeFile(path.join(dir, '.gamelayer/cache/layers.json'), 'garbage');
    const third = await runCli(['build', '--json'], { cwd: dir });
    expect(third.code).toBe(0);
    const out = JSON.parse(third.stdout) as BuildJson;
    expect(out.summary.built).toBe(0);
    expect(serverOf(out)).toBe(serverOf(first.out));
    await expectValidState(dir);
  });

  it('a damaged file in the archive content cache is never put in a layer: it is replaced and the image is the same', async () => {
    const dir = await smallGame('damaged-content');
    const first = await buildJson(dir);
    const contentDir = path.join(dir, '.gamelayer/cache/archive-content');
    const start = xxh64(Buffer.from('#!/bin/sh\necho start\n'));
    const cached = path.join(contentDir, start);
    await writeFile(cached, '#!/bin/sh\necho EVIL!\n'); // same size, other bytes
    await writeFile(path.join(dir, '.gamelayer/cache/layers.json'), ''); // force the engine layer to be built again
    execFileSync('rm', ['-rf', path.join(dir, '.gamelayer/oci')]);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `warning: ${cached}: the cached copy of a file of ${path.join(dir, 'engine.tar')} is damaged ` +
        `(its content hashes to xxh64 ${xxh64(Buffer.from('#!/bin/sh\necho EVIL!\n'))}, not ${start}); it was removed`,
    );
    expect(r.stdout).toContain(`server image 1.0.0 = ${serverOf(first.out)}\n`);
    expect(await readFile(cached, 'utf8')).toBe('#!/bin/sh\necho start\n');
    expect(await layerContentProblems(first.out.store, first.out.record, root)).toEqual([]);
  });

  it('every cached copy of an archive tree damaged: each is replaced in one build, and the image is the same', async () => {
    const dir = await smallGame('damaged-content-all');
    const first = await buildJson(dir);
    const contentDir = path.join(dir, '.gamelayer/cache/archive-content');
    const names = await readdir(contentDir);
    const damaged = [];
    for (const n of names) {
      const bytes = await readFile(path.join(contentDir, n));
      if (bytes.length === 0) continue;
      bytes[0] = bytes[0]! ^ 0xff; // same size, other bytes
      await writeFile(path.join(contentDir, n), bytes);
      damaged.push(n);
    }
    expect(damaged.length).toBeGreaterThan(1);
    await writeFile(path.join(dir, '.gamelayer/cache/layers.json'), ''); // force the engine layer to be built again
    execFileSync('rm', ['-rf', path.join(dir, '.gamelayer/oci')]);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`the cached copy of a file of ${path.join(dir, 'engine.tar')} is damaged`);
    expect(r.stdout).toContain(`server image 1.0.0 = ${serverOf(first.out)}\n`);
    for (const n of damaged) expect(xxh64(await readFile(path.join(contentDir, n)))).toBe(n);
    expect(await layerContentProblems(first.out.store, first.out.record, root)).toEqual([]);
  });

  it('a stat cache row with a wrong hash for an unchanged file fails one build, not every one', async () => {
    const dir = await smallGame('stat-cache-lies');
    const first = await buildJson(dir);
    // The app tree's stat cache, edited with its checksum kept: config/server.cfg is said to hash to another value.
    const statDir = path.join(dir, '.gamelayer/cache/stat');
    let edited = '';
    for (const n of await readdir(statDir)) {
      const file = path.join(statDir, n);
      const text = await readFile(file, 'utf8');
      const nl = text.indexOf('\n');
      const body = JSON.parse(text.slice(nl + 1)) as { paths: string[]; xxh64: string };
      const i = body.paths.indexOf('config/server.cfg');
      if (i < 0) continue;
      body.xxh64 = `${body.xxh64.slice(0, 16 * i)}0123456789abcdef${body.xxh64.slice(16 * i + 16)}`;
      const json = JSON.stringify(body);
      const { createHash } = await import('node:crypto');
      const header = { ...(JSON.parse(text.slice(0, nl)) as object), sha256: createHash('sha256').update(json).digest('hex') };
      await writeFile(file, `${JSON.stringify(header)}\n${json}`);
      edited = file;
    }
    expect(edited).not.toBe('');
    const failed = await runCli(['build'], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`error[content.changed]: ${path.join(dir, 'app/config/server.cfg')}: changed since it was scanned`);
    const again = await buildJson(dir);
    expect(serverOf(again.out)).toBe(serverOf(first.out));
  });

  it('a truncated or garbled build record is a clear error for diff and k8s, and the next build replaces it', async () => {
    const dir = await smallGame('bad-record');
    await buildJson(dir);
    const last = path.join(dir, '.gamelayer/records/build-last.json');
    const text = await readFile(last, 'utf8');
    await writeFile(last, text.slice(0, text.length / 2));
    const diff = await runCli(['diff'], { cwd: dir });
    expect(diff.code).toBe(1);
    expect(diff.stderr).toBe(`error[record.corrupt]: ${last}: not valid JSON (truncated or corrupt record)\nhint: delete it and scan or build again\n`);
    const k8s = await runCli(['k8s', '--repository', '127.0.0.1:5000/studio/game'], { cwd: dir });
    expect(k8s.code).toBe(1);
    expect(k8s.stderr).toContain(`error[record.corrupt]: ${last}: not valid JSON (truncated or corrupt record)\n`);

    await writeFile(last, JSON.stringify({ ...JSON.parse(text), manifests: [{ tree: 'app', digest: 'sha256:00' }] }));
    const shape = await runCli(['diff'], { cwd: dir });
    expect(shape.code).toBe(1);
    expect(shape.stderr).toBe(
      `error[record.corrupt]: ${last}: not a gamelayer scan or build record: manifests[0].entries: expected a list\nhint: delete it and scan or build again\n`,
    );

    // The build does not trust the malformed record either: it says so on stderr (also under --json) and plans afresh.
    const rebuilt = await runCli(['build', '--json'], { cwd: dir });
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stderr).toBe(
      `warning: ${last}: not a gamelayer scan or build record: manifests[0].entries: expected a list; planning every tree afresh\n`,
    );
    const again = await runCli(['diff'], { cwd: dir });
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
  });
});

describe('two builds of the same game at once', () => {
  let game: BigGame;
  beforeAll(async () => {
    game = await readOnlyGame();
  }, 60_000);

  it('both succeed with the same images, every tag of both lands in index.json, store and records stay valid', async () => {
    const project = await makeProject(path.join(root, 'concurrent/p'), game);
    for (const round of [
      ['a', 'b'],
      ['c', 'c'],
    ]) {
      const runs = round.map((tag) => runCli(['build', '--json', '--tag', tag], { cwd: project }));
      const results = await Promise.all(runs);
      for (const r of results) {
        expect(r.stderr.replace(/^(read|hash|build) .*\n/gm, '')).toBe('');
        expect(r.code).toBe(0);
      }
      const outs = results.map((r) => JSON.parse(r.stdout) as BuildJson);
      expect(serverOf(outs[0]!)).toBe(serverOf(outs[1]!));
      await expectValidState(project);
    }
    const index = JSON.parse(await readFile(path.join(project, '.gamelayer/oci/index.json'), 'utf8')) as {
      manifests: { annotations: Record<string, string> }[];
    };
    const tags = index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']).sort();
    const expected = ['a', 'b', 'c'].flatMap((t) => [t, `${t}-app`, `${t}-app-media`, `${t}-engine`, `${t}-engine-media`]).sort();
    expect(tags).toEqual(expected);
    // The caches both wrote are sound: a third build reuses every layer.
    const third = await buildJson(project, ['--tag', 'd']);
    expect(third.out.summary.built).toBe(0);
    expect(await listFilesUnder(path.join(project, '.gamelayer/oci/.tmp'))).toEqual([]);
  });
});

describe('a file that changes while the build reads it', () => {
  let game: BigGame;
  let victim: string;
  beforeAll(async () => {
    game = await makeBigGame(path.join(root, 'changing'), 12e6, 150);
    // The biggest file of app-media: it takes longest to hash and to tar.
    const files = execFileSync('find', [game.sources['app-media'], '-type', 'f', '-printf', '%s %p\n'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string])
      .sort((a, b) => Number(b[0]) - Number(a[0]));
    victim = files[0]![1];
  }, 60_000);

  const CHANGED_WHILE_HASHED = (f: string) =>
    `error[scan.changed]: ${f}: the file changed while it was being hashed\nhint: stop whatever is writing into the game tree (an editor, a build, a sync) and run again\n`;
  const CHANGED_SINCE_SCAN = (f: string) => new RegExp(`^error\\[content.changed\\]: ${f}: changed since it was scanned: .+\\nhint: something changed the game tree after the scan`);

  /** A shell loop that overwrites the first 4 KiB of `file` with random bytes (same size), as fast as it can. */
  function scribble(file: string) {
    return spawn('sh', ['-c', `while :; do dd if=/dev/urandom of='${file}' bs=4096 count=1 conv=notrunc status=none; done`]);
  }

  it.each([
    ['all through the build', 'always'],
    ['from when the scan has written its caches (between scan and tar)', 'after-scan'],
    ['once, right after the scan', 'once-after-scan'],
  ] as const)('%s: a clear error, or layers whose every file is what the record says', async (_name, mode) => {
    const project = await makeProject(path.join(root, `changing/${mode}`), game);
    const run = startCli(['build', '--json'], { cwd: project });
    let writer: ReturnType<typeof scribble> | undefined;
    try {
      if (mode === 'always') writer = scribble(victim);
      else {
        const scanned = async () => (await listFilesUnder(path.join(project, '.gamelayer/cache/stat'))).filter((f) => f.endsWith('.json')).length >= 3;
        while (!(await scanned()) && run.child.exitCode === null) await sleep(2);
        if (mode === 'after-scan') writer = scribble(victim);
        else execFileSync('dd', ['if=/dev/urandom', `of=${victim}`, 'bs=4096', 'count=1', 'conv=notrunc', 'status=none']);
      }
      const r = await run.result;
      writer?.kill();
      if (r.code === 0) {
        const out = JSON.parse(r.stdout) as BuildJson;
        expect(await layerContentProblems(out.store, out.record, root)).toEqual([]);
      } else {
        const errors = r.stderr.replace(/^(read|hash|build) .*\n/gm, '');
        if (errors.includes('while it was being hashed')) expect(errors).toBe(CHANGED_WHILE_HASHED(victim));
        else expect(errors).toMatch(CHANGED_SINCE_SCAN(victim));
        expect(existsSync(path.join(project, '.gamelayer/records/build-last.json'))).toBe(false);
      }
      await expectValidState(project);
    } finally {
      writer?.kill();
    }
  });

  it('a build after the writer stopped succeeds, and its layers hold what the record says', async () => {
    const project = await makeProject(path.join(root, 'changing/after'), game);
    const { out } = await buildJson(project);
    expect(await layerContentProblems(out.store, out.record, root)).toEqual([]);
  });
});

describe('disk full while writing the store', () => {
  let mnt: string;
  let game: BigGame;
  let small: BigGame;
  beforeAll(async () => {
    mnt = path.join(root, 'small-fs');
    await mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]);
    game = await readOnlyGame();
    small = await makeBigGame(path.join(root, 'full-small'), 500e3, 30);
  }, 60_000);
  afterAll(() => {
    if (mnt) execFileSync('umount', [mnt]);
  });

  it('fails with an error naming the store, keeps no partial blob, and leaves a valid store', async () => {
    const project = await makeProject(path.join(root, 'full/p'), game);
    const store = path.join(mnt, 'store');
    // The store already holds a build of the game (a small version of it fits): the failed build must leave it valid
    // and whole. Which of the big build's own layers land before the disk fills depends on timing (side by side).
    const earlier = await makeProject(path.join(root, 'full/earlier'), small);
    expect((await runCli(['build', '--out', store], { cwd: earlier })).code).toBe(0);
    const before = await readdir(path.join(store, 'blobs/sha256'));
    expect(before.length).toBeGreaterThan(0);
    const r = await runCli(['build', '--out', store], { cwd: project });
    expect(r.code).toBe(1);
    expect(r.stderr.replace(/^(read|hash) .*\n/gm, '')).toBe(
      `error[store.disk-full]: ${store}: no space left on the device while writing a blob (ENOSPC)\n` +
        'hint: free space on that file system, or point the store (--store, or store: in gamelayer.yaml) at a bigger one; nothing half-written was kept\n',
    );
    expect(await listFilesUnder(path.join(store, '.tmp'))).toEqual([]);
    expect(await storeProblems(store)).toEqual([]);
    expect(await readdir(path.join(store, 'blobs/sha256'))).toEqual(expect.arrayContaining(before));
    expect(existsSync(path.join(project, '.gamelayer/records/build-last.json'))).toBe(false);
    // With room again (a store elsewhere), the same project builds.
    const ok = await runCli(['build'], { cwd: project });
    expect(ok.code).toBe(0);
    await expectValidState(project);
  });
});
