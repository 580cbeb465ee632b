// gamelayer ls, inspect and build's summary on a build of two platforms: sizes of an index count each blob once (the
// platforms share their media layers), inspect labels a layer with a platform only when that platform alone holds it,
// and build counts each tree marker once.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

let dir: string;
let registry: TestRegistry;
let buildOutput: string;
const repo = () => `${registry.host}/studio/two-platforms`;

beforeAll(async () => {
  dir = await tempDir();
  const files: Record<string, Buffer | string> = {
    'engine-amd64/start.sh': '#!/bin/sh\necho amd64\n',
    'engine-arm64/start.sh': '#!/bin/sh\necho arm64\n',
    'app-amd64/game.cfg': 'amd64\n',
    'app-arm64/game.cfg': 'arm64\n',
    'engine-media/shader.bin': Buffer.alloc(4096, 3),
    // Incompressible, so the shared media layer dominates every size below.
    'app-media/level.pak': Buffer.from(Array.from({ length: 400_000 }, (_, i) => (i * 2654435761) >>> 24)),
  };
  for (const [rel, body] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), body, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
  }
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    [
      'game: two-platforms',
      'baseImage: scratch',
      'start: /opt/local/engine/start.sh',
      'platforms: [linux/amd64, linux/arm64]',
      'trees:',
      '  engine: {source: {linux/amd64: engine-amd64, linux/arm64: engine-arm64}}',
      '  engine-media: {source: engine-media}',
      '  app: {source: {linux/amd64: app-amd64, linux/arm64: app-arm64}}',
      '  app-media: {source: app-media}',
      '',
    ].join('\n'),
  );
  registry = await startRegistry();
  const r = await runCli(['build', '--tag', 'v1', '--push', repo()], { cwd: dir });
  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
  buildOutput = r.stdout + r.stderr;
}, 180_000);
afterAll(async () => {
  await registry?.stop();
});

interface Doc {
  manifests?: { digest: string }[];
  config?: { digest: string };
  layers?: { digest: string }[];
}

/** The bytes of every distinct blob an image reaches in the local layout, from the blob files themselves. */
async function distinctBlobBytes(tag: string): Promise<{ distinct: number; perPlatformSum: number }> {
  const layout = path.join(dir, '.gamelayer/oci');
  const blob = (d: string) => path.join(layout, 'blobs/sha256', d.slice('sha256:'.length));
  const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  const top = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)!.digest;
  const seen = new Set<string>([top]);
  let perPlatformSum = (await stat(blob(top))).size;
  const doc = JSON.parse(await readFile(blob(top), 'utf8')) as Doc;
  expect(doc.manifests?.length).toBe(2);
  for (const child of doc.manifests!) {
    seen.add(child.digest);
    perPlatformSum += (await stat(blob(child.digest))).size;
    const c = JSON.parse(await readFile(blob(child.digest), 'utf8')) as Doc;
    for (const d of [c.config!.digest, ...c.layers!.map((l) => l.digest)]) {
      seen.add(d);
      perPlatformSum += (await stat(blob(d))).size;
    }
  }
  let distinct = 0;
  for (const d of seen) distinct += (await stat(blob(d))).size;
  return { distinct, perPlatformSum };
}

describe('ls of a build of two platforms', () => {
  it('gives an index the bytes of its distinct blobs, shared media layers once, locally and in the registry', async () => {
    const server = await distinctBlobBytes('v1');
    const media = await distinctBlobBytes('v1-app-media');
    // The check has teeth: counting every platform's layers would count the 400 KB pak twice.
    expect(server.perPlatformSum - server.distinct).toBeGreaterThan(390_000);

    const local = JSON.parse((await runCli(['ls', '--json'], { cwd: dir })).stdout) as { tags: { tag: string; size: number }[] };
    const localSize = Object.fromEntries(local.tags.map((t) => [t.tag, t.size]));
    expect(localSize.v1).toBe(server.distinct);
    expect(localSize['v1-app-media']).toBe(media.distinct);

    const remote = JSON.parse((await runCli(['ls', repo(), '--json'], { cwd: dir })).stdout) as { tags: { tag: string; size: number }[] };
    const remoteSize = Object.fromEntries(remote.tags.map((t) => [t.tag, t.size]));
    expect(remoteSize.v1).toBe(server.distinct);
    expect(remoteSize['v1-app-media']).toBe(media.distinct);
  });
});

describe('inspect of a build of two platforms', () => {
  it('labels a layer with a platform only when that platform alone holds it', async () => {
    const r = await runCli(['inspect', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as { layers: { tree: string; status: string; platform?: string }[] };
    const rows = (tree: string, status: string) => v.layers.filter((l) => l.tree === tree && l.status === status).map((l) => l.platform ?? 'shared');
    // Media layers are the same blobs on both platforms; their tree images' markers too (the tree digest is one).
    expect(rows('app-media', 'new')).toEqual(['shared']);
    expect(rows('engine-media', 'new')).toEqual(['shared']);
    expect(rows('engine-media', 'marker')).toEqual(['shared']);
    // Engine and app: one layer and one marker per platform, each named.
    expect(rows('engine', 'new').sort()).toEqual(['linux/amd64', 'linux/arm64']);
    expect(rows('app', 'marker').sort()).toEqual(['linux/amd64', 'linux/arm64']);

    const text = (await runCli(['inspect'], { cwd: dir })).stdout;
    expect(text).toMatch(/^app-media +0 +new /m);
    expect(text).toMatch(/^engine \(linux\/arm64\) +1 +marker /m);
  });
});

describe('build output of two platforms', () => {
  it('counts the tree markers once each: the media layers have a row per platform in the table, not a marker', () => {
    // 8 rows (4 trees x 2 platforms) over 6 distinct layers (engine and app per platform, the media trees shared);
    // 6 markers: engine and app per platform, one for each media tree (same tree digest on both platforms).
    expect(buildOutput).toMatch(/^layers: 8 built, 0 reused; .*; and 6 tree markers$/m);
  });
});

describe('diff --against of a build of two platforms', () => {
  it('reports the pull cost of a node of the platform asked for (--platform), not only of the first', async () => {
    // Only the arm64 engine changes: an amd64 node pulls nothing of the engine, an arm64 node its new layers.
    await writeFile(path.join(dir, 'engine-arm64/start.sh'), '#!/bin/sh\necho arm64, patched\n', { mode: 0o755 });
    expect((await runCli(['build', '--tag', 'v2'], { cwd: dir })).code).toBe(0);
    const cost = async (...platform: string[]) => {
      const r = await runCli(['diff', '--against', `${repo()}:v1`, ...platform, '--json'], { cwd: dir });
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as { pullCost: { pod: { platform: string }; images: { image: string; newLayers: number }[] } };
      return { platform: j.pullCost.pod.platform, engine: j.pullCost.images.find((i) => i.image === 'engine')!.newLayers };
    };
    expect(await cost()).toEqual({ platform: 'linux/amd64', engine: 0 });
    expect(await cost('--platform', 'linux/arm64')).toEqual({ platform: 'linux/arm64', engine: 2 }); // its layer and marker

    const wrong = await runCli(['diff', '--against', `${repo()}:v1`, '--platform', 'linux/s390x', '--json'], { cwd: dir });
    expect(JSON.parse(wrong.stdout).error).toMatchObject({
      code: 'cli.diff-args',
      message: '--platform linux/s390x: build v2 has no such platform; it was built for linux/amd64, linux/arm64',
    });
  });
});
