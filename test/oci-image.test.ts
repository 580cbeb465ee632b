import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBaseImage, type BaseImage } from '../src/oci/base-image.js';
import { dirContentSource } from '../src/oci/content.js';
import { closeGzipWorkers } from '../src/oci/gzip.js';
import { EMPTY_JSON, imageConfig, imageIndex, imageManifest, layerDescriptor, parsePlatform, type Platform } from '../src/oci/image.js';
import { buildLayer, type LayerCompression } from '../src/oci/layer.js';
import { OciStore } from '../src/oci/store.js';
import type { BuiltLayer, Descriptor, FileEntry, PlannedLayer } from '../src/types.js';
import { scanEntries, writeGameTree } from './support/oci-fixtures.js';
import { ociSchemaErrors } from './support/oci-schema.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'oci-image-'));
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await closeGzipWorkers();
});

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function planned(tree: 'app' | 'engine', index: number, entries: FileEntry[]): PlannedLayer {
  return { tree, index, entries, inputKey: `sha256:${index}`, bytes: entries.reduce((n, e) => n + e.size, 0) };
}

/** Writes config + manifest for the layers on the base, validates both, tags the manifest. */
async function writeImage(store: OciStore, tag: string, base: BaseImage | undefined, layers: BuiltLayer[], platform: Platform): Promise<Descriptor> {
  const config = imageConfig({
    platform,
    base: base?.config,
    layers: layers.map((l) => ({ diffID: l.diffID, createdBy: `gamelayer: ${l.tree} layer ${l.index}` })),
    entrypoint: ['/opt/local/app/bin/server'],
    env: ['GAME=test', 'PATH=/bin:/opt/local/app/bin'],
    labels: { 'org.opencontainers.image.title': 'test game' },
  });
  expect(ociSchemaErrors('config', config.bytes)).toEqual([]);
  await store.putJson(config.bytes, config.descriptor.mediaType);
  const manifest = imageManifest({ config: config.descriptor, layers: [...(base?.layers ?? []), ...layers.map(layerDescriptor)], platform });
  expect(ociSchemaErrors('manifest', manifest.bytes)).toEqual([]);
  const desc = await store.putJson(manifest.bytes, manifest.descriptor.mediaType);
  await store.tag(tag, { ...desc, platform });
  return { ...desc, platform };
}

let root: string;
let entries: FileEntry[];
let baseStore: OciStore;

beforeAll(async () => {
  root = path.join(tmp, 'game');
  writeGameTree(root, 0o022, 1_600_000_000);
  entries = await scanEntries(root);

  // A tiny base image with busybox as /bin/sh, made with our own code and saved by skopeo in every format.
  const baseRoot = path.join(tmp, 'base-root');
  mkdirSync(path.join(baseRoot, 'bin'), { recursive: true });
  copyFileSync('/usr/bin/busybox', path.join(baseRoot, 'bin/busybox'));
  chmodSync(path.join(baseRoot, 'bin/busybox'), 0o755);
  symlinkSync('busybox', path.join(baseRoot, 'bin/sh'));
  baseStore = await OciStore.open(path.join(tmp, 'base-layout'));
  const baseLayer = await buildLayer(planned('engine', 0, await scanEntries(baseRoot)), { content: dirContentSource(baseRoot), mount: '/', store: baseStore });
  const cfg = imageConfig({ platform: { os: 'linux', architecture: 'amd64' }, layers: [{ diffID: baseLayer.diffID, createdBy: 'busybox' }], cmd: ['sh'], env: ['PATH=/bin', 'KEEP=1'] });
  await baseStore.putJson(cfg.bytes, cfg.descriptor.mediaType);
  const man = imageManifest({ config: cfg.descriptor, layers: [layerDescriptor(baseLayer)] });
  await baseStore.tag('busybox', await baseStore.putJson(man.bytes, man.descriptor.mediaType));
  sh('skopeo', ['copy', '-q', `oci:${baseStore.dir}:busybox`, `oci-archive:${tmp}/base-oci.tar:busybox`]);
  sh('skopeo', ['copy', '-q', `oci:${baseStore.dir}:busybox`, `docker-archive:${tmp}/base-docker.tar:busybox:1`]);
}, 120_000);

function expectRootfsHolds(rootfs: string, prefix: string): void {
  for (const e of entries) {
    const p = path.join(rootfs, prefix, e.path);
    const st = lstatSync(p);
    if (e.type === 'symlink') expect(readlinkSync(p)).toBe(e.linkTarget);
    else expect(st.mode & 0o777).toBe(e.mode);
    if (e.type === 'file') expect(readFileSync(p).equals(readFileSync(path.join(root, e.path)))).toBe(true);
  }
}

describe('OCI image', () => {
  for (const compression of [{ kind: 'gzip' }, { kind: 'zstd' }] as LayerCompression[]) {
    it(`unpacks (${compression.kind === 'gzip' ? 'umoci' : 'zstd + GNU tar'}) to exactly the input files, and skopeo reads and copies it`, async () => {
      const store = await OciStore.open(path.join(tmp, `store-${compression.kind}`));
      // Two layers of one tree, split as a plan would: media in its own layer.
      const media = entries.filter((e) => e.path === 'media' || e.path.startsWith('media/'));
      const rest = entries.filter((e) => !media.includes(e));
      const layers = [];
      for (const [i, part] of [rest, media].entries()) {
        layers.push(await buildLayer(planned('app', i, part), { content: dirContentSource(root), mount: '/opt/local/app', store, compression }));
      }
      expect(layers[1]!.mediaType).toBe(`application/vnd.oci.image.layer.v1.tar+${compression.kind}`);
      const desc = await writeImage(store, 'v1', undefined, layers, { os: 'linux', architecture: 'amd64' });

      const bundle = path.join(tmp, `bundle-${compression.kind}`);
      if (compression.kind === 'gzip') {
        sh('umoci', ['unpack', '--rootless', '--image', `${store.dir}:v1`, bundle]);
      } else {
        // umoci 0.4 knows no zstd layers: unpack them in order with zstd and GNU tar instead.
        mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
        const manifest = JSON.parse(sh('skopeo', ['inspect', '--raw', `oci:${store.dir}:v1`])) as { layers: Descriptor[] };
        for (const l of manifest.layers) {
          sh('sh', ['-c', 'zstd -dc "$1" | tar -xf - -C "$2"', 'unpack', store.blobPath(l.digest), path.join(bundle, 'rootfs')]);
        }
      }
      expectRootfsHolds(path.join(bundle, 'rootfs'), 'opt/local/app');

      const info = JSON.parse(sh('skopeo', ['inspect', `oci:${store.dir}:v1`])) as { Digest: string; Layers: string[]; Architecture: string; Env: string[] };
      expect(info.Digest).toBe(desc.digest);
      expect(info.Layers).toEqual(layers.map((l) => l.digest));
      expect(info.Env).toContain('GAME=test');
      // skopeo checks every blob digest while copying.
      sh('skopeo', ['copy', '-q', `oci:${store.dir}:v1`, `oci:${tmp}/copy-${compression.kind}:v1`]);
      const copied = JSON.parse(sh('skopeo', ['inspect', `oci:${tmp}/copy-${compression.kind}:v1`])) as { Layers: string[] };
      expect(copied.Layers).toEqual(layers.map((l) => l.digest));
    });
  }

  for (const ref of ['oci:{tmp}/base-layout:busybox', 'oci-archive:{tmp}/base-oci.tar:busybox', 'docker-archive:{tmp}/base-docker.tar:busybox:1']) {
    it(`puts the game on a base image from ${ref.split(':')[0]}, copying its layers by digest`, async () => {
      const base = await loadBaseImage(ref.replace('{tmp}', tmp));
      expect(base.layers).toHaveLength(1);
      expect(base.diffIDs).toHaveLength(1);
      expect(base.platform).toEqual({ os: 'linux', architecture: 'amd64' });
      const store = await OciStore.open(path.join(tmp, `on-${ref.split(':')[0]}`));
      await base.copyLayersInto(store);
      for (const l of base.layers) await store.verifyBlob(l.digest, l.size);
      const app = await buildLayer(planned('app', 0, entries), { content: dirContentSource(root), mount: '/opt/local/app', store });
      await writeImage(store, 'server', base, [app], base.platform!);
      const cfg = JSON.parse(sh('skopeo', ['inspect', '--config', `oci:${store.dir}:server`])) as { config: { Env: string[]; Cmd?: string[] }; rootfs: { diff_ids: string[] }; history: unknown[] };
      expect(cfg.config.Env).toEqual(['KEEP=1', 'GAME=test', 'PATH=/bin:/opt/local/app/bin']);
      expect(cfg.config.Cmd).toBeUndefined();
      expect(cfg.rootfs.diff_ids).toEqual([...base.diffIDs, app.diffID]);
      expect(cfg.history).toHaveLength(2);
      const bundle = path.join(tmp, `bundle-on-${ref.split(':')[0]}`);
      sh('umoci', ['unpack', '--rootless', '--image', `${store.dir}:server`, bundle]);
      expect(readlinkSync(path.join(bundle, 'rootfs/bin/sh'))).toBe('busybox');
      expect(readFileSync(path.join(bundle, 'rootfs/bin/busybox')).equals(readFileSync('/usr/bin/busybox'))).toBe(true);
      expectRootfsHolds(path.join(bundle, 'rootfs'), 'opt/local/app');
    });
  }

  it('writes a multi-platform index and an artifact with a subject that validate and skopeo reads', async () => {
    const store = await OciStore.open(path.join(tmp, 'multi'));
    const media = await buildLayer(planned('app', 0, entries), { content: dirContentSource(root), mount: '/opt/local/app', store });
    const amd = await writeImage(store, 'amd64-only', undefined, [media], parsePlatform('linux/amd64'));
    const arm = await writeImage(store, 'arm64-only', undefined, [media], parsePlatform('linux/arm64/v8'));
    expect(arm.digest).not.toBe(amd.digest);
    const index = imageIndex([amd, arm]);
    expect(ociSchemaErrors('index', index.bytes)).toEqual([]);
    await store.tag('v1', await store.putJson(index.bytes, index.descriptor.mediaType));
    const raw = JSON.parse(sh('skopeo', ['inspect', '--raw', `oci:${store.dir}:v1`])) as { manifests: { platform: Platform }[] };
    expect(raw.manifests.map((m) => m.platform)).toEqual([{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux', variant: 'v8' }]);
    const arch = JSON.parse(sh('skopeo', ['inspect', '--override-arch', 'arm64', '--override-variant', 'v8', `oci:${store.dir}:v1`])) as { Architecture: string };
    expect(arch.Architecture).toBe('arm64');

    // The build record as an artifact attached to the image.
    await store.putJson(EMPTY_JSON.bytes, EMPTY_JSON.descriptor.mediaType);
    const record = await store.putJson('{"schemaVersion":1}', 'application/vnd.gamelayer.build-record.v1+json');
    const artifact = imageManifest({
      config: EMPTY_JSON.descriptor,
      layers: [record],
      artifactType: 'application/vnd.gamelayer.build-record.v1+json',
      subject: index.descriptor,
    });
    expect(ociSchemaErrors('manifest', artifact.bytes)).toEqual([]);
    expect(JSON.parse(artifact.bytes.toString())).toMatchObject({ subject: { digest: index.descriptor.digest }, artifactType: 'application/vnd.gamelayer.build-record.v1+json' });
    expect(ociSchemaErrors('index', readFileSync(store.indexPath))).toEqual([]);
  });

  it('gives the same config and manifest bytes for the same inputs, created from SOURCE_DATE_EPOCH', () => {
    const input = { platform: { os: 'linux', architecture: 'amd64' }, layers: [{ diffID: `sha256:${'a'.repeat(64)}`, createdBy: 'x' }], labels: { b: '2', a: '1' } };
    const a = imageConfig(input);
    const b = imageConfig({ ...input, labels: { a: '1', b: '2' } });
    expect(b.bytes.equals(a.bytes)).toBe(true);
    expect(a.value.created).toBe('1970-01-01T00:00:00Z');
    expect(a.bytes.toString()).toMatch(/^\{"architecture":"amd64","config":\{"Labels":\{"a":"1","b":"2"\}\},"created":/);
    const old = process.env.SOURCE_DATE_EPOCH;
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      expect(imageConfig(input).value.created).toBe('2023-11-14T22:13:20Z');
    } finally {
      if (old === undefined) delete process.env.SOURCE_DATE_EPOCH;
      else process.env.SOURCE_DATE_EPOCH = old;
    }
  });
});
