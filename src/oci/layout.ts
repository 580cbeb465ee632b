// The OCI image layout (image-spec image-layout.md), once: its names (`oci-layout`, `index.json`,
// `blobs/sha256/<hex>`, the ref.name annotation, media types), digest parsing, index.json reading, and the layout
// as a source of the image model (`readLayoutImage`): manifests checked against their digests when read, configs
// too, layers verified as they stream. The store (store.ts) writes through these names; push, load and run-local
// read through `readLayoutImage`. Nothing read from a layout is trusted before it is verified.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError, errnoCode } from '../errors.js';
import type { ErrorCode } from '../error-codes.js';
import { kindOf, readSmallFile, type SmallFile } from '../util/small-file.js';
import type { Descriptor } from '../types.js';
import { openVerifiedBlob, verifiedRanges, type BlobMismatch } from './blob-verify.js';
import { MEDIA_TYPES } from './media-types.js';
import { checkLayoutFolder } from './layout-folder.js';
import { documentRefsOf, isDigest } from './document-shape.js';
import type { AnyImage, Image, ImageBlob, ImageManifest, IndexDocument, Layer } from './model.js';

export { MEDIA_TYPES };
export { OCI_LAYOUT_FILE } from './layout-folder.js';
export const OCI_LAYOUT_BYTES = '{"imageLayoutVersion":"1.0.0"}';
export const INDEX_MEDIA_TYPE = MEDIA_TYPES.ociIndex;
export const MANIFEST_MEDIA_TYPE = MEDIA_TYPES.ociManifest;
export const CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
export const REF_NAME = 'org.opencontainers.image.ref.name';

/** index.json (an OCI image index). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
}

/** The largest manifest, config or index.json read whole. */
const MAX_DOCUMENT = 16 << 20;

const DIGEST = /^sha256:([a-f0-9]{64})$/;

export { isDigest };

/** The hex of a sha256 digest; anything else is refused (a digest names a file: no `../` through it). */
export function digestHex(digest: string, where?: string, code: ErrorCode = 'store.digest'): string {
  const m = DIGEST.exec(digest);
  if (!m) throw new GamelayerError(code, `${where ? `${where}: ` : ''}"${digest}" is not a sha256 digest (sha256:<64 hex digits>)`);
  return m[1]!;
}

export function sha256Digest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The folder of a layout's blobs. */
export function blobsDir(layoutDir: string): string {
  return path.join(layoutDir, 'blobs', 'sha256');
}

/** Where a blob lives in a layout. */
export function blobPath(layoutDir: string, digest: string, code: ErrorCode = 'store.digest'): string {
  return path.join(blobsDir(layoutDir), digestHex(digest, code === 'store.digest' ? undefined : layoutDir, code));
}

/** How a reader names the problems of index.json (the store's codes, or a reader's that hints at building first). */
export interface IndexErrors {
  missing: ErrorCode;
  invalid: ErrorCode;
  hint?: string;
}

const STORE_INDEX_ERRORS: IndexErrors = { missing: 'store.index-missing', invalid: 'store.index-invalid' };
const READER_INDEX_ERRORS: IndexErrors = { missing: 'layout.missing', invalid: 'layout.invalid', hint: 'build the image first (gamelayer build)' };

/** index.json of a layout, checked to be an image index (schemaVersion 2 with a manifests list). */
export async function readLayoutIndex(layoutDir: string, errors: IndexErrors = STORE_INDEX_ERRORS): Promise<ImageIndex> {
  const file = path.join(layoutDir, 'index.json');
  let read: SmallFile;
  try {
    read = await readSmallFile(file, MAX_DOCUMENT);
  } catch (e) {
    const missing = errnoCode(e) === 'ENOENT' && errors !== STORE_INDEX_ERRORS;
    throw new GamelayerError(errors.missing, `${file}: ${missing ? 'missing (the OCI layout index)' : `cannot read: ${(e as Error).message}`}`, missing ? errors.hint : undefined);
  }
  // A FIFO or a device in its place would be read for ever; an index bigger than any document is not one.
  if ('notFile' in read) throw new GamelayerError(errors.invalid, `${file}: ${read.notFile}, not the layout's index file`);
  if ('tooBig' in read) throw new GamelayerError(errors.invalid, `${file}: ${read.tooBig} bytes is too big for the layout's index`);
  const text = read.bytes.toString('utf8');
  let index: ImageIndex;
  try {
    index = JSON.parse(text) as ImageIndex;
  } catch (e) {
    throw new GamelayerError(errors.invalid, `${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (index?.schemaVersion !== 2 || !Array.isArray(index.manifests)) {
    throw new GamelayerError(errors.invalid, `${file}: not an OCI image index (schemaVersion 2 with manifests)`);
  }
  // Each descriptor checked here, so a damaged entry is named by its place in this file, not found later by a
  // reader that cannot say where the digest came from.
  index.manifests.forEach((m: unknown, i) => {
    const d = (m ?? {}) as Partial<Record<keyof Descriptor, unknown>>;
    const bad =
      typeof m !== 'object' || m === null || Array.isArray(m)
        ? 'not a descriptor object'
        : typeof d.digest !== 'string' || !isDigest(d.digest)
          ? `digest: ${JSON.stringify(d.digest)} is not a sha256 digest (sha256:<64 hex digits>)`
          : typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0
            ? `size: ${JSON.stringify(d.size)} is not a byte count`
            : undefined;
    if (bad) throw new GamelayerError(errors.invalid, `${file}: manifests[${i}]${bad.startsWith('not') ? `: ${bad}` : `.${bad}`}`);
  });
  return index;
}

/** Tags (ref.name annotations) in the layout's index.json, with their descriptors. */
export async function layoutTags(layoutDir: string): Promise<Descriptor[]> {
  return (await readLayoutIndex(layoutDir, READER_INDEX_ERRORS)).manifests;
}

/**
 * A blob of the layout as a model blob: hashed while it streams (ranges in order, across retries), and the range
 * that ends it holds its last bytes back until they match the digest, so a damaged file is never read whole.
 */
export function layoutBlob(layoutDir: string, d: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>, diffID?: string): Layer {
  const file = blobPath(layoutDir, d.digest);
  const ranges = verifiedRanges(file, d.digest, d.size);
  let damaged: BlobMismatch | undefined;
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(diffID ? { diffID } : {}),
    origin: file,
    // A whole read hashes on its own (a blob read again, or by two sinks at once, is checked again each time);
    // byte ranges (a chunked, resumed upload) share one running hash across them.
    open: (start = 0, end = d.size - 1) =>
      start === 0 && end === d.size - 1 ? openVerifiedBlob(file, d.digest, d.size, (e) => (damaged = e)) : ranges.open(start, end),
    damage: () => damaged ?? ranges.damage(),
    actualDigest: () => ranges.actualDigest(),
  };
}

export interface ReadLayoutOptions {
  /** List blobs that are not in the layout (in `missing`) instead of failing; a blob of the wrong size still fails. */
  allowMissing?: boolean;
}


/**
 * A small blob (manifest, config) read whole and checked against its name, and against its descriptor's size when
 * one is given. `missing` is the code for a blob that is not there: the image is not built (`layout.missing`), or a
 * document an image names is gone from the store (`layout.missing-blob`).
 */
export async function readLayoutDocument(
  layoutDir: string,
  d: { digest: string; size?: number },
  what: string,
  missing: ErrorCode = 'layout.missing',
): Promise<{ file: string; bytes: Buffer }> {
  const { digest } = d;
  const file = blobPath(layoutDir, digest, 'layout.digest');
  let bytes: Buffer;
  try {
    // Only a regular file is read: a blob linked to /dev/zero or made a FIFO would be read for ever.
    const read = await readSmallFile(file, MAX_DOCUMENT);
    if ('notFile' in read) throw new GamelayerError('layout.corrupt', `${file}: ${read.notFile}, not a blob file (${what})`, 'the store is damaged: rebuild the image');
    if ('tooBig' in read) throw new GamelayerError('layout.invalid', `${file}: ${read.tooBig} bytes is too big for ${what}`);
    bytes = read.bytes;
  } catch (e) {
    if (e instanceof GamelayerError) throw e;
    if (errnoCode(e) === 'ENOENT') {
      const hint = missing === 'layout.missing' ? 'build the image first (gamelayer build)' : 'the store is incomplete: rebuild the image';
      throw new GamelayerError(missing, `${file}: missing blob ${digest} (${what})`, hint);
    }
    throw new GamelayerError('layout.unreadable', `${file}: cannot read blob ${digest} (${what}): ${(e as Error).message}`);
  }
  const actual = sha256Digest(bytes);
  if (actual !== digest) throw new GamelayerError('layout.corrupt', `${file}: content hashes to ${actual}, not its name (${what})`, 'the store is damaged: rebuild the image');
  checkDocumentSize({ file, bytes }, d.size, what);
  return { file, bytes };
}

/** A verified document against the size a descriptor gives it (none given: nothing to check). */
function checkDocumentSize(doc: { file: string; bytes: Buffer }, size: number | undefined, what: string): void {
  if (size !== undefined && doc.bytes.length !== size) {
    throw new GamelayerError('layout.corrupt', `${doc.file}: ${doc.bytes.length} bytes, not the ${size} its descriptor says (${what})`, 'the store is damaged: rebuild the image');
  }
}

/** A document read by `readLayoutDocument`, parsed as JSON; invalid JSON is named with its file. */
export function parseLayoutDocument<T>(file: string, bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (e) {
    throw new GamelayerError('layout.invalid', `${file}: invalid JSON (${what}): ${(e as Error).message}`);
  }
}

/**
 * A layout read for several images (a build's push reads its 5 or more): `oci-layout` and index.json read and
 * checked once, then each image selected from that index.
 */
export interface LayoutReader {
  readonly dir: string;
  /** index.json's entries as read. */
  readonly entries: Descriptor[];
  /** As `readLayoutImage`, from the index read once. */
  image(selector: string, options?: ReadLayoutOptions): Promise<AnyImage>;
  /**
   * As `readLayoutDocument`, each blob read (and verified) once for this reader: a push reads the server image's
   * manifest and config before it sends anything, then pushes that image from the same documents.
   */
  document(d: { digest: string; size?: number }, what: string, missing?: ErrorCode): Promise<{ file: string; bytes: Buffer }>;
}

type DocumentReader = LayoutReader['document'];

export async function openLayout(layoutDir: string): Promise<LayoutReader> {
  // The store's own check of the folder and its oci-layout (layout-folder.ts). A store that is not there, or no
  // layout, is an image not built here: layout.missing, with its hint; another layout version is said as such.
  await checkLayoutFolder(layoutDir).catch((e: unknown) => {
    if (e instanceof GamelayerError && (e.code === 'store.missing' || e.code === 'store.not-layout')) {
      throw new GamelayerError('layout.missing', e.message, 'build the image first (gamelayer build)', { cause: e });
    }
    throw e;
  });
  const entries = await layoutTags(layoutDir);
  // Blobs are named by their digest, so a document verified once stays right for as long as the reader is used.
  const read = new Map<string, Promise<{ file: string; bytes: Buffer }>>();
  const document: DocumentReader = async (d, what, missing) => {
    let pending = read.get(d.digest);
    if (!pending) {
      pending = readLayoutDocument(layoutDir, { digest: d.digest }, what, missing);
      read.set(d.digest, pending);
      pending.catch(() => read.delete(d.digest));
    }
    const doc = await pending;
    // Read once by digest; each caller's descriptor size is checked against it.
    checkDocumentSize(doc, d.size, what);
    return doc;
  };
  return { dir: layoutDir, entries, document, image: (selector, options = {}) => selectImage(layoutDir, entries, selector, options, document) };
}

/**
 * Selects an image in the layout by tag (ref.name annotation) or digest, reads its manifest (and, for an index, its
 * children), checks every referenced blob is present with the size the manifest says, and returns it as the model.
 */
export async function readLayoutImage(layoutDir: string, selector: string, options: ReadLayoutOptions = {}): Promise<AnyImage> {
  return (await openLayout(layoutDir)).image(selector, options);
}

async function selectImage(layoutDir: string, entries: Descriptor[], selector: string, options: ReadLayoutOptions, document: DocumentReader): Promise<AnyImage> {
  let top: Descriptor | undefined;
  if (isDigest(selector)) {
    top = entries.find((d) => d.digest === selector);
    if (!top) {
      // A digest not listed in index.json (e.g. one platform's manifest): accept it when its blob is there.
      const s = await stat(blobPath(layoutDir, selector)).catch(() => undefined);
      if (s) {
        const { file, bytes } = await document({ digest: selector }, 'a manifest');
        const value = parseLayoutDocument<{ mediaType?: string }>(file, bytes, 'a manifest');
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
  return readManifest(layoutDir, top, options, document, { left: MAX_MANIFESTS, image: `${path.join(layoutDir, 'index.json')}: image ${selector} (${top.digest})` });
}

/**
 * The most manifests one image is read as, each child of an index counted as often as it is listed (the model holds
 * each listing). An index listing the same index twice, 30 deep, is a few KiB but 2^30 manifests: the read ran for
 * ever and its memory grew until the process was killed. A multi-platform image lists a few dozen.
 */
export const MAX_MANIFESTS = 1000;

/** What is left of MAX_MANIFESTS for one image, and the image as its error names it. */
interface ManifestBudget {
  left: number;
  image: string;
}

async function readManifest(layoutDir: string, d: Descriptor, options: ReadLayoutOptions, document: DocumentReader, budget: ManifestBudget): Promise<AnyImage> {
  const { file, bytes } = await document({ digest: d.digest }, `manifest ${d.digest}`);
  const value = parseLayoutDocument<{ mediaType?: unknown; manifests?: unknown }>(file, bytes, `manifest ${d.digest}`);
  // Each reference checked before it is followed: a foreign layout's document may be any JSON (document-shape.ts).
  const refs = documentRefsOf(value, file, `manifest ${d.digest}`);
  const mediaType = typeof value.mediaType === 'string' ? value.mediaType : d.mediaType;
  const descriptor: Descriptor = { ...d, mediaType, size: bytes.length };
  if (mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList || value.manifests !== undefined) {
    const manifests: AnyImage[] = [];
    for (const child of refs.manifests) {
      if (--budget.left < 0) {
        throw new GamelayerError('layout.invalid', `${budget.image}: lists more than ${MAX_MANIFESTS} manifests, counting those its nested indexes list (index ${d.digest} among them)`, 'not an image gamelayer reads: a multi-platform image lists a few dozen');
      }
      manifests.push(await readManifest(layoutDir, child, options, document, budget));
    }
    return { kind: 'index', descriptor, bytes, index: value as unknown as IndexDocument, manifests };
  }
  const config = refs.config;
  if (!config) throw new GamelayerError('layout.invalid', `${file}: manifest ${d.digest} has no config`);
  const layers = refs.layers;
  const blobs = [config, ...layers];
  const missing: Descriptor[] = [];
  // Each blob's presence and size, asked side by side, then judged in the manifest's order.
  const paths = blobs.map((b) => blobPath(layoutDir, b.digest, 'layout.digest'));
  const stats = await Promise.all(paths.map((p) => stat(p).catch(() => undefined)));
  for (const [i, b] of blobs.entries()) {
    const p = paths[i]!;
    const s = stats[i];
    if (!s && options.allowMissing) {
      missing.push(b);
      continue;
    }
    if (!s) throw new GamelayerError('layout.missing-blob', `${p}: missing blob ${b.digest} of manifest ${d.digest}`, 'the store is incomplete: rebuild the image');
    // A FIFO of the size its descriptor says (0) would block the read for ever: only a regular file is a blob.
    if (!s.isFile()) throw new GamelayerError('layout.corrupt', `${p}: ${kindOf(s)}, not a blob file (manifest ${d.digest})`, 'the store is damaged: rebuild the image');
    if (s.size !== b.size) throw new GamelayerError('layout.corrupt', `${p}: ${s.size} bytes, manifest ${d.digest} says ${b.size}`, 'the store is damaged: rebuild the image');
  }
  // The config is small: read (verified) now, so every layer knows its diff_id.
  let diffIDs: string[] = [];
  if (!missing.some((m) => m.digest === config.digest)) {
    const read = await document({ digest: config.digest }, `config of ${d.digest}`);
    const said = parseLayoutDocument<{ rootfs?: { diff_ids?: unknown } } | null>(read.file, read.bytes, `config of ${d.digest}`)?.rootfs?.diff_ids;
    // Taken only as a list of strings: a config of other JSON gives its layers no diff_id (as one without rootfs).
    if (Array.isArray(said) && said.every((x) => typeof x === 'string')) diffIDs = said as string[];
  }
  const image: Image = {
    kind: 'image',
    descriptor,
    bytes,
    manifest: value as unknown as ImageManifest,
    config: layoutBlob(layoutDir, config) as ImageBlob,
    layers: layers.map((l, i) => layoutBlob(layoutDir, l, diffIDs.length === layers.length ? diffIDs[i] : undefined)),
    ...(options.allowMissing ? { missing } : {}),
  };
  return image;
}
