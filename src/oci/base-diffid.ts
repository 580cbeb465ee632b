// A base image's config names each layer's diff_id, the sha256 of its uncompressed tar: gamelayer copies them into
// every image config it makes, and a runtime unpacking the layer checks the one against the other. The config is
// checked against its digest, but a config that is well formed and lies (a registry's image built wrong, or made to
// mislead) passed as it was: every image built on it failed only on a node, at pull. Each base layer is decompressed
// and hashed once, the first time it is fetched; the fact (this blob's tar hashes to this diff_id) is kept beside the
// store's verified-blob markers, keyed by the blob's digest (content-addressed: it stays true while the digest does).
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GamelayerError } from '../errors.js';
import { readMarkerText, writeMarkerText } from './blob-verify.js';
import { decompressorFor } from './layer-decompress.js';
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
 * `base.diff-id-mismatch` naming the image, the layer index and both digests when not.
 */
export async function verifyBaseDiffId(store: OciStore, layer: BaseLayerRef, image: string, index: number): Promise<void> {
  const markers = store.markerDir;
  const name = diffIdMarkerName(layer.digest);
  if (markers && (await readMarkerText(markers, name)) === layer.diffID) return;
  const got = await uncompressedDigest(store, layer);
  if (got !== layer.diffID) {
    throw new GamelayerError(
      'base.diff-id-mismatch',
      `base image ${image}: layer ${index} (${layer.digest}) decompresses to a tar of sha256 ${got}, but the image config's rootfs.diff_ids[${index}] says ${layer.diffID}`,
      'the base image\'s config does not describe its layers (a runtime would refuse every image built on it): rebuild or re-push the base image, or pick another',
    );
  }
  // Best effort, as the verified-blob markers: without one, the layer is hashed again next time.
  if (markers) await writeMarkerText(markers, name, layer.diffID).catch(() => {});
}

async function uncompressedDigest(store: OciStore, layer: BaseLayerRef): Promise<string> {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done();
    },
  });
  const blob = await store.openBlob(layer.digest, layer.size);
  const decompress = decompressorFor(layer.mediaType, () => new GamelayerError('base.layer-type', `base layer ${layer.digest}: media type ${layer.mediaType} is not a layer's`));
  if (decompress) await pipeline(blob, decompress, sink);
  else await pipeline(blob, sink);
  return `sha256:${hash.digest('hex')}`;
}
