// The docker path against the real Docker engine (20.10, legacy builder): the emitted Dockerfiles build, the
// image file system equals the daemonless build's (loaded with gamelayer load) and the source trees, docker's
// layers follow the planned boundaries, a one-file change reuses docker's cache up to its layer, and daemon
// errors read clearly.
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry } from './support/registry.js';
import { build } from '../src/pipeline/build.js';
import { loadConfig, type GameConfig } from '../src/config/load.js';
import { buildWithDocker } from '../src/docker/daemon-build.js';
import { loadBuild } from '../src/docker/load.js';
import { dockerGame } from '../src/dockerfile/game.js';
import { GamelayerError } from '../src/errors.js';
import { TREE_NAMES } from '../src/types.js';
import { busyboxImage, docker, imageFiles, removeImages, runImage, saveImage, tarFiles, type FsEntry } from './support/docker-images.js';
import { tempDir } from './support/tmp.js';
import { sampleYamlOn } from './support/sample.js';
import { writeTree } from './support/trees.js';

const REPO = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const created: string[] = [];
afterAll(() => removeImages(created));

/** Files docker adds to every container's file system (export) that are no part of any image. */
const RUNTIME = /^(\.dockerenv|dev|proc|sys|etc|etc\/(hosts|hostname|resolv\.conf|mtab))$/;
function withoutRuntime(m: Map<string, FsEntry>): Record<string, FsEntry> {
  return Object.fromEntries([...m].filter(([n]) => n !== '' && !RUNTIME.test(n) && !n.startsWith('dev/') && !n.startsWith('proc/') && !n.startsWith('sys/')).sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('sample game through the daemon and through gamelayer load', () => {
  let dir: string;
  let config: GameConfig;
  beforeAll(async () => {
    dir = await tempDir('gl-docker-');
    const base = await busyboxImage();
    const archive = await saveImage(base, dir);
    await cp(path.join(REPO, 'fixtures/sample-game'), path.join(dir, 'game'), { recursive: true, verbatimSymlinks: true });
    const yaml = path.join(dir, 'game', 'gamelayer.yaml');
    await writeFile(yaml, sampleYamlOn(await readFile(yaml, 'utf8'), `docker-archive:${archive}`));
    config = await loadConfig(yaml);
  });

  it('builds the emitted (compat) Dockerfiles, runs the server, and matches the daemonless build file for file', async () => {
    const result = await buildWithDocker({ config, tag: 't1', repository: 'gl-test/docker' });
    created.push(...result.images.map((i) => i.ref), (await dockerGame(config)).input.baseImage);
    expect(result.compat).toBe(true); // Docker 20.10 here
    expect(result.images.map((i) => i.ref)).toEqual(['gl-test/docker:t1', ...TREE_NAMES.map((t) => `gl-test/docker:t1-${t}`)]);

    const server = await runImage('gl-test/docker:t1');
    expect(server.output).toContain('sample-game: all four trees verified');
    expect(server.code).toBe(0);

    // Docker's layers: the base's, then exactly one per planned layer.
    const game = await dockerGame(config);
    const baseLayers = (await docker.getImage('gl-test/docker:t1').inspect()).RootFS.Layers!.length - game.plan.layers.length;
    expect(baseLayers).toBe((await docker.getImage(game.input.baseImage).inspect()).RootFS.Layers!.length);
    const inspected = await docker.getImage('gl-test/docker:t1').inspect();
    expect(inspected.Config.Entrypoint).toEqual(config.start);

    // The daemonless build of the same config, loaded into the daemon.
    await build({ config, tag: 't1' });
    const loaded = await loadBuild({ config, tag: 't1', repository: 'gl-test/daemonless' });
    created.push(...loaded.flatMap((l) => l.repoTags));
    expect(loaded.map((l) => l.repoTags[0])).toEqual(['gl-test/daemonless:t1', ...TREE_NAMES.map((t) => `gl-test/daemonless:t1-${t}`)]);
    const ran = await runImage('gl-test/daemonless:t1');
    expect(ran.output).toContain('sample-game: all four trees verified');
    expect(ran.code).toBe(0);

    // The exports read at once (each is a daemon round trip and a stream), compared in order.
    const suffixes = ['', ...TREE_NAMES.map((t) => `-${t}`)];
    const files = await Promise.all(suffixes.flatMap((suffix) => [`gl-test/docker:t1${suffix}`, `gl-test/daemonless:t1${suffix}`].map(async (ref) => withoutRuntime(await imageFiles(ref)))));
    for (const [i, suffix] of suffixes.entries()) {
      const a = files[2 * i]!;
      const b = files[2 * i + 1]!;
      expect(Object.keys(a).length).toBeGreaterThan(20);
      expect(a, `image t1${suffix}`).toEqual(b);
    }
  });

  it("the daemon's BuildKit (API builder 2, compat Dockerfile: 20.10's frontend has no --link) builds the same file system", async () => {
    const result = await buildWithDocker({ config, tag: 'bk', repository: 'gl-test/buildkit', compat: true, buildkit: true, trees: false });
    created.push('gl-test/buildkit:bk');
    expect(result.buildkit).toBe(true);
    const a = withoutRuntime(await imageFiles('gl-test/buildkit:bk'));
    const b = withoutRuntime(await imageFiles('gl-test/docker:t1'));
    expect(a).toEqual(b);
    expect((await docker.getImage('gl-test/buildkit:bk').inspect()).RootFS.Layers!.length).toBe((await docker.getImage('gl-test/docker:t1').inspect()).RootFS.Layers!.length);
  });

  it('pushes through the daemon to a registry without credentials; skopeo reads what docker pushed', async () => {
    const registry = await startRegistry();
    try {
      const repo = `${registry.host}/gl-test/pushed`;
      const result = await buildWithDocker({ config, tag: 'p1', repository: repo, push: true, trees: false });
      created.push(...result.images.map((i) => i.ref));
      const server = result.images.find((i) => i.name === 'server')!;
      expect(server.pushedDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
      const inspected = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${repo}:p1`]).toString());
      expect(inspected.Digest).toBe(server.pushedDigest);
    } finally {
      await registry.stop();
    }
  });

  it('no daemon at DOCKER_HOST: a clear error naming the address (library and CLI)', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///tmp/gl-no-docker.sock';
    try {
      const e = await buildWithDocker({ config, tag: 't1' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(GamelayerError);
      expect((e as GamelayerError).code).toBe('docker.unreachable');
      expect((e as GamelayerError).message).toMatch(/^no Docker daemon reachable at unix:\/\/\/tmp\/gl-no-docker\.sock/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    // The compiled CLI (the test setup compiles dist/ from the current sources): no tsx start-up to pay for.
    const cli = await run(process.execPath, [path.join(REPO, 'bin/gamelayer.js'), '-c', config.file, 'load', '--tag', 't1'], {
      env: { ...process.env, DOCKER_HOST: 'unix:///tmp/gl-no-docker.sock' },
    }).catch((x: { code: number; stderr: string }) => x);
    expect((cli as { code: number }).code).toBe(1);
    expect((cli as { stderr: string }).stderr).toContain('error[docker.unreachable]: no Docker daemon reachable at unix:///tmp/gl-no-docker.sock');
    expect((cli as { stderr: string }).stderr).toContain('hint: start the Docker engine');
  });

  it('a daemon-side failure names the image and the daemon message', async () => {
    const yaml = path.join(dir, 'game', 'gamelayer.yaml');
    const bad = await loadConfig(yaml);
    bad.baseImage = '127.0.0.1:1/missing/base:1'; // the daemon tries to pull it from a closed loopback port
    const e = await buildWithDocker({ config: bad, tag: 'bad', trees: false, repository: 'gl-test/bad' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GamelayerError);
    expect((e as GamelayerError).code).toBe('docker.daemon');
    expect((e as GamelayerError).message).toMatch(/^Docker daemon at unix:\/\/\/var\/run\/docker\.sock failed to build gl-test\/bad:bad: .*127\.0\.0\.1:1/);
  });

  it('gamelayer load of a missing tag lists what the store has', async () => {
    const e = await loadBuild({ config, tag: 'nope' }).catch((x: unknown) => x);
    expect((e as GamelayerError).code).toBe('load.not-found');
    expect((e as GamelayerError).message).toContain('no image tagged nope');
    expect((e as GamelayerError).hint).toContain('t1-app-media');
  });
});

describe('split trees and docker cache', () => {
  it('docker layers follow the planned boundaries; one changed asset rebuilds only its layer and those after it', async () => {
    const dir = await tempDir('gl-docker-split-');
    await writeTree(path.join(dir, 'engine'), { 'start.sh': { mode: 0o755, content: '#!/bin/sh\necho up\n' }, 'lib/libx.so.1': 'x', 'lib/libx.so': { link: 'libx.so.1' } });
    await writeTree(path.join(dir, 'engine-media'), { 'shaders/a.glsl': 'void main(){}\n' });
    await writeTree(path.join(dir, 'app'), { 'config/server.cfg': 'port=1\n' });
    const media: Record<string, string | { link: string }> = {};
    for (let i = 0; i < 48; i++) media[`levels/l${String(i).padStart(2, '0')}/data.pak`] = `level ${i} `.repeat(3000);
    media['levels/current'] = { link: 'l07' };
    await writeTree(path.join(dir, 'app-media'), media);
    await writeFile(
      path.join(dir, 'gamelayer.yaml'),
      'game: split-game\nstart: /opt/local/engine/start.sh\nlayers: {targetSize: 128KiB}\ntrees:\n' +
        '  engine: {source: engine}\n  engine-media: {source: engine-media}\n  app: {source: app}\n  app-media: {source: app-media}\n',
    );
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const game = await dockerGame(config);
    const media0 = game.plan.layers.filter((l) => l.tree === 'app-media');
    expect(media0.length).toBeGreaterThanOrEqual(3);

    const first = await buildWithDocker({ config, tag: 'a', trees: false, repository: 'gl-test/split' });
    created.push('gl-test/split:a', 'gl-test/split:b');
    const layersA = (await docker.getImage('gl-test/split:a').inspect()).RootFS.Layers!;
    expect(layersA).toHaveLength(game.plan.layers.length); // scratch base

    // Each docker layer holds exactly the files (and symlinks) of its planned layer. One `docker save`, read for the
    // manifest and for each layer.
    const savedTar = await bytesOf(await docker.getImage('gl-test/split:a').get());
    const saved = await tarFiles(Readable.from([savedTar]));
    const manifest = JSON.parse(await readLayerManifest(savedTar)) as { Layers: string[] }[];
    const layerFiles = manifest[0]!.Layers;
    expect(layerFiles).toHaveLength(game.plan.layers.length);
    expect(saved.size).toBeGreaterThan(0);
    for (let i = 0; i < game.plan.layers.length; i++) {
      const planned = game.plan.layers[i]!;
      const mount = config.trees[planned.tree].mount.slice(1);
      const want = planned.entries.filter((e) => e.type !== 'dir').map((e) => `${mount}/${e.path}`).sort();
      const have = [...(await layerEntries(savedTar, layerFiles[i]!))].filter(([, e]) => e.type !== 'dir').map(([n]) => n).sort();
      expect(have, `docker layer ${i} = ${planned.tree} layer ${planned.index}`).toEqual(want);
    }

    // Change one asset in the middle app-media layer.
    const middle = media0[1]!;
    const victim = middle.entries.find((e) => e.type === 'file')!;
    // Content no earlier run wrote: a daemon that still holds another run's images must not answer from its cache.
    await writeFile(path.join(dir, 'app-media', victim.path), `changed content ${randomUUID()}\n`);
    const second = await buildWithDocker({ config, tag: 'b', trees: false, repository: 'gl-test/split' });
    const layersB = (await docker.getImage('gl-test/split:b').inspect()).RootFS.Layers!;
    const changedAt = game.plan.layers.findIndex((l) => l.inputKey === middle.inputKey);
    expect(layersB.slice(0, changedAt)).toEqual(layersA.slice(0, changedAt));
    expect(layersB[changedAt]).not.toBe(layersA[changedAt]);
    expect(layersB.slice(changedAt + 1)).toEqual(layersA.slice(changedAt + 1)); // same content, same diffIDs

    // docker's cache: every server-stage COPY before the changed layer is a hit, it and all after are rebuilt.
    const copies = second.images[0]!.stepLog.filter((s) => /^COPY --from=/.test(s.instruction));
    expect(copies).toHaveLength(game.plan.layers.length);
    expect(copies.map((c) => c.cached)).toEqual(game.plan.layers.map((_, i) => i < changedAt));
    expect(first.images[0]!.stepLog.filter((s) => s.cached && /^COPY --from=/.test(s.instruction)).length).toBeLessThanOrEqual(game.plan.layers.length);
  });
});

async function bytesOf(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

/** manifest.json of a `docker save` tar. */
async function readLayerManifest(saved: Buffer): Promise<string> {
  const tar = await import('tar-stream');
  const extract = tar.extract();
  let manifest = '';
  const done = (async () => {
    for await (const entry of extract) {
      let text = '';
      for await (const c of entry) if (entry.header.name === 'manifest.json') text += (c as Buffer).toString();
      if (entry.header.name === 'manifest.json') manifest = text;
    }
  })();
  const { pipeline } = await import('node:stream/promises');
  await Promise.all([pipeline(Readable.from([saved]), extract), done]);
  return manifest;
}

/** The entries of one layer tar inside a `docker save` tar. */
async function layerEntries(saved: Buffer, layerFile: string): Promise<Map<string, FsEntry>> {
  const tar = await import('tar-stream');
  const { PassThrough } = await import('node:stream');
  const extract = tar.extract();
  let result = new Map<string, FsEntry>();
  const done = (async () => {
    for await (const entry of extract) {
      if (entry.header.name === layerFile) {
        const pass = new PassThrough();
        const parsed = tarFiles(pass);
        for await (const c of entry) pass.write(c as Buffer);
        pass.end();
        result = await parsed;
      } else for await (const _ of entry) void _;
    }
  })();
  const { pipeline } = await import('node:stream/promises');
  await Promise.all([pipeline(Readable.from([saved]), extract), done]);
  return result;
}
