// Reads what a push needs from a local OCI image layout (image-spec image-layout.md): index.json, the selected
// manifest or index, its child manifests, and blob files as streams. Checks everything exists with the right size
// before the push sends anything, so a damaged store fails early instead of half-way. Part of the image stage:
// push (registry), load and run-local (docker) all read the local layout through it.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GamelayerError, errnoCode } from '../errors.js';
import type { Descriptor } from '../types.js';
import { verifiedRanges } from './blob-verify.js';
import { MEDIA_TYPES } from './media-types.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';

/** A blob to send: its digest and size, and its bytes as fresh streams (whole or a byte range, for resumed uploads). */
export interface BlobSource {
  digest: string;
  size: number;
  /** Bytes [start, endInclusive] of the blob as a fresh stream (default: all of it). */
  open(start?: number, endInclusive?: number): Readable;
  /** Where the bytes come from, for messages (a file path). */
  origin: string;
  /** Set once a read found that the local bytes do not match the digest: the push stops with this error. */
  damage?(): GamelayerError | undefined;
  /** The digest of the local bytes as they are now (a full read): who is wrong when the registry disagrees. */
  actualDigest?(): Promise<string>;
}

export interface LayoutManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  /** Image manifests: config + layers. Empty for an index. */
  blobs: Descriptor[];
  /** Index: its child manifests (already read). */
  children: LayoutManifest[];
  /** With `allowMissing`: blobs of this manifest not in the layout (a partial layout: they are in the registry). */
  missing?: Descriptor[];
}

export interface ReadLayoutOptions {
  /** List blobs that are not in the layout (in `missing`) instead of failing; a blob of the wrong size still fails. */
  allowMissing?: boolean;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function blobPath(layoutDir: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new GamelayerError('layout.digest', `${layoutDir}: "${digest}" is not a sha256 digest`);
  return path.join(layoutDir, 'blobs', 'sha256', digest.slice(7));
}

/**
 * A blob of the layout for upload: hashed while it streams (ranges in order, across retries), and the range that
 * ends it holds its last bytes back until they match the digest, so a damaged file is never sent whole.
 */
export function blobSource(layoutDir: string, d: Descriptor): BlobSource {
  const ranges = verifiedRanges(layoutDir, d.digest, d.size);
  return {
    digest: d.digest,
    size: d.size,
    origin: ranges.file,
    open: (start, end) => ranges.open(start, end),
    damage: () => ranges.damage(),
    actualDigest: () => ranges.actualDigest(),
  };
}

async function readJson<T>(file: string, what: string): Promise<{ bytes: Buffer; value: T }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new GamelayerError('layout.missing', `${file}: missing (${what})`, 'build the image first (gamelayer build)');
    throw new GamelayerError('layout.unreadable', `${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    return { bytes, value: JSON.parse(bytes.toString('utf8')) as T };
  } catch (e) {
    throw new GamelayerError('layout.invalid', `${file}: invalid JSON (${what}): ${(e as Error).message}`);
  }
}

/** Tags (ref.name annotations) in the layout's index.json, with their descriptors. */
export async function layoutTags(layoutDir: string): Promise<Descriptor[]> {
  const { value } = await readJson<{ manifests?: Descriptor[] }>(path.join(layoutDir, 'index.json'), 'the OCI layout index');
  return value.manifests ?? [];
}

/**
 * Selects an image in the layout by tag (ref.name annotation) or digest, reads its manifest (and, for an index,
 * its children) and checks every referenced blob is present with the size the manifest says.
 */
export async function readLayoutImage(layoutDir: string, selector: string, options: ReadLayoutOptions = {}): Promise<LayoutManifest> {
  await readJson(path.join(layoutDir, 'oci-layout'), 'the OCI layout marker').catch((e: GamelayerError) => {
    throw new GamelayerError('layout.missing', `${layoutDir}: not an OCI image layout (${e.message})`, 'build the image first (gamelayer build)');
  });
  const entries = await layoutTags(layoutDir);
  let top: Descriptor | undefined;
  if (DIGEST.test(selector)) {
    top = entries.find((d) => d.digest === selector);
    if (!top) {
      // A digest not listed in index.json (e.g. one platform's manifest): accept it when its blob is there.
      const file = blobPath(layoutDir, selector);
      const s = await stat(file).catch(() => undefined);
      if (s) {
        const { value } = await readJson<{ mediaType?: string }>(file, 'a manifest');
        top = { mediaType: value.mediaType ?? MEDIA_TYPES.ociManifest, digest: selector, size: s.size };
      }
    }
  } else {
    top = entries.find((d) => d.annotations?.[REF_NAME] === selector);
  }
  if (!top) {
    const tags = entries.map((d) => d.annotations?.[REF_NAME]).filter(Boolean);
    throw new GamelayerError(
      'layout.not-found',
      `${path.join(layoutDir, 'index.json')}: no image ${selector}`,
      tags.length ? `images in this store: ${tags.join(', ')}` : 'the store holds no tagged image; build one first',
    );
  }
  return readManifest(layoutDir, top, options);
}

async function readManifest(layoutDir: string, d: Descriptor, options: ReadLayoutOptions = {}): Promise<LayoutManifest> {
  const file = blobPath(layoutDir, d.digest);
  const { bytes, value } = await readJson<{
    mediaType?: string;
    config?: Descriptor;
    layers?: Descriptor[];
    manifests?: Descriptor[];
  }>(file, `manifest ${d.digest}`);
  const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (actual !== d.digest) throw new GamelayerError('layout.corrupt', `${file}: content hashes to ${actual}, not its name`, 'the store is damaged: rebuild the image');
  const mediaType = value.mediaType ?? d.mediaType;
  const descriptor: Descriptor = { ...d, mediaType, size: bytes.length };
  if (mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList || value.manifests) {
    const children: LayoutManifest[] = [];
    for (const child of value.manifests ?? []) children.push(await readManifest(layoutDir, child, options));
    return { descriptor, bytes, blobs: [], children };
  }
  if (!value.config) throw new GamelayerError('layout.invalid', `${file}: manifest ${d.digest} has no config`);
  const blobs = [value.config, ...(value.layers ?? [])];
  const missing: Descriptor[] = [];
  for (const b of blobs) {
    const p = blobPath(layoutDir, b.digest);
    const s = await stat(p).catch(() => undefined);
    if (!s && options.allowMissing) {
      missing.push(b);
      continue;
    }
    if (!s) throw new GamelayerError('layout.missing-blob', `${p}: missing blob ${b.digest} of manifest ${d.digest}`, 'the store is incomplete: rebuild the image');
    if (s.size !== b.size) throw new GamelayerError('layout.corrupt', `${p}: ${s.size} bytes, manifest ${d.digest} says ${b.size}`, 'the store is damaged: rebuild the image');
  }
  return { descriptor, bytes, blobs, children: [], ...(options.allowMissing ? { missing } : {}) };
}
