// gc bounds the state folder, not only the store: the caches that grew with every build a host ran (the layer
// cache's rows, chunk lists, stat caches of old source paths, archive member copies, docker re-packs, idle line
// copies) lose what no kept build needs, keep what the next build uses, and the next build still reuses every layer.
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { keptState, staleStateFiles, LINE_COPY_MS } from '../src/inventory/gc-state.js';
import { baseNodes } from '../src/oci/base-parents.js';
import { tarOf } from './support/make-layout.js';
import { OTHER_SOURCES_KEPT } from '../src/scan/scan-caches.js';
import { cacheFile as recipeCacheFile } from '../src/scan/chunk-tree.js';
import { cacheFile as scanCacheFile } from '../src/scan/scan.js';
import type { BuildRecord } from '../src/types.js';
import { runCli } from './support/cli-process.js';
import { sampleGame } from './support/sample.js';

const DAY = 86_400_000;

async function build(dir: string, ...args: string[]): Promise<{ summary: { layers: { reused: boolean }[] } }> {
  const r = await runCli(['build', '--json', ...args], { cwd: dir });
  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

async function layerCacheDigests(stateDir: string): Promise<string[]> {
  const text = await readFile(path.join(stateDir, 'cache', 'layers.json'), 'utf8');
  return [...text.matchAll(/"digest":"(sha256:[0-9a-f]{64})"/g)].map((m) => m[1]!);
}

async function storeBlobs(store: string): Promise<Set<string>> {
  return new Set((await readdir(path.join(store, 'blobs', 'sha256'))).map((n) => `sha256:${n}`));
}

/** A file with this content, its mtime `ageMs` ago. */
async function plant(file: string, ageMs: number, content = '{}'): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  const t = new Date(Date.now() - ageMs);
  await utimes(file, t, t);
  return file;
}

describe('gc and the state folder', () => {
  it('drops the layer cache rows of the blobs it removes; the next build still reuses every layer', async () => {
    const { game: dir, config } = await sampleGame();
    await build(dir, '--tag', 'v1');
    await writeFile(path.join(dir, 'app-media/levels/a.dat'), Buffer.alloc(20_000, 1));
    await build(dir, '--tag', 'v2', '--rebase'); // new layers of their own: v1's go with v1
    const rowsBefore = await layerCacheDigests(config.stateDir);
    const dry = JSON.parse((await runCli(['gc', '--keep', '1', '--json'], { cwd: dir })).stdout);
    expect(await layerCacheDigests(config.stateDir)).toEqual(rowsBefore); // a dry run rewrites nothing
    const done = JSON.parse((await runCli(['gc', '--keep', '1', '--apply', '--json'], { cwd: dir })).stdout);
    expect(done.blobs.length).toBeGreaterThan(0);
    const blobs = await storeBlobs(config.store);
    const rows = await layerCacheDigests(config.stateDir);
    // Every row names a blob the store still holds, and the rows of the blobs that left are gone.
    expect(rows.filter((d) => !blobs.has(d))).toEqual([]);
    expect(rowsBefore.length - rows.length).toBe(done.layerCacheRows);
    expect(done.layerCacheRows).toBeGreaterThan(0);
    expect(dry.layerCacheRows).toBe(done.layerCacheRows); // the dry run counted them
    // Nothing the next build needs went: a no-op build builds no layer.
    const next = await build(dir, '--tag', 'v3');
    expect(next.summary.layers.every((l) => l.reused)).toBe(true);
  }, 240_000);

  it('removes the caches of files, sources and lines no kept build needs, keeps the rest and what is young', async () => {
    const { game: dir, config } = await sampleGame();
    await build(dir, '--tag', 'v1');
    const record = JSON.parse(await readFile(path.join(config.stateDir, 'records', 'build-v1.json'), 'utf8')) as BuildRecord;
    const cache = path.join(config.stateDir, 'cache');
    const old = 3 * DAY;
    // The build's own caches, aged: the config's sources and the kept build's archive members stay whatever their age.
    const ownStat = await readdir(path.join(cache, 'stat'));
    expect(ownStat.length).toBeGreaterThan(0);
    for (const n of ownStat) await plant(path.join(cache, 'stat', n), old, await readFile(path.join(cache, 'stat', n), 'utf8'));
    const members = await readdir(path.join(cache, 'archive-content')).then((ns) => ns.filter((n) => /^[0-9a-f]{16}$/.test(n)));
    expect(members.length).toBeGreaterThan(0); // the sample's engine is a tarball
    for (const n of members) await utimes(path.join(cache, 'archive-content', n), new Date(Date.now() - old), new Date(Date.now() - old));
    const gone = [
      await plant(scanCacheFile(config.stateDir, 'stat', '/a/checkout/moved/away/app'), old),
      await plant(scanCacheFile(config.stateDir, 'archive', '/a/checkout/moved/away/engine.tar'), old),
      await plant(path.join(cache, 'archive-content', '0123456789abcdef'), old),
      await plant(recipeCacheFile(config.stateDir, 123_456_789, 'fedcba9876543210', 262_144), old),
      // Written before the newest kept build, which does not name it: minutes old, not days.
      await plant(recipeCacheFile(config.stateDir, 7_000_000, '0123012301230123', 262_144), 10 * 60_000),
      await plant(path.join(cache, 'docker', `engine-${'1'.repeat(32)}.tar`), 2 * DAY),
      await plant(path.join(cache, 'line-records', `${'a'.repeat(32)}.copy`), LINE_COPY_MS + 2 * DAY),
    ];
    const stays = [
      await plant(scanCacheFile(config.stateDir, 'stat', '/somewhere/scanned/today'), 60_000),
      // Written after the newest kept build (a scan since): the next build's.
      await plant(recipeCacheFile(config.stateDir, 5_000_000, '00112233445566ff', 262_144), 0),
      await plant(path.join(cache, 'docker', `engine-${'2'.repeat(32)}.tar`), DAY),
      // Idle for longer than a line copy is kept, but the newest of them: a host's one line keeps its copy.
      await plant(path.join(cache, 'line-records', `${'c'.repeat(32)}.copy`), LINE_COPY_MS + DAY),
    ];
    const stale = await staleStateFiles({ config, kept: [keptState(record)], blobStays: () => true });
    expect(stale).toEqual([...gone].sort());

    // A chunk list the kept record names stays however old; one it does not name goes.
    const chunked = {
      ...record,
      manifests: [{ ...record.manifests[0]!, chunks: { minFileSize: 1, avgChunkSize: 262_144 }, recipes: [{ path: 'big.pak', size: 123_456_789, xxh64: 'fedcba9876543210', sha256: '0'.repeat(64), chunks: '' }] }],
    } as BuildRecord;
    const withRecipe = await staleStateFiles({ config, kept: [keptState(chunked)], blobStays: () => true });
    expect(withRecipe).not.toContain(gone[3]);
    // The kept build's archive members: gone once no kept build names them (here: an empty list of kept builds).
    const none = await staleStateFiles({ config, kept: [], blobStays: () => true });
    for (const m of members) expect(none).toContain(path.join(cache, 'archive-content', m));

    // gc --apply removes exactly those, and the next build of the same content reuses every layer.
    await runCli(['gc', '--keep', '1', '--apply'], { cwd: dir });
    for (const f of gone) await expect(readFile(f)).rejects.toThrow();
    for (const f of stays) await readFile(f);
    const next = await build(dir, '--tag', 'v2');
    expect(next.summary.layers.every((l) => l.reused)).toBe(true);
  }, 240_000);

  it('a build removes the scan caches of source paths no longer named once a week old or beyond the newest few (a checkout path that changes per build)', async () => {
    const { game: dir, config } = await sampleGame();
    const weekOld = await plant(scanCacheFile(config.stateDir, 'stat', '/codebuild/output/src111/src/game/app'), 8 * DAY);
    const archiveWeekOld = await plant(scanCacheFile(config.stateDir, 'archive', '/codebuild/output/src111/src/game/engine.tar.gz'), 8 * DAY);
    const recent = await plant(scanCacheFile(config.stateDir, 'stat', '/codebuild/output/src222/src/game/app'), 2 * DAY);
    await build(dir, '--tag', 'v1');
    await expect(readFile(weekOld)).rejects.toThrow();
    await expect(readFile(archiveWeekOld)).rejects.toThrow();
    await readFile(recent);
    // A CI cache restored with fresh file times: however recent, at most OTHER_SOURCES_KEPT of them stay (the newest).
    const fresh: string[] = [];
    for (let i = 0; i < OTHER_SOURCES_KEPT + 4; i++) fresh.push(await plant(scanCacheFile(config.stateDir, 'stat', `/codebuild/output/src9${i}/src/game/app`), 60_000 + i * 1000));
    await build(dir, '--tag', 'v2');
    const statLeft = await readdir(path.join(config.stateDir, 'cache', 'stat'));
    for (const f of fresh.slice(0, OTHER_SOURCES_KEPT)) expect(statLeft).toContain(path.basename(f));
    for (const f of [...fresh.slice(OTHER_SOURCES_KEPT), recent]) expect(statLeft).not.toContain(path.basename(f));
    // The config's own caches stay.
    for (const kind of ['stat', 'archive']) {
      for (const s of new Set(Object.values(config.trees).flatMap((t) => Object.values(t.sources)))) {
        const own = scanCacheFile(config.stateDir, kind, s);
        if (kind === 'stat' ? !s.endsWith('.tar.gz') : s.endsWith('.tar.gz')) await readFile(own);
      }
    }
  }, 240_000);

  it("a marker of a base's folders above the mounts goes with any of the base layers it was read from, or when damaged", async () => {
    const { config } = await sampleGame();
    const markers = path.join(config.stateDir, 'cache', 'verified-blobs');
    const [a, b] = ['a', 'b'].map((c) => `sha256:${c.repeat(64)}`);
    const tar = gzipSync(await tarOf([{ name: 'home/', type: 'directory', mode: 0o750, uid: 1000, gid: 1000, mtime: new Date(0) }], new Map()));
    const layer = (digest: string) => ({ digest, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', open: () => Readable.from([tar]) });
    await baseNodes([layer(a!), layer(b!)], ['home'], markers);
    const [name] = await readdir(markers);
    const marker = path.join(markers, name!);
    const damaged = await plant(path.join(markers, `parents-${'c'.repeat(64)}`), 0, 'not a marker');
    expect(await staleStateFiles({ config, kept: [], blobStays: () => true })).toEqual(expect.not.arrayContaining([marker]));
    expect(await staleStateFiles({ config, kept: [], blobStays: () => true })).toContain(damaged);
    expect(await staleStateFiles({ config, kept: [], blobStays: (d) => d === a })).toContain(marker);
  });
});
