// A partial local layout: a build planned on a registry record keeps layers it never downloads, so its images in
// the local OCI layout name blobs the layout lacks. The tagged entries say so (annotations) and where those blobs
// are; whatever reads the images locally (load, run-local, a push to another registry) fetches the blobs it lacks
// from there, digest-verified, or fails naming the missing blob.
import pLimit from 'p-limit';
import { GamelayerError } from '../errors.js';
import { OciStore } from '../oci/store.js';
import type { Descriptor } from '../types.js';
import { readLayoutImage, type LayoutManifest } from './layout.js';
import { pushTargetFor, type TargetOptions } from './push.js';
import { parseReference } from './reference.js';

export const PARTIAL_ANNOTATION = 'dev.gamelayer.layout.partial';
export const BLOB_SOURCE_ANNOTATION = 'dev.gamelayer.blob-source';

/** Marks the index entries of these images partial, with the repository holding the blobs they lack. */
export async function markPartial(store: OciStore, digests: string[], repository: string): Promise<void> {
  const wanted = new Set(digests);
  await store.updateIndex((index) => ({
    ...index,
    manifests: index.manifests.map((m) =>
      wanted.has(m.digest) ? { ...m, annotations: { ...m.annotations, [PARTIAL_ANNOTATION]: 'true', [BLOB_SOURCE_ANNOTATION]: repository } } : m,
    ),
  }));
}

/** Every blob of the image (below an index too) that the layout lacks. */
export function missingBlobs(m: LayoutManifest): Descriptor[] {
  const all = [...(m.missing ?? []), ...m.children.flatMap(missingBlobs)];
  return [...new Map(all.map((d) => [d.digest, d])).values()];
}

/** The repository a partial image's missing blobs are in, from its index entry. */
export function blobSourceOf(m: LayoutManifest): string | undefined {
  return m.descriptor.annotations?.[BLOB_SOURCE_ANNOTATION];
}

export interface FetchMissingOptions extends TargetOptions {
  /** Only these blobs (default: every blob the layout lacks). */
  only?: Descriptor[];
}

/**
 * Fetches the blobs `image` lacks from its blob source into the layout, each verified against its digest and size
 * before it is named by it. No source, or a source without the blob: a clear error naming the blob.
 */
export async function fetchMissingBlobs(layoutDir: string, image: LayoutManifest, selector: string, opts: FetchMissingOptions = {}): Promise<number> {
  const wanted = opts.only ?? missingBlobs(image);
  if (!wanted.length) return 0;
  const source = blobSourceOf(image);
  const first = wanted[0]!;
  if (!source) {
    throw new GamelayerError(
      'layout.missing-blob',
      `${layoutDir}: image ${selector} lacks blob ${first.digest}${wanted.length > 1 ? ` and ${wanted.length - 1} more` : ''}, and names no registry holding it`,
      'the store is incomplete: build the image again',
    );
  }
  const ref = parseReference(source);
  const { client } = await pushTargetFor(ref, opts);
  const store = await OciStore.open(layoutDir);
  const limit = pLimit(4);
  let bytes = 0;
  await Promise.all(
    wanted.map((d) =>
      limit(async () => {
        try {
          const body = await client.getBlob(ref.repository, d.digest);
          await store.putBlob(body, { digest: d.digest, size: d.size });
          bytes += d.size;
        } catch (e) {
          throw new GamelayerError(
            'layout.fetch-failed',
            `${layoutDir}: image ${selector} lacks blob ${d.digest} (${d.size} bytes), and fetching it from ${source} failed: ${(e as Error).message}`,
            'the build kept this layer in the registry without downloading it; if it is gone there, build again (the build rebuilds layers the registry lost)',
            { cause: e },
          );
        }
      }),
    ),
  );
  return bytes;
}

/** readLayoutImage for a reader that needs every blob: a partial image's missing blobs are fetched first. */
export async function readCompleteLayoutImage(layoutDir: string, selector: string, opts: TargetOptions = {}): Promise<LayoutManifest> {
  const image = await readLayoutImage(layoutDir, selector, { allowMissing: true });
  if (!missingBlobs(image).length) return image;
  await fetchMissingBlobs(layoutDir, image, selector, opts);
  return readLayoutImage(layoutDir, selector);
}
