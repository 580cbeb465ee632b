// The image model every source and sink of the image stage speaks (after go-containerregistry's v1.Layer / v1.Image):
// a blob is a descriptor plus bytes that verify themselves as they stream; an image is its manifest (exact bytes),
// config and layers; an index is its manifest and the images under it. Sources (the local layout, a registry, a
// base image, a fresh build) make these; sinks (the store, a registry push, the Docker daemon) take them, and never
// need to know where the bytes come from. No I/O here: only the shapes and the walks every sink shares.
import type { Readable } from 'node:stream';
import { GamelayerError } from '../errors.js';
import type { ErrorCode } from '../error-codes.js';
import type { Descriptor } from '../types.js';

/** An OS and CPU an image is for. */
export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

/** An image manifest (image-spec manifest.md): what an image is made of. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An image index (image-spec image-index.md): images for several platforms. */
export interface IndexDocument {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/**
 * A blob of an image (a layer or a config). `open()` streams its bytes and holds the last chunk back until they
 * hash to `digest`: a reader never gets a wrong blob whole, only an error naming the digest and where it came from.
 */
export interface ImageBlob {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  /** Bytes [start, endInclusive] as a fresh stream (default: all); the range that ends the blob is verified. */
  open(start?: number, endInclusive?: number): Readable;
  /** Where the bytes come from (a file, a registry URL), for messages. */
  readonly origin: string;
  /** Set once a read found the bytes do not match the digest: an upload stops with it instead of retrying. */
  damage?(): GamelayerError | undefined;
  /** The digest of the bytes as they are now (a full read): who is wrong when a registry disagrees. */
  actualDigest?(): Promise<string>;
}

/** A layer: a blob with the digest of its uncompressed tar (the config's diff_id), when the source knows it. */
export interface Layer extends ImageBlob {
  readonly diffID?: string;
}

/** A platform image: its manifest (exact bytes, so its digest stays), config and layers in stack order. */
export interface Image {
  readonly kind: 'image';
  /** The manifest's descriptor (a source's own annotations and platform kept, e.g. an index.json entry). */
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
  readonly manifest: ImageManifest;
  readonly config: ImageBlob;
  readonly layers: Layer[];
  /** Blobs of this manifest the source does not hold (a partial layout: they are in a registry). */
  readonly missing?: Descriptor[];
}

/** An index of platform images (a multi-platform build): its exact bytes and the images (or indexes) under it. */
export interface ImageIndexModel {
  readonly kind: 'index';
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
  readonly index: IndexDocument;
  readonly manifests: AnyImage[];
}

export type AnyImage = Image | ImageIndexModel;

/** The plain descriptor of a blob (what a manifest names). */
export function descriptorOf(b: Pick<ImageBlob, 'mediaType' | 'digest' | 'size'>): Descriptor {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size };
}

/** The platform images under an index (nested indexes included), or the image itself. */
export function platformImages(x: AnyImage): Image[] {
  return x.kind === 'image' ? [x] : x.manifests.flatMap(platformImages);
}

/** Every manifest below the top one, deepest first: a parent is written only after its children. */
export function childManifests(x: AnyImage): AnyImage[] {
  return x.kind === 'image' ? [] : x.manifests.flatMap((c) => [...childManifests(c), c]);
}

/** The config and layers of an image, config first. */
export function blobsOf(image: Image): ImageBlob[] {
  return [image.config, ...image.layers];
}

/** Every blob the source lacks, below an index too, once each. */
export function missingBlobs(x: AnyImage): Descriptor[] {
  const all = x.kind === 'image' ? [...(x.missing ?? [])] : x.manifests.flatMap(missingBlobs);
  return [...new Map(all.map((d) => [d.digest, d])).values()];
}

/** First of each digest, in order. */
export function uniqueBlobs<T extends { digest: string }>(list: T[]): T[] {
  const seen = new Map<string, T>();
  for (const d of list) if (!seen.has(d.digest)) seen.set(d.digest, d);
  return [...seen.values()];
}

/** The platform image for `os/arch` out of an index (or the image itself); `code` names the caller's error. */
export function pickPlatform(x: AnyImage, name: string, platform: Pick<Platform, 'os' | 'architecture'>, code: ErrorCode = 'load.platform'): Image {
  if (x.kind === 'image') return x;
  const hit = x.manifests.find((c) => c.descriptor.platform?.os === platform.os && c.descriptor.platform?.architecture === platform.architecture);
  if (hit) return pickPlatform(hit, name, platform, code);
  const have = x.manifests.map((c) => (c.descriptor.platform ? `${c.descriptor.platform.os}/${c.descriptor.platform.architecture}` : '?')).join(', ');
  throw new GamelayerError(code, `image ${name} has no ${platform.os}/${platform.architecture} manifest (it has ${have})`, 'load on a machine of a built platform, or build that platform');
}
