// kill -9 of the real CLI at many points of a build and of a push. After every kill: the local store holds only
// blobs that hash to their names, index.json (and all it reaches) only points at present blobs, every record is
// whole, the registry stores no manifest with a missing blob — and the next run completes, giving the same image
// digests as an uninterrupted run, without uploading any blob the registry already completed.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBigGame, makeProject, type BigGame } from './support/big-game.js';
import { runCli } from './support/cli-process.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { runCliKilledAtRename, type RenamePoint } from './support/kill-at-rename.js';
import { runCliKilledAtRequest, type RequestPoint } from './support/kill-at-request.js';
import { startRegistry, storageProblems, storedBlobs, storedManifests, storedTags, type TestRegistry } from './support/registry.js';
import { listFilesUnder, recordProblems, storeProblems } from './support/verify-state.js';

let root: string;
let game: BigGame;
let reference: { server: string; blobs: number; layers: number; layerDigests: string[] };
/** The project the reference build was made in: built, untouched by the build kills, the push kills start from it. */
let built: string;
let registry: TestRegistry;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-kill-'));
  game = await makeBigGame(root, 32e6, 300);
  const ref = (built = await makeProject(path.join(root, 'reference'), game));
  const r = await runCli(['build', '--json'], { cwd: ref });
  expect(r.stderr).toBe('');
  const out = JSON.parse(r.stdout) as { images: { name: string; digest: string }[]; summary: { built: number; layers: { digest: string }[] } };
  reference = {
    server: out.images.find((i) => i.name === 'server')!.digest,
    blobs: (await readdir(path.join(ref, '.gamelayer/oci/blobs/sha256'))).length,
    layers: out.summary.built,
    layerDigests: out.summary.layers.map((l) => l.digest),
  };
  expect(reference.layers).toBeGreaterThan(20); // many layers, so kills land between and inside them
  registry = await startRegistry();
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** The pid-host-random tag of gamelayer's temp files (src/util/temp-files.ts). */
const TEMP = /\d+-[0-9a-f]{8}-[0-9a-f]{12}/;

async function blobCount(store: string): Promise<number> {
  return existsSync(path.join(store, 'blobs/sha256')) ? (await readdir(path.join(store, 'blobs/sha256'))).length : 0;
}

async function blobNames(store: string): Promise<string[]> {
  return (await readdir(path.join(store, 'blobs/sha256'))).map((hex) => `sha256:${hex}`);
}

/** The files of `dir` named `*.json` (none when it is missing): placed, not temp files. */
async function jsonFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
}

async function tmpFileCount(store: string): Promise<number> {
  return existsSync(path.join(store, '.tmp')) ? (await readdir(path.join(store, '.tmp'))).length : 0;
}

async function expectConsistent(project: string): Promise<void> {
  const store = path.join(project, '.gamelayer/oci');
  expect(await storeProblems(store)).toEqual([]);
  expect(await recordProblems(path.join(project, '.gamelayer'), store)).toEqual([]);
}

describe('kill -9 during a build', () => {
  // Points spread over the whole build, each at one rename (every file the build places for good is a temp file
  // renamed onto its name): the n-th, as it is entered (the file is whole under its temp name only) or once done.
  // Counted in the CLI's own process (kill-at-rename.ts): polling the disk instead, a fast build could pass a point
  // between two looks, and a loaded machine let a poll land late.
  const blob = /\/\.gamelayer\/oci\/blobs\/sha256\/[0-9a-f]{64}$/;
  const nthBlob = (nth: number): RenamePoint => ({ target: blob, nth, at: 'entered' });
  const oci = (p: string) => path.join(p, '.gamelayer/oci');
  const points: { name: string; at: () => RenamePoint; landed: (project: string) => Promise<void> }[] = [
    {
      name: 'while the first scan cache is written',
      at: () => ({ target: /\/\.gamelayer\/cache\/stat\/[^/]+\.json$/, at: 'entered' }),
      landed: async (p) => expect(await jsonFiles(path.join(p, '.gamelayer/cache/stat'))).toEqual([]),
    },
    {
      name: 'while the archive content cache fills',
      at: () => ({ target: /\/\.gamelayer\/cache\/archive-content\/[0-9a-f]{16}$/, nth: 2, at: 'entered' }),
      landed: async (p) => expect((await readdir(path.join(p, '.gamelayer/cache/archive-content'))).filter((n) => /^[0-9a-f]{16}$/.test(n))).toHaveLength(1),
    },
    {
      name: 'while the first layer is written',
      at: () => nthBlob(1),
      landed: async (p) => {
        expect(await blobCount(oci(p))).toBe(0);
        expect(await tmpFileCount(oci(p))).toBeGreaterThan(0);
      },
    },
    { name: 'after 3 layers', at: () => nthBlob(4), landed: async (p) => expect(await blobCount(oci(p))).toBe(3) },
    { name: 'half-way', at: () => nthBlob(Math.ceil(reference.layers / 2) + 1), landed: async (p) => expect(await blobCount(oci(p))).toBe(Math.ceil(reference.layers / 2)) },
    {
      name: 'after the last layer',
      at: () => nthBlob(reference.layers + 1),
      landed: async (p) => {
        expect(await blobCount(oci(p))).toBe(reference.layers);
        expect(await blobNames(oci(p))).toEqual(expect.arrayContaining(reference.layerDigests));
      },
    },
    { name: 'while image documents are written', at: () => nthBlob(reference.blobs - 3), landed: async (p) => expect(await blobCount(oci(p))).toBe(reference.blobs - 4) },
    {
      name: 'while records are written',
      at: () => ({ target: /\/\.gamelayer\/records\/build-[^/]+\.json$/, at: 'entered' }),
      landed: async (p) => {
        expect(await blobCount(oci(p))).toBe(reference.blobs);
        expect(await jsonFiles(path.join(p, '.gamelayer/records'))).toEqual([]);
      },
    },
  ];

  it.each(points.map((p, i) => [i, p.name] as const))('point %i: %s', async (i) => {
    const point = points[i]!;
    const project = await makeProject(path.join(root, `build-kill-${i}`), game);
    const outcome = await runCliKilledAtRename(['build'], point.at(), { cwd: project });
    expect(outcome.killed, outcome.killed ? '' : `ended before the kill: ${JSON.stringify(outcome)}`).toBe(true);
    await point.landed(project);
    await expectConsistent(project);
    const present = await blobCount(oci(project));

    const next = await runCli(['build', '--json'], { cwd: project });
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    const out = JSON.parse(next.stdout) as { images: { name: string; digest: string }[]; summary: { built: number } };
    expect(out.images.find((x) => x.name === 'server')!.digest).toBe(reference.server);
    // Layers the killed run finished are reused, not built again (up to the three in flight when it died: two
    // making their tar, one finishing, src/pipeline/layer-slots.ts).
    expect(out.summary.built).toBeLessThanOrEqual(Math.max(0, reference.layers - present) + 3);
    await expectConsistent(project);
    // The killed run's temp files are gone once the next run is through.
    expect((await listFilesUnder(path.join(project, '.gamelayer'))).filter((f) => TEMP.test(f))).toEqual([]);
    expect(await blobCount(oci(project))).toBe(reference.blobs);
  });
});

describe('kill -9 during a push', () => {
  let project: string;
  let proxy: FaultProxy;
  beforeAll(async () => {
    // The reference build's project: the same build a `build` of a new project would make, already done.
    project = built;
    proxy = await startFaultProxy(registry.host);
  }, 60_000);
  afterAll(async () => proxy?.stop());

  // Each kill lands in the fault proxy the push goes through, at one request to /v2/<repo>/: as it arrives (never
  // passed on) or once the registry answered it. Polling the registry's log instead, a push on a fast disk could
  // finish, or pass the point, between two looks.
  const blobPut = (r: string) => ({ method: 'PUT', path: new RegExp(`^/v2/${r}/blobs/uploads/`) });
  const manifestPut = (r: string, tag = '[^/]+') => ({ method: 'PUT', path: new RegExp(`^/v2/${r}/manifests/${tag}$`) });
  const points: { name: string; at: (repo: string) => RequestPoint }[] = [
    { name: 'during the first upload', at: (r) => ({ method: 'PATCH', path: new RegExp(`^/v2/${r}/blobs/uploads/`), at: 'arrived' }) },
    { name: 'after 2 blobs', at: (r) => ({ ...blobPut(r), nth: 2, at: 'answered' }) },
    { name: 'half-way through the blobs', at: (r) => ({ ...blobPut(r), nth: Math.ceil(reference.layers / 2), at: 'answered' }) },
    { name: 'just before the first manifest', at: (r) => ({ ...manifestPut(r), at: 'arrived' }) },
    { name: 'between images', at: (r) => ({ ...manifestPut(r), at: 'answered' }) },
    // The last tree image's tag: the server image and the other trees may be through, the record is not.
    { name: 'at the last images', at: (r) => ({ ...manifestPut(r, '1\\.0\\.0-app-media'), at: 'arrived' }) },
  ];

  it.each(points.map((p, i) => [i, p.name] as const))('point %i: %s', async (i) => {
    const point = points[i]!;
    const repo = `studio/kill-${i}`;
    const dest = `${proxy.host}/${repo}`;
    const outcome = await runCliKilledAtRequest(proxy, point.at(repo), ['build', '--push', dest], { cwd: project });
    expect(outcome.killed, outcome.killed ? '' : `ended before the kill: ${JSON.stringify(outcome)}`).toBe(true);
    // Killed where meant (the registry's storage, as the proxy saw it answered): so many blobs in, no manifest yet;
    // then some images, never the record.
    const done = await storedBlobs(registry.storageDir, repo);
    const manifests = await storedManifests(registry.storageDir, repo);
    if (i === 0) expect(done).toEqual([]);
    if (i === 1) expect(done.length).toBeGreaterThanOrEqual(2);
    // No blob is PUT twice (test/push-blob-once.test.ts counts every upload's bytes). The n-th PUT to arrive was
    // answered, but up to 3 that arrived before it (4 uploads at once) may still be in the registry's hands when the
    // kill cuts them: seen once in CI at the end of stop 48 (17 stored for the 18th PUT).
    const puts = proxy.seen.filter((s) => s.method === 'PUT' && s.path.startsWith(`/v2/${repo}/blobs/uploads/`)).map((s) => new URL(s.path, 'http://proxy').searchParams.get('digest'));
    expect(puts.length).toBe(new Set(puts).size);
    if (i === 2) expect(done.length).toBeGreaterThanOrEqual(Math.ceil(reference.layers / 2) - 3);
    if (i <= 3) expect(manifests).toEqual([]);
    if (i >= 4) expect(manifests.length).toBeGreaterThan(0);
    expect((await storedTags(registry.storageDir, repo))['1.0.0.gamelayer-record']).toBeUndefined();
    if (i === 5) {
      // Killed where held: the server image is tagged, the held image and the record are not.
      const held = await storedTags(registry.storageDir, repo);
      expect(held['1.0.0']).toBe(reference.server);
      expect(held['1.0.0-app-media']).toBeUndefined();
      expect(held['1.0.0.gamelayer-record']).toBeUndefined();
    }
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    await expectConsistent(project);
    const before = await registry.uploadedBlobs(repo);

    const next = await runCli(['build', '--push', dest, '--json'], { cwd: project });
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    const tags = await storedTags(registry.storageDir, repo);
    expect(tags['1.0.0']).toBe(reference.server);
    // build --push also moves the line's tag to its newest record (issue 15).
    expect(Object.keys(tags).sort()).toEqual(['1.0.0', '1.0.0-app', '1.0.0-app-media', '1.0.0-engine', '1.0.0-engine-media', '1.0.0.gamelayer-record', 'gamelayer-line.default']);
    expect(tags['gamelayer-line.default']).toBe(tags['1.0.0.gamelayer-record']);
    // No blob the registry had completed before the kill was uploaded again, and none twice in all.
    const all = await registry.uploadedBlobs(repo);
    const again = all.slice(before.length).filter((d) => before.includes(d));
    expect(again).toEqual([]);
    expect(new Set(all).size).toBe(all.length);
  });
});
