// A base image's config names each layer's diff_id, the sha256 of its uncompressed tar: gamelayer copies them into
// every image config it makes, and a runtime unpacking the layer checks the one against the other. The config is
// checked against its digest, but a config that is well formed and lies (a registry's image built wrong, or made to
// mislead) passed as it was: every image built on it failed only on a node, at pull. Each base layer is decompressed
// and hashed once, the first time it is fetched; the fact (this blob's tar hashes to this diff_id) is kept beside the
// store's verified-blob markers, keyed by the blob's digest (content-addressed: it stays true while the digest does).
// A layer fetched into the store is hashed on its way in (`putBaseLayer`): a 300 MB base was read twice, once from
// the registry and once back from the store; the tar's hash counts only once the blob's digest is proven. A local
// base's layer (layout or archive) goes through the same tap on its copy, and is held to its config's diff_id too
// (it was not: a local base whose config lies built images that every runtime refused at pull).
import { createHash } from 'node:crypto';
import { pipeline as pipelineCallback, Transform, Writable, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { GamelayerError } from '../errors.js';
import { readMarkerText, writeMarkerText } from './blob-verify.js';
import { layerFoldersSink, type LayerFolders } from './base-folders.js';
import { decompressorFor, notALayerType } from './layer-decompress.js';
import type { OciStore } from './store.js';

export interface BaseLayerRef {
  digest: string;
  size: number;
  mediaType: string;
  diffID: string;
}

/** The marker of a blob's proven diff_id (gc sweeps those of blobs it removes). */
export function diffIdMarkerName(digest: string): string {
  return `diffid-${digest.slice('sha256:'.length)}`;
}

/**
 * Checks that base layer `index` of `image`, held in `store`, decompresses to the tar its config's diff_id names;
 * `base.diff-id-mismatch` naming the image, the layer index and both digests when not. `hashed` is the tar's digest
 * when the caller took it as the verified blob came in (`putBaseLayer`); else the blob is read from the store.
 */
export async function verifyBaseDiffId(
  store: OciStore,
  layer: BaseLayerRef,
  image: string,
  index: number,
  hashed?: string,
  /** The error of a blob that does not decompress (default: base.diff-id-mismatch, as a download says it). */
  failed: (e: Error) => Error = (e) => undecompressable(layer, image, index, e),
): Promise<void> {
  const markers = store.markerDir;
  const name = diffIdMarkerName(layer.digest);
  if (markers && (await readMarkerText(markers, name)) === layer.diffID) return;
  const got = hashed ?? (await uncompressedDigest(store, layer, failed));
  if (got !== layer.diffID) {
    throw new GamelayerError(
      'base.diff-id-mismatch',
      `base image ${image}: layer ${index} (${layer.digest}) decompresses to a tar whose digest is ${got}, but the image config's rootfs.diff_ids[${index}] says ${layer.diffID}`,
      'the base image\'s config does not describe its layers (a runtime would refuse every image built on it): rebuild or re-push the base image, or pick another',
    );
  }
  // Best effort, as the verified-blob markers: without one, the layer is hashed again next time.
  if (markers) await writeMarkerText(markers, name, layer.diffID).catch(() => {});
}

/** What a download read of its layer: its tar's digest, and the folders asked for (undefined: not read, read again). */
export interface FetchedLayer {
  diffID: string | undefined;
  folders?: LayerFolders;
}

/**
 * Stores the base layer `fetch` opens (the registry's stream) under its digest, hashing its uncompressed tar as it goes
 * by: the tar's digest, given once the store proved the blob's digest, or undefined when the store took the blob
 * without reading it (another build stored it meanwhile). An undecompressable blob is `base.diff-id-mismatch`. With
 * `tracked` (the folders above and at the trees' mounts, oci/base-parents.ts), the same decompressed tar is walked for
 * them too: the layer is then read once, not once more from the store. A tar that walk cannot read gives no folders
 * (the folders pass reads it again and names the fault).
 */
export async function putBaseLayer(store: OciStore, fetch: () => Promise<Readable>, layer: BaseLayerRef, image: string, index: number, tracked?: ReadonlySet<string>): Promise<FetchedLayer> {
  const put = await putTapped(store, fetch, layer, (e) => undecompressable(layer, image, index, e), tracked);
  const diffID = await put.diffID();
  const read = diffID && put.folders ? await put.folders.catch(() => undefined) : undefined;
  return { diffID, ...(read ? { folders: read } : {}) };
}

/**
 * Stores a local base's layer blob (`content`: read from its layout or archive), hashing its decompressed tar and,
 * with `tracked` (the folders above and at the mounts), walking it on the way: the stored blob is then not read back
 * for either. The tar's digest is for the caller's verifyBaseDiffId; a blob that does not decompress gives none and
 * no folders (its check reads the blob again and names the fault), a tar the walk cannot read no folders.
 */
export async function putLocalBaseLayer(store: OciStore, content: Readable, layer: Omit<BaseLayerRef, 'diffID'>, tracked?: ReadonlySet<string>): Promise<FetchedLayer> {
  const put = await putTapped(store, async () => content, { ...layer, diffID: '' }, (e) => e, tracked);
  const diffID = await put.diffID().catch(() => undefined);
  const folders = diffID ? await put.folders?.catch(() => undefined) : undefined;
  return { diffID, ...(folders ? { folders } : {}) };
}

/** A base layer whose tar cannot be read, as `base.archive` (a GamelayerError of its own passes as it is). */
export function unreadableBaseLayer(digest: string, e: unknown): GamelayerError {
  if (e instanceof GamelayerError) return e;
  return new GamelayerError('base.archive', `base layer ${digest}: not a readable layer tar: ${(e as Error).message}`);
}

/** The blob `fetch` opens, stored under its digest through a diffIdTap (and a tar walk for `tracked`, when given). */
async function putTapped(store: OciStore, fetch: () => Promise<Readable>, layer: BaseLayerRef, failed: (e: Error) => Error, tracked?: ReadonlySet<string>): Promise<{ diffID(): Promise<string | undefined>; folders?: Promise<LayerFolders> }> {
  const folders = tracked ? await layerFoldersSink(tracked) : undefined;
  folders?.done.catch(() => {}); // a failed walk only means no folders: the download is not stopped by it
  const tap = diffIdTap(layer, failed, folders?.sink); // a media type no layer has is refused before the download starts
  const content = await fetch().catch((e: unknown) => {
    tap.stream.destroy();
    throw e;
  });
  // Errors of either side destroy both: the download's reach the store's writer, a failed write stops the download.
  await store.putBlob(pipelineCallback(content, tap.stream, () => {}), { digest: layer.digest, size: layer.size });
  return { diffID: tap.diffID, ...(folders ? { folders: folders.done } : {}) };
}

interface DiffIdTap {
  /** Passes the blob's bytes on unchanged, feeding a copy to the decompressor (its pace is the download's). */
  stream: Transform;
  /** The tar's digest; undefined when the stream did not reach its end. */
  diffID(): Promise<string | undefined>;
}

function diffIdTap(layer: BaseLayerRef, undecompressable: (e: Error) => Error, tar?: NodeJS.WritableStream): DiffIdTap {
  const hash = createHash('sha256');
  // The tar walk (when asked for) gets each chunk too; one that fails is left behind, the hash goes on.
  let walking = tar !== undefined;
  tar?.on('error', () => (walking = false));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      if (!walking || tar!.write(chunk)) return done();
      let called = false;
      const go = () => {
        if (called) return;
        called = true;
        tar!.off('error', go);
        done();
      };
      tar!.once('drain', go);
      tar!.once('error', go);
    },
    final(done) {
      if (walking) tar!.end();
      walking = false; // ended: the tar walk finishes on its own (not destroyed with this sink)
      done();
    },
    destroy(err, done) {
      if (walking) (tar as unknown as { destroy(e?: Error): void }).destroy();
      done(err);
    },
  });
  const decompress = decompressorFor(layer.mediaType, () => notALayerType(layer.digest, layer.mediaType));
  const inner: Writable = decompress ?? sink;
  // A blob that does not decompress stops the copy, not the download: the digest is checked first, then this said.
  let failed: Error | undefined;
  let resume: (() => void) | undefined;
  const done = (decompress ? pipeline(decompress, sink) : finished(sink)).catch((e: unknown) => {
    failed = e as Error;
    resume?.();
  });
  let ended = false;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, next) {
      if (failed || inner.write(chunk)) return next(null, chunk);
      resume = () => {
        resume = undefined;
        next(null, chunk);
      };
      inner.once('drain', () => resume?.());
    },
    flush(next) {
      ended = true;
      if (!failed) inner.end();
      next();
    },
    destroy(err, next) {
      if (!ended) inner.destroy();
      next(err);
    },
  });
  return {
    stream,
    diffID: async () => {
      if (!ended) return undefined;
      await done;
      // A decompressor that could not run (zstd.missing) says so itself; bytes it refused are the layer's fault.
      if (failed) throw failed instanceof GamelayerError ? failed : undecompressable(failed);
      return `sha256:${hash.digest('hex')}`;
    },
  };
}

function undecompressable(layer: BaseLayerRef, image: string, index: number, e: Error): GamelayerError {
  return new GamelayerError(
    'base.diff-id-mismatch',
    `base image ${image}: layer ${index} (${layer.digest}) does not decompress as ${layer.mediaType} (${e.message}), so it cannot be the tar its config's rootfs.diff_ids[${index}] names (${layer.diffID})`,
    'the base image\'s layer is not what its manifest says it is: rebuild or re-push the base image, or pick another',
  );
}

/** The tar's digest of a layer already in the store, read back through the same tap. */
async function uncompressedDigest(store: OciStore, layer: BaseLayerRef, failed: (e: Error) => Error): Promise<string> {
  const tap = diffIdTap(layer, failed);
  const discard = new Writable({ write: (_c, _e, done) => done() });
  await pipeline(await store.openBlob(layer.digest, layer.size), tap.stream, discard);
  return (await tap.diffID())!;
}
