// The image model directly: each source (the local layout, a registry, a base image, a fresh build) into each sink
// (the store, a registry, the Docker daemon), and a damaged blob in each source refused by open() with an error
// naming its digest. Real parts: a CNCF registry, the Docker engine, the product's own build steps.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, open as openFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonPlatform, writeImagesToDaemon } from '../src/docker/load.js';
import { GamelayerError } from '../src/errors.js';
import { loadBaseImage } from '../src/oci/base-image.js';
import { blobPath, readLayoutImage } from '../src/oci/layout.js';
import { pickPlatform, platformImages, type AnyImage, type Image, type ImageBlob } from '../src/oci/model.js';
import { OciStore } from '../src/oci/store.js';
import { layerReuse, openLayerCache } from '../src/pipeline/layer-reuse.js';
import { writeImages } from '../src/pipeline/steps/images.js';
import { resolveInputs } from '../src/pipeline/steps/inputs.js';
import { buildLayers } from '../src/pipeline/steps/layers.js';
import { planPlatforms } from '../src/pipeline/steps/plan.js';
import { loadBases } from '../src/pipeline/base-source.js';
import { findPrevious } from '../src/pipeline/steps/previous.js';
import { scanTrees } from '../src/pipeline/steps/scan.js';
import { RegistryClient } from '../src/registry/client.js';
import { readRegistryImage } from '../src/registry/image-source.js';
import { writeImageToRegistry } from '../src/registry/push.js';
import { SERVER_IMAGE } from '../src/types.js';
import * as api from '../src/index.js';
import { hostPlatform, writeBusyboxLayout } from './support/busybox-layout.js';
import { docker, removeImages, runImage } from './support/docker-images.js';
import { addTag } from './support/make-layout.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample, sampleConfig } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let reg: TestRegistry;
let client: RegistryClient;
let tmp: string;
/** A layout holding busybox (a runnable image) as `busybox`, and a two-platform index as `multi`. */
let layout: string;
const dockerTag = `gamelayer-test/image-model:${process.pid}`;

beforeAll(async () => {
  reg = await startRegistry();
  client = new RegistryClient({ host: reg.host });
  tmp = await tempDir('gl-model-');
  layout = path.join(tmp, 'source');
  await writeBusyboxLayout(layout, { tag: 'busybox' });
  await addTag(layout, 'multi', [
    { layers: [{ files: { 'a.txt': 'amd64 one' } }, { files: { 'b.txt': 'shared' } }], platform: { os: 'linux', architecture: 'amd64' } },
    { layers: [{ files: { 'a.txt': 'arm64 one' } }, { files: { 'b.txt': 'shared' } }], platform: { os: 'linux', architecture: 'arm64' } },
  ]);
}, 120_000);

afterAll(async () => {
  await removeImages([dockerTag]).catch(() => {});
  await reg?.stop();
});

async function bytesOf(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function refused(s: Readable): Promise<GamelayerError> {
  const e = await bytesOf(s).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GamelayerError);
  return e as GamelayerError;
}

/**
 * The same bytes: compared as size and sha256 (toEqual walks a Buffer index by index, seconds for a layer of a
 * megabyte), which differ exactly when the bytes do and read well in a failure.
 */
function expectSameBytes(got: Buffer, want: Buffer): void {
  const id = (b: Buffer) => ({ size: b.length, sha256: createHash('sha256').update(b).digest('hex') });
  expect(id(got)).toEqual(id(want));
}

/** Flips one byte in the middle of a file: same size, other content. */
async function garble(file: string): Promise<void> {
  const size = (await stat(file)).size;
  const fh = await openFile(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, Math.floor(size / 2));
    b[0] = b[0]! ^ 0xff;
    await fh.write(b, 0, 1, Math.floor(size / 2));
  } finally {
    await fh.close();
  }
}

/** Every blob of an image (configs and layers, below an index too), by digest. */
function blobs(x: AnyImage): Map<string, ImageBlob> {
  return new Map(platformImages(x).flatMap((i) => [i.config, ...i.layers]).map((b) => [b.digest, b]));
}

/** The registry's own file of a blob (distribution's filesystem storage). */
function registryBlobFile(digest: string): string {
  const hex = digest.slice(7);
  return path.join(reg.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

describe('sources into sinks', () => {
  it('the layout source: manifest, config and layers, each layer with the diff_id its config names', async () => {
    const img = (await readLayoutImage(layout, 'busybox')) as Image;
    expect(img.kind).toBe('image');
    const config = JSON.parse((await bytesOf(img.config.open())).toString('utf8')) as { rootfs: { diff_ids: string[] } };
    expect(img.layers.map((l) => l.diffID)).toEqual(config.rootfs.diff_ids);
    expect(img.layers.map((l) => l.digest)).toEqual(img.manifest.layers.map((l) => l.digest));
    for (const l of img.layers) expectSameBytes(await bytesOf(l.open()), await readFile(blobPath(layout, l.digest)));
  });

  it('store → registry → store: the same digests and bytes; pushing the copy again sends nothing', async () => {
    for (const tag of ['busybox', 'multi']) {
      const source = await readLayoutImage(layout, tag);
      const pushed = await writeImageToRegistry(source, { to: `${reg.host}/model/rt:${tag}` });
      const all = blobs(source);
      // Missing blobs only: every blob once, and exactly their bytes.
      expect(pushed.blobs).toEqual({ total: all.size, skipped: 0, mounted: 0, uploaded: all.size });
      expect(pushed.bytesSent).toBe([...all.values()].reduce((n, b) => n + b.size, 0));
      expect(pushed.manifestsPut.at(-1)).toBe(source.descriptor.digest);

      const fromRegistry = await readRegistryImage(client, 'model/rt', tag);
      expect(fromRegistry.descriptor.digest).toBe(source.descriptor.digest);
      expect(platformImages(fromRegistry).map((i) => i.descriptor.platform)).toEqual(platformImages(source).map((i) => i.descriptor.platform));
      expect(platformImages(fromRegistry).flatMap((i) => i.layers.map((l) => l.diffID))).toEqual(platformImages(source).flatMap((i) => i.layers.map((l) => l.diffID)));

      const copy = await OciStore.open(path.join(tmp, `copy-${tag}`));
      const top = await copy.putImage(fromRegistry, tag);
      expect(top.digest).toBe(source.descriptor.digest);
      const back = await readLayoutImage(copy.dir, tag);
      expectSameBytes(back.bytes, source.bytes);
      for (const [digest] of all) expectSameBytes(await readFile(blobPath(copy.dir, digest)), await readFile(blobPath(layout, digest)));

      const again = await writeImageToRegistry(back, { to: `${reg.host}/model/rt:${tag}` });
      expect(again.upToDate).toBe(true);
      expect(again.bytesSent).toBe(0);
    }
  }, 120_000);

  it('registry → Docker daemon (load): the image runs, its id is the config digest', async () => {
    const source = await readLayoutImage(layout, 'busybox');
    await writeImageToRegistry(source, { to: `${reg.host}/model/daemon:v1` });
    const info = await docker.version();
    const image = pickPlatform(await readRegistryImage(client, 'model/daemon', 'v1'), 'model/daemon:v1', daemonPlatform({ os: info.Os, arch: info.Arch }));
    const loaded = await writeImagesToDaemon([{ selector: 'v1', repoTags: [dockerTag], image }], { docker });
    expect(loaded).toEqual([{ selector: 'v1', repoTags: [dockerTag], id: image.config.digest }]);
    expect((await docker.getImage(dockerTag).inspect()).Id).toBe(image.config.digest);
    const run = await runImage(dockerTag, ['sh', '-c', 'echo model-ok']);
    expect(run).toMatchObject({ code: 0 });
    expect(run.output).toContain('model-ok');
  }, 120_000);

  it('a base image (an OCI layout, an OCI archive) → the store: its layers stream verified into it', async () => {
    const archive = path.join(tmp, 'base.tar');
    execFileSync('tar', ['-cf', archive, '-C', layout, '.']);
    for (const ref of [`oci:${layout}:busybox`, `oci-archive:${archive}:busybox`]) {
      const base = await loadBaseImage(ref, { platform: hostPlatform() });
      expect(base.layers.map((l) => l.diffID)).toEqual(base.diffIDs);
      const store = await OciStore.open(path.join(tmp, `base-${ref.split(':')[0]}`));
      for (const l of base.layers) await store.putBlob(l.open(), { digest: l.digest, size: l.size });
      for (const l of base.layers) expectSameBytes(await readFile(store.blobPath(l.digest)), await readFile(blobPath(layout, l.digest)));
    }
  });

  it('a fresh build → registry → store: the built images are the model, pushed and copied whole', async () => {
    const { images, store } = await freshBuild('fresh');
    const server = images.find((i) => i.name === SERVER_IMAGE)!.image;
    const pushed = await writeImageToRegistry(server, { to: `${reg.host}/model/fresh:v1` });
    expect(pushed.digest).toBe(server.descriptor.digest);
    expect(pushed.blobs.uploaded).toBe(blobs(server).size);
    const copy = await OciStore.open(path.join(tmp, 'fresh-copy'));
    await copy.putImage(await readRegistryImage(client, 'model/fresh', 'v1'), 'v1');
    expectSameBytes((await readLayoutImage(copy.dir, 'v1')).bytes, await readFile(blobPath(store, server.descriptor.digest)));
  }, 180_000);
});

async function freshBuild(name: string) {
  const dir = path.join(tmp, name);
  copySample(dir);
  const config = await sampleConfig(dir);
  const inputs = await resolveInputs({ config, tag: 'v1' });
  const { scans } = await scanTrees({ ...inputs, started: Date.now() });
  const cache = await openLayerCache(config.stateDir, inputs.reporter);
  const previous = await findPrevious(inputs);
  const reuse = layerReuse({ ...inputs, cache, kept: previous.kept });
  const bases = await loadBases(config, inputs, inputs.platforms);
  const planned = await planPlatforms({ ...inputs, scans, previous: previous.record, reuse, bases });
  const layers = await buildLayers({ ...inputs, plans: planned.plans, reuse });
  const { images } = await writeImages({ ...inputs, ...planned, ...layers, remote: previous.remote });
  return { images, store: config.store };
}

describe('a damaged blob in each source is refused by open(), naming its digest', () => {
  it('the local layout', async () => {
    const dir = path.join(tmp, 'damaged-layout');
    await cp(layout, dir, { recursive: true });
    const img = (await readLayoutImage(dir, 'busybox')) as Image;
    const layer = img.layers[0]!;
    // Read whole once (verified, good), then damaged on disk: the next read of the same layer is checked again.
    expect((await bytesOf(layer.open())).length).toBe(layer.size);
    await garble(blobPath(dir, layer.digest));
    const e = await refused(layer.open());
    expect(e.code).toBe('store.blob-corrupt');
    expect(layer.damage?.()?.message).toContain(layer.digest);
    expect(e.message).toContain(layer.digest);
    // A range read that ends the blob is checked too (a resumed upload's last chunk).
    expect((await refused(layer.open(1, layer.size - 1))).message).toContain(layer.digest);
  });

  it('a registry', async () => {
    const source = await readLayoutImage(layout, 'multi');
    await writeImageToRegistry(source, { to: `${reg.host}/model/damaged:v1` });
    const img = platformImages(await readRegistryImage(client, 'model/damaged', 'v1'))[0]!;
    const layer = img.layers[0]!;
    await garble(registryBlobFile(layer.digest));
    const e = await refused(layer.open());
    expect(e.code).toBe('registry.digest');
    expect(e.message).toContain(layer.digest);
    // Nothing of it reaches a store: the sink takes no blob that fails its check.
    const store = await OciStore.open(path.join(tmp, 'damaged-registry-copy'));
    const err = await store.putImage(img, 'v1').then(() => undefined, (x: unknown) => x as GamelayerError);
    expect(err?.message).toContain(layer.digest);
    expect(await store.hasBlob(layer.digest)).toBe(false);
    expect(await store.tags()).toEqual([]);
  });

  it('a base image (an OCI layout and an OCI archive)', async () => {
    const dir = path.join(tmp, 'damaged-base');
    await cp(layout, dir, { recursive: true });
    const first = (await loadBaseImage(`oci:${dir}:busybox`, { platform: hostPlatform() })).layers[0]!;
    await garble(blobPath(dir, first.digest));
    const archive = path.join(tmp, 'damaged-base.tar');
    execFileSync('tar', ['-cf', archive, '-C', dir, '.']);
    for (const ref of [`oci:${dir}:busybox`, `oci-archive:${archive}:busybox`]) {
      const layer = (await loadBaseImage(ref, { platform: hostPlatform() })).layers[0]!;
      const e = await refused(layer.open());
      expect(e.code).toBe('store.blob-corrupt');
      expect(e.message).toContain(layer.digest);
    }
  });

  it('a fresh build', async () => {
    const { images } = await freshBuild('fresh-damaged');
    const server = images.find((i) => i.name === SERVER_IMAGE)!.image as Image;
    const layer = server.layers.at(-1)!;
    await garble(layer.origin);
    const e = await refused(layer.open());
    expect(e.code).toBe('store.blob-corrupt');
    expect(e.message).toContain(layer.digest);
  }, 180_000);
});

describe('the library entry', () => {
  it('exports the model, its sources and its sinks', () => {
    for (const name of ['readLayoutImage', 'readRegistryImage', 'registryBlob', 'layoutBlob', 'writeImageToRegistry', 'writeImagesToDaemon', 'platformImages', 'pickPlatform', 'OciStore'] as const) {
      expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
    }
  });
});
