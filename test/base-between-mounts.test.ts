// A folder between nested mounts (app at /srv/game, app-media at /srv/game/mods/paks) that the outer tree's source
// lacks keeps the base image's owner and mode (stop 45), on a base given by reference in a real registry:
// - `build --builder docker` reads the base's folders from the daemon's copy once the trees are scanned, so it follows
//   the native build's rule (it counted every such folder as the outer tree's, and docker wrote it root 0755);
// - a fresh host building on the registry's record takes the base's folders between the mounts from the record's
//   `between` without reading the base's layers; a record without it (stop 44's) makes it read them.
import { spawnSync } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchBuildRecordFor, pushBuildRecord } from '../src/registry/artifact.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import type { TarEntry } from './support/make-layout.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const GAME = 'between-test';
const TREES = ['engine', 'engine-media', 'app', 'app-media'];
const at = { mtime: new Date(0), uid: 0, gid: 0 };
const dir = (name: string, mode = 0o755, uid = 0): TarEntry => ({ ...at, name, type: 'directory', mode, uid, gid: uid });
const registry = useRegistry();
let root: string;
let baseRef: string;
/** The base's layer blobs, as the registry names them. */
let baseLayers: string[];

/** A host's copy of the game: sources and gamelayer.yaml, no .gamelayer/. */
async function host(name: string): Promise<string> {
  const out = path.join(root, name);
  await mkdir(out);
  for (const t of [...TREES, 'gamelayer.yaml']) await cp(path.join(root, 'src', t), path.join(out, t), { recursive: true });
  return out;
}

function stat(image: string, paths: string[]): string {
  const r = spawnSync('docker', ['run', '--rm', '--entrypoint', 'sh', image, '-c', `stat -c "%n %u:%g %a" ${paths.join(' ')}`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** Image digests by name, from `build --json`. */
async function build(cwd: string, ...args: string[]): Promise<{ digests: string[]; stderr: string }> {
  const r = await runCli(['build', ...args, '--json'], { cwd });
  expect(r.code, r.stderr).toBe(0);
  const json = JSON.parse(r.stdout) as { images: { name: string; digest: string }[] };
  return { digests: json.images.map((i) => `${i.name}=${i.digest}`).sort(), stderr: r.stderr };
}

/** The base's layer blobs the registry served since the log was last reset. */
async function baseLayerGets(): Promise<string[]> {
  return (await registry.accessLog()).filter((e) => e.method === 'GET' && baseLayers.includes(e.path.split('/blobs/')[1] ?? '')).map((e) => e.path);
}

beforeAll(async () => {
  root = await tempDir('gl-between-');
  const src = path.join(root, 'src');
  for (const t of TREES) {
    await mkdir(path.join(src, t), { recursive: true });
    await writeFile(path.join(src, t, 'hello.txt'), `${t}\n`);
  }
  // Only the folder between the mounts is the base's own: above app-media's mount nothing else has an owner of its own.
  const layout = await writeBusyboxLayout(path.join(root, 'base'), { extraLayers: [[dir('srv/'), dir('srv/game/'), dir('srv/game/mods/', 0o700, 1000)]] });
  baseRef = `${registry.host}/base/between:1`;
  const copy = spawnSync('skopeo', ['copy', '--dest-tls-verify=false', layout, `docker://${baseRef}`], { encoding: 'utf8' });
  expect(copy.status, copy.stderr).toBe(0);
  const manifest = JSON.parse(spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${baseRef}`], { encoding: 'utf8' }).stdout) as { layers: { digest: string }[] };
  baseLayers = manifest.layers.map((l) => l.digest);
  expect(baseLayers).toHaveLength(2);
  await writeFile(
    path.join(src, 'gamelayer.yaml'),
    [
      `game: ${GAME}`,
      'version: 1.0.0',
      `baseImage: ${baseRef}`,
      'start: ["/bin/sh", "-c", "sleep 1"]',
      'trees:',
      '  engine: {source: ./engine}',
      '  engine-media: {source: ./engine-media}',
      '  app: {source: ./app, mount: /srv/game}',
      '  app-media: {source: ./app-media, mount: /srv/game/mods/paks}',
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(() => {
  const tags = ['dnest', ...TREES.map((t) => `dnest-${t}`)].map((t) => `${GAME}:${t}`);
  if (baseRef) tags.push(baseRef); // pulled by the docker builder
  removeImagesAfterRun(tags);
});

const WANT = '/srv/game 0:0 755\n/srv/game/mods 1000:1000 700\n/srv/game/mods/paks 0:0 755\n';

describe('a folder between nested mounts, the base given by reference in a registry', () => {
  it("--builder docker keeps the base's owner and mode there, as the native build does", async () => {
    const cwd = await host('docker');
    const r = await runCli(['build', '--builder', 'docker', '--docker-compat', '--tag', 'dnest'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    // app-media is copied to its mount (docker keeps the existing /srv/game/mods), not its layer folder to `/`.
    for (const image of [`${GAME}:dnest`, `${GAME}:dnest-app-media`]) expect(stat(image, ['/srv/game', '/srv/game/mods', '/srv/game/mods/paks']), image).toBe(WANT);
  });

  it("a fresh host takes the base's folders between from the registry's record without reading the base; a record without `between` (stop 44's) makes it read them", async () => {
    const repo = `${registry.host}/studio/between`;
    await registry.resetAccessLog();
    const first = await build(await host('first'), '--push', repo, '--tag', 'v1', '--line', 'main');
    // The first host read the base's layers in the registry (the observation below can fail).
    expect(await baseLayerGets()).not.toEqual([]);

    await registry.resetAccessLog();
    const fresh = await build(await host('fresh'), '--push', repo, '--tag', 'v1', '--line', 'main');
    expect(fresh.digests).toEqual(first.digests);
    expect(await baseLayerGets()).toEqual([]);

    // The line's record again without `between`, as stop 44 wrote it (the record blob has a digest of its own).
    const found = await fetchBuildRecordFor(`${repo}:v1`);
    expect(found.record.between).toBeDefined();
    const { between: _dropped, ...older } = found.record;
    const server = found.record.images.find((i) => i.name === 'server')!;
    const head = await fetch(`${registry.url}/v2/studio/between/manifests/${server.digest}`, { method: 'HEAD', headers: { accept: server.mediaType } });
    await pushBuildRecord({ to: repo, record: older, subject: { mediaType: server.mediaType, digest: server.digest, size: Number(head.headers.get('content-length')) }, tags: [], line: 'main' });

    await registry.resetAccessLog();
    const again = await build(await host('older-record'), '--push', repo, '--tag', 'v1', '--line', 'main');
    expect(again.digests).toEqual(first.digests);
    expect(again.stderr).not.toContain('damaged');
    expect(await baseLayerGets()).not.toEqual([]);
  });
});
