// Writes small, valid OCI image layouts (image-spec layout: oci-layout, index.json, blobs/sha256/…) for registry
// tests, independent of the build stage: gzip tar layers made with tar-stream, a config, a manifest, and optionally
// a multi-platform index. Layers are built in memory: test layouts are small by design.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type tarStream from 'tar-stream';
import { packEntries } from '../../src/oci/tar.js';

export const MT = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface LayerSpec {
  /** path → content */
  files: Record<string, string | Buffer>;
}

export interface ImageSpec {
  layers: LayerSpec[];
  platform?: { os: string; architecture: string };
  /** Makes the config (and so the manifest) unique without touching layers. */
  label?: string;
}

export interface WrittenImage {
  manifest: Desc;
  config: Desc;
  layers: Desc[];
}

export interface WrittenTag {
  tag: string;
  /** The top-level descriptor recorded in index.json (manifest or index). */
  top: Desc;
  images: WrittenImage[];
  /** Every blob digest the tag needs (layers, configs, manifests, index). */
  allDigests: string[];
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Random incompressible bytes, for layers of a chosen size. */
export function randomContent(bytes: number): Buffer {
  return randomBytes(bytes);
}

async function writeBlob(layoutDir: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const dir = path.join(layoutDir, 'blobs', 'sha256');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, digest.slice(7)), bytes);
  return digest;
}

export type TarEntry = Partial<tarStream.Header> & { name: string };

/** A tar of these headers, in order; each entry's content from `contents` by name (none for dirs and links). */
export async function tarOf(headers: TarEntry[], contents: Map<string, Buffer>): Promise<Buffer> {
  // The product's one tar writer, so test layers are written exactly as ours are.
  const chunks: Buffer[] = [];
  for await (const c of packEntries(headers.map((h) => ({ header: h, body: contents.get(h.name) ?? '' })))) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function tarGz(files: Record<string, string | Buffer>): Promise<{ gz: Buffer; diffID: string }> {
  const contents = new Map(Object.entries(files).map(([name, c]) => [name, Buffer.from(c)]));
  const headers = [...contents.keys()].sort().map((name) => ({ name, size: contents.get(name)!.length, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }));
  const tar = await tarOf(headers, contents);
  return { gz: gzipSync(tar, { level: 1 }), diffID: sha256(tar) };
}

async function writeImage(layoutDir: string, spec: ImageSpec): Promise<WrittenImage> {
  const layers: Desc[] = [];
  const diffIDs: string[] = [];
  for (const l of spec.layers) {
    const { gz, diffID } = await tarGz(l.files);
    layers.push({ mediaType: MT.layerGzip, digest: await writeBlob(layoutDir, gz), size: gz.length });
    diffIDs.push(diffID);
  }
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const configBytes = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      config: { Labels: spec.label ? { 'test.label': spec.label } : {} },
      rootfs: { type: 'layers', diff_ids: diffIDs },
    }),
  );
  const config: Desc = { mediaType: MT.config, digest: await writeBlob(layoutDir, configBytes), size: configBytes.length };
  const manifestBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config, layers }));
  const manifest: Desc = {
    mediaType: MT.manifest,
    digest: await writeBlob(layoutDir, manifestBytes),
    size: manifestBytes.length,
    platform,
  };
  return { manifest, config, layers };
}

/**
 * Adds `tag` to the layout at `layoutDir` (created if needed): one image ⇒ an image manifest; several ⇒ an image
 * index over them. An existing entry with the same tag is replaced.
 */
export async function addTag(layoutDir: string, tag: string, images: ImageSpec[]): Promise<WrittenTag> {
  await mkdir(path.join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(path.join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const written: WrittenImage[] = [];
  for (const spec of images) written.push(await writeImage(layoutDir, spec));
  let top: Desc;
  if (written.length === 1) {
    const { platform: _p, ...m } = written[0]!.manifest;
    top = m;
  } else {
    const indexBytes = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: written.map((w) => w.manifest) }),
    );
    top = { mediaType: MT.index, digest: await writeBlob(layoutDir, indexBytes), size: indexBytes.length };
  }
  top = { ...top, annotations: { 'org.opencontainers.image.ref.name': tag } };
  const indexFile = path.join(layoutDir, 'index.json');
  const index = existsSync(indexFile)
    ? (JSON.parse(await readFile(indexFile, 'utf8')) as { manifests: Desc[] })
    : { manifests: [] as Desc[] };
  const manifests = index.manifests.filter((d) => d.annotations?.['org.opencontainers.image.ref.name'] !== tag);
  manifests.push(top);
  await writeFile(indexFile, JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests }, null, 2));
  const allDigests = new Set<string>();
  for (const w of written) {
    for (const l of w.layers) allDigests.add(l.digest);
    allDigests.add(w.config.digest);
    allDigests.add(w.manifest.digest);
  }
  allDigests.add(top.digest);
  return { tag, top, images: written, allDigests: [...allDigests] };
}

/**
 * A layout of one image tagged `tag`, of one layer whose blob is `layer` as given (typed `mediaType` whatever its bytes
 * are) and whose config names `diffID`: for bases whose layer or config lies. Returns the layer's digest.
 */
export async function writeOneLayerLayout(dir: string, layer: Buffer, diffID: string, mediaType: string = MT.layerGzip, tag = 'latest'): Promise<string> {
  await mkdir(path.join(dir, 'blobs/sha256'), { recursive: true });
  const put = async (bytes: Buffer) => {
    await writeFile(path.join(dir, 'blobs/sha256', sha256(bytes).slice(7)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffID] } })));
  const blob = await put(layer);
  const manifest = await put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config: { mediaType: MT.config, ...config }, layers: [{ mediaType, ...blob }] })));
  await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const ref = { 'org.opencontainers.image.ref.name': tag };
  await writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MT.manifest, ...manifest, annotations: ref }] }));
  return blob.digest;
}
