// A partial local layout: a build planned on a registry record keeps layers it never downloads, so its images in
// the local OCI layout name blobs the layout lacks. The tagged entries say so (annotations) and where those blobs
// are; whatever reads the images locally (load, run-local, a push to another registry) fetches the blobs it lacks
// from there, digest-verified, or fails naming the missing blob.
import pLimit from 'p-limit';
import { GamelayerError } from '../errors.js';
import { OciStore } from '../oci/store.js';
import type { Descriptor } from '../types.js';
import type { RegistryClient } from './client.js';
import path from 'node:path';
import { Readable } from 'node:stream';
import { layoutBlob, readLayoutImage } from '../oci/layout.js';
import { missingBlobs, type AnyImage, type ImageBlob } from '../oci/model.js';
import { pushTargetFor, readOnly, type TargetOptions } from './connect.js';
import { parseReference } from './reference.js';

export const PARTIAL_ANNOTATION = 'dev.gamelayer.layout.partial';
export const BLOB_SOURCE_ANNOTATION = 'dev.gamelayer.blob-source';

/** The annotations of a partial image's index entry: partial, and the repositories holding the blobs it lacks (space-separated). */
export function partialAnnotations(repositories: string[]): Record<string, string> {
  return { [PARTIAL_ANNOTATION]: 'true', [BLOB_SOURCE_ANNOTATION]: [...new Set(repositories)].join(' ') };
}

/** Marks the index entries of these images partial (`partialAnnotations`); nothing is written when they are already. */
export async function markPartial(store: OciStore, digests: string[], repositories: string[]): Promise<void> {
  const wanted = new Set(digests);
  const marks = partialAnnotations(repositories);
  await store.updateIndex((index) => ({
    ...index,
    manifests: index.manifests.map((m) => (wanted.has(m.digest) ? { ...m, annotations: { ...m.annotations, ...marks } } : m)),
  }));
}

export { missingBlobs };

/** The repositories a partial image's missing blobs are in (first: where the build pushed), from its index entry. */
export function blobSourcesOf(m: AnyImage): string[] {
  return (m.descriptor.annotations?.[BLOB_SOURCE_ANNOTATION] ?? '').split(' ').filter(Boolean);
}

export interface FetchMissingOptions extends TargetOptions {
  /** Only these blobs (default: every blob the layout lacks). */
  only?: Descriptor[];
}

/** What one call fetched itself: blobs already in the layout, or being fetched by another call, are not counted. */
export interface FetchedBlobs {
  blobs: number;
  bytes: number;
}

/**
 * Fetches of this process, by layout and digest: the pushes of several images (and targets) of one run that lack
 * the same blob join one download instead of each fetching (and reporting) it again.
 */
const inflight = new Map<string, Promise<unknown>>();

/**
 * Fetches the blobs `image` lacks from its blob source into the layout, each verified against its digest and size
 * before it is named by it. No source, or a source without the blob: a clear error naming the blob.
 */
export async function fetchMissingBlobs(layoutDir: string, image: AnyImage, selector: string, opts: FetchMissingOptions = {}): Promise<FetchedBlobs> {
  const fetched: FetchedBlobs = { blobs: 0, bytes: 0 };
  const wanted = opts.only ?? missingBlobs(image);
  if (!wanted.length) return fetched;
  const sources = blobSourcesOf(image);
  const first = wanted[0]!;
  if (!sources.length) {
    throw new GamelayerError(
      'layout.missing-blob',
      `${layoutDir}: image ${selector} lacks blob ${first.digest}${wanted.length > 1 ? ` and ${wanted.length - 1} more` : ''}, and names no registry holding it`,
      'the store is incomplete: build the image again',
    );
  }
  const store = await OciStore.open(layoutDir);
  const clients = new Map<string, Promise<{ client: RegistryClient; repo: string }>>();
  const clientFor = (source: string) => {
    let c = clients.get(source);
    if (!c) {
      const ref = parseReference(source);
      c = pushTargetFor(ref, readOnly(opts)).then((t) => ({ client: t.client, repo: ref.repository }));
      clients.set(source, c);
    }
    return c;
  };
  const limit = pLimit(4);
  const fetchOne = (d: Descriptor) =>
    limit(async () => {
      if (await store.hasBlob(d.digest, d.size)) return;
      // Each source in turn (the pushed repository, then a base image's); the last failure is the one reported.
      let failure: unknown;
      for (const source of sources) {
        try {
          const { client, repo } = await clientFor(source);
          await store.putBlob(await client.getBlob(repo, d.digest), { digest: d.digest, size: d.size });
          fetched.blobs++;
          fetched.bytes += d.size;
          return;
        } catch (e) {
          failure = e;
        }
      }
      throw new GamelayerError(
        'layout.fetch-failed',
        `${layoutDir}: image ${selector} lacks blob ${d.digest} (${d.size} bytes), and fetching it from ${sources.join(' or ')} failed: ${(failure as Error).message}`,
        'the build kept this layer in the registry without downloading it; if it is gone there, build again (the build rebuilds layers the registry lost)',
        { cause: failure },
      );
    });
  await Promise.all(
    wanted.map((d) => {
      const key = `${path.resolve(layoutDir)}\0${d.digest}`;
      const running = inflight.get(key);
      if (running) return running;
      const p = fetchOne(d).finally(() => inflight.delete(key));
      inflight.set(key, p);
      return p;
    }),
  );
  return fetched;
}

/** readLayoutImage for a reader that needs every blob: a partial image's missing blobs are fetched first. */
export async function readCompleteLayoutImage(layoutDir: string, selector: string, opts: TargetOptions = {}): Promise<AnyImage> {
  const image = await readLayoutImage(layoutDir, selector, { allowMissing: true });
  if (!missingBlobs(image).length) return image;
  await fetchMissingBlobs(layoutDir, image, selector, opts);
  return readLayoutImage(layoutDir, selector);
}

/**
 * A blob the layout lacks, as an upload source: its bytes are fetched (verified) into the layout the first time the
 * upload needs them, i.e. only when the registry did not mount it.
 */
export function lazyBlobSource(layoutDir: string, d: Descriptor, fetch: () => Promise<unknown>): ImageBlob {
  const local = layoutBlob(layoutDir, d);
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    origin: `${local.origin} (fetched on demand)`,
    open: (start, end) =>
      Readable.from(
        (async function* () {
          await fetch();
          yield* local.open(start, end);
        })(),
      ),
  };
}
