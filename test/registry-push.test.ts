// pushImage against a real CNCF distribution registry, read back with skopeo; counts come from the registry's
// own access log and storage, never from our client.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { pushImage, RegistryClient } from '../src/registry/index.js';
import type { Reporter } from '../src/report/reporter.js';
import { addTag, randomContent } from './support/make-layout.js';
import { startRegistry, storageProblems, storedTags, type TestRegistry } from './support/registry.js';

const run = promisify(execFile);
let work: string;
let reg: TestRegistry;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-push-'));
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

const blobUploads = (log: { method: string; path: string; status: number }[]) =>
  log.filter((e) => e.method === 'PUT' && e.path.includes('/blobs/uploads/') && e.status === 201);
const manifestPuts = (log: { method: string; path: string; status: number }[]) =>
  log.filter((e) => e.method === 'PUT' && e.path.includes('/manifests/') && e.status === 201);

function recordingReporter(): Reporter & { ticks: Map<string, number>; lines: string[] } {
  const ticks = new Map<string, number>();
  const lines: string[] = [];
  return {
    ticks,
    lines,
    info: (m) => lines.push(m),
    warn: (m) => lines.push(`warning: ${m}`),
    task: (label) => ({
      tick: (n) => ticks.set(label, (ticks.get(label) ?? 0) + n),
      done: () => {},
    }),
  };
}

describe('pushImage to a plain registry', () => {
  const layout = () => path.join(work, 'layout');
  const base = { files: { 'engine/bin': randomContent(200_000) } };
  const media = { files: { 'media/a.pak': randomContent(300_000) } };

  it('pushes an image that skopeo reads back with the same digests', async () => {
    const t = await addTag(layout(), 'v1', [{ layers: [base, media, { files: { 'app/game.cfg': 'maxplayers=32' } }] }]);
    const reporter = recordingReporter();
    const r = await pushImage({ layout: layout(), to: `${reg.host}/studio/game:v1`, reporter });
    expect(r.digest).toBe(t.top.digest);
    expect(r.upToDate).toBe(false);
    expect(r.blobs).toEqual({ total: 4, skipped: 0, mounted: 0, uploaded: 4 });
    const log = await reg.accessLog();
    expect(blobUploads(log)).toHaveLength(4);
    expect(manifestPuts(log)).toHaveLength(1);
    // Progress reported per blob reaches each blob's size.
    const sizes = [...t.images[0]!.layers, t.images[0]!.config].map((d) => d.size).sort((a, b) => a - b);
    expect([...reporter.ticks.values()].sort((a, b) => a - b)).toEqual(sizes);

    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/studio/game:v1`]);
    const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[] };
    expect(inspected.Digest).toBe(t.top.digest);
    expect(inspected.Layers).toEqual(t.images[0]!.layers.map((l) => l.digest));

    const copy = path.join(work, 'copy-back');
    await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${reg.host}/studio/game:v1`, `oci:${copy}:v1`]);
    const back = JSON.parse(await readFile(path.join(copy, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(back.manifests[0]!.digest).toBe(t.top.digest);
    expect(await storageProblems(reg.storageDir)).toEqual([]);
  });

  it('a second push of the same image uploads nothing', async () => {
    await reg.resetAccessLog();
    const r = await pushImage({ layout: layout(), to: `${reg.host}/studio/game:v1` });
    expect(r.upToDate).toBe(true);
    expect(r.bytesSent).toBe(0);
    const log = await reg.accessLog();
    expect(blobUploads(log)).toHaveLength(0);
    expect(log.filter((e) => e.method === 'POST' || e.method === 'PATCH')).toHaveLength(0);
    expect(manifestPuts(log)).toHaveLength(0);
  });

  it('after one layer changes, only that layer, the config and the manifest go up', async () => {
    const t2 = await addTag(layout(), 'v2', [{ layers: [base, media, { files: { 'app/game.cfg': 'maxplayers=64' } }] }]);
    await reg.resetAccessLog();
    const r = await pushImage({ layout: layout(), to: `${reg.host}/studio/game:v2`, tags: ['latest'] });
    expect(r.blobs).toEqual({ total: 4, skipped: 2, mounted: 0, uploaded: 2 });
    expect(r.uploaded.sort()).toEqual([t2.images[0]!.layers[2]!.digest, t2.images[0]!.config.digest].sort());
    const log = await reg.accessLog();
    expect(blobUploads(log)).toHaveLength(2);
    // The two unchanged layers were never started.
    expect(log.filter((e) => e.method === 'POST')).toHaveLength(2);
    const tags = await storedTags(reg.storageDir, 'studio/game');
    expect(tags).toMatchObject({ v1: expect.any(String), v2: t2.top.digest, latest: t2.top.digest });
    expect(await storageProblems(reg.storageDir)).toEqual([]);
  });

  it('pushes a multi-platform index: children before the index, media layer stored once', async () => {
    const shared = { files: { 'media/shared.pak': randomContent(150_000) } };
    const t = await addTag(layout(), 'multi', [
      { layers: [shared, { files: { 'bin/server': randomContent(50_000) } }], platform: { os: 'linux', architecture: 'amd64' } },
      { layers: [shared, { files: { 'bin/server': randomContent(50_000) } }], platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    await reg.resetAccessLog();
    const r = await pushImage({ layout: layout(), to: `${reg.host}/studio/multi:m1`, image: 'multi', concurrency: 2 });
    expect(r.digest).toBe(t.top.digest);
    expect(r.blobs.uploaded).toBe(5); // shared layer once, two binaries, two configs
    const log = await reg.accessLog();
    expect(blobUploads(log)).toHaveLength(5);
    const puts = manifestPuts(log).map((e) => e.path);
    expect(puts).toHaveLength(3);
    expect(puts[2]).toMatch(/manifests\/m1$/);
    const { stdout } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/studio/multi:m1`]);
    expect((JSON.parse(stdout) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest)).toEqual(
      t.images.map((i) => i.manifest.digest),
    );
    const { stdout: arm } = await run('skopeo', [
      'inspect', '--tls-verify=false', '--override-arch', 'arm64', `docker://${reg.host}/studio/multi:m1`,
    ]);
    const armImage = JSON.parse(arm) as { Architecture: string; Layers: string[] };
    expect(armImage.Architecture).toBe('arm64');
    expect(armImage.Layers).toEqual(t.images[1]!.layers.map((l) => l.digest));
    expect(await storageProblems(reg.storageDir)).toEqual([]);
  });

  it('mounts blobs from another repository instead of uploading them', async () => {
    await reg.resetAccessLog();
    const r = await pushImage({ layout: layout(), to: `${reg.host}/studio/other:v1`, image: 'v1', mountFrom: ['studio/game'] });
    expect(r.blobs).toEqual({ total: 4, skipped: 0, mounted: 4, uploaded: 0 });
    const log = await reg.accessLog();
    expect(blobUploads(log)).toHaveLength(0);
    expect(log.filter((e) => e.method === 'POST' && e.path.includes('mount=') && e.status === 201)).toHaveLength(4);
    expect(await storageProblems(reg.storageDir)).toEqual([]);
  });

  it('uploads in resumable chunks when asked (Content-Range, registry Range)', async () => {
    await addTag(layout(), 'big', [{ layers: [{ files: { 'media/big.pak': randomContent(1_300_000) } }] }]);
    await reg.resetAccessLog();
    const r = await pushImage({ layout: layout(), to: `${reg.host}/studio/chunks:big`, chunkedAbove: 1_000_000, chunkSize: 400_000 });
    expect(r.blobs.uploaded).toBe(2);
    const log = await reg.accessLog();
    expect(log.filter((e) => e.method === 'PATCH' && e.status === 202).length).toBe(5); // 4 chunks + config's 1
    expect(await storageProblems(reg.storageDir)).toEqual([]);
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/studio/chunks:big`]);
    expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(r.digest);
  });

  it('lists tags across pages', async () => {
    const client = new RegistryClient({ host: reg.host });
    expect((await client.listTags('studio/game', 1)).sort()).toEqual(['latest', 'v1', 'v2']);
  });

  it('refuses an image the layout does not have, naming the layout index', async () => {
    const err = await pushImage({ layout: layout(), to: `${reg.host}/studio/game:nope` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GamelayerError);
    expect((err as GamelayerError).message).toBe(`${path.join(layout(), 'index.json')}: no image nope`);
    expect((err as GamelayerError).hint).toContain('v1');
  });
});
