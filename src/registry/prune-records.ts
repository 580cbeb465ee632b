// A build's record tag names an index listing the server image's platform manifests and the record manifest
// (artifact.ts). Deleted after the images, the index would name missing manifests until it goes (and for good, if
// prune is killed between); deleted before them, the build's images would have no record, and the next prune would
// take them for tags of no build and keep them. So before the images go, each record tag is moved to the record
// manifest alone (the form earlier versions pushed, still read) and the index is deleted: nothing then lists an image
// about to go, and the next prune still finds the build. The record manifests go last. Before the move the index gets
// a tag of its own, `sha256-<hex>.gamelayer-index` (PENDING_INDEX_TAG): a prune killed between the move and the
// delete would leave the index untagged, unknown to the next prune, which would delete the images it still lists;
// tagged, the next prune deletes it first (prune.ts). The delete by digest takes that tag with it.
// Where the record tag cannot move (ECR immutable tags) the index goes with it, and a prune killed before the images
// went would leave them to no build. So first the record manifest gets the tag `<tag>.gamelayer-pruned`
// (PRUNED_TAG_SUFFIX, a new tag: immutability only forbids moving one): the next prune finds the build by it and
// finishes removing it (prune.ts); it goes with the record manifest, last.
import { GamelayerError } from '../errors.js';
import { BUILD_RECORD_ARTIFACT_TYPE, getVerifiedManifest, pendingIndexTag, RECORD_TAG_SUFFIX } from './artifact.js';
import type { RegistryClient } from './client.js';
import { documentMediaType, type ManifestReads, type ReadIndex } from './index-entries.js';
import { runBounded } from '../util/run-bounded.js';
import { INDEX_MEDIA_TYPES } from '../oci/media-types.js';

export { PENDING_INDEX_TAG } from './artifact.js';
/** Names the record manifest of a build a prune is removing, where its record tag could not move (see above). */
export const PRUNED_TAG_SUFFIX = '.gamelayer-pruned';
/** A build record among prune's deletes: named by its record tag, or by the tag of a build being removed. */
export const isRecordEntry = (e: { tags: string[] }) => e.tags.some((t) => t.endsWith(RECORD_TAG_SUFFIX) || t.endsWith(PRUNED_TAG_SUFFIX));

const tagOf = (r: { tags: string[] }) => r.tags.find((t) => t.endsWith(RECORD_TAG_SUFFIX));
/** The record manifest a build's record index lists; none in an index that is not one of ours. */
const recordEntry = (index: ReadIndex) => index.manifests.find((m) => m.artifactType === BUILD_RECORD_ARTIFACT_TYPE || m.platform?.os === 'unknown');

/**
 * How many manifests the records' deletes remove (detachRecordIndexes, then its record manifests): two for a record
 * tag naming a record index (the index, then the record manifest it lists), else one. For prune's progress.
 */
export async function recordDeleteCount(reads: ManifestReads, records: { digest: string; tags: string[] }[], mediaTypeOf: (tag: string) => string | undefined): Promise<number> {
  let n = 0;
  for (const r of records) {
    const tag = tagOf(r);
    n += tag && INDEX_MEDIA_TYPES.has(mediaTypeOf(tag) ?? '') && recordEntry(await reads.index(r.digest)) ? 2 : 1;
  }
  return n;
}

/**
 * Moves each removed record tag off its index (see above) and deletes the index with `remove`; returns the digests
 * of the record manifests, for the caller to delete after the images. A record tag already on its manifest (an
 * older push, or a prune killed after the move) is left as it is. Every index is read (and checked) before the first
 * move: one that is not an index stops the prune with nothing of it done.
 */
export async function detachRecordIndexes(
  client: RegistryClient,
  repo: string,
  /** The manifests prune read to plan: a record index among them is not fetched again. */
  reads: ManifestReads,
  records: { digest: string; tags: string[] }[],
  mediaTypeOf: (tag: string) => string | undefined,
  remove: (digest: string) => Promise<void>,
  /** False for a tag that cannot move (ECR immutable tags): its index is deleted with it, the record manifest tagged `<tag>.gamelayer-pruned` first. */
  movable: (tag: string) => boolean = () => true,
  /**
   * How many records are detached at once (default one at a time). Each record's steps stay in order (its index
   * tagged, its record tag moved, then the index deleted); records are independent of each other.
   */
  concurrency = 1,
): Promise<string[]> {
  const indexes = new Map<string, ReadIndex>();
  for (const r of records) {
    const tag = tagOf(r);
    if (tag && INDEX_MEDIA_TYPES.has(mediaTypeOf(tag) ?? '')) indexes.set(r.digest, await reads.index(r.digest));
  }
  return runBounded(records, concurrency, (r) => detachOne(client, repo, r, indexes.get(r.digest), remove, movable));
}

/** One record of detachRecordIndexes: the digest of the record manifest left to delete last. */
async function detachOne(
  client: RegistryClient,
  repo: string,
  r: { digest: string; tags: string[] },
  got: ReadIndex | undefined,
  remove: (digest: string) => Promise<void>,
  movable: (tag: string) => boolean,
): Promise<string> {
  const tag = tagOf(r);
  if (!tag || !got) return r.digest;
  const entry = recordEntry(got);
  if (!entry) return r.digest; // not one of ours: deleted last, as before
  if (movable(tag)) {
    // Read and hashed before the first put: bytes of another manifest must not get the tag, nor leave a half move.
    const manifest = await getVerifiedManifest(client, repo, entry.digest);
    // Put with the type each document gives itself, not the Content-Type it was served with (a proxy's application/json).
    await client.putManifest(repo, pendingIndexTag(r.digest), got.bytes, documentMediaType(got.bytes, `${client.host}/${repo}@${r.digest}`, 'application/vnd.oci.image.index.v1+json'));
    await client.putManifest(repo, tag, manifest.bytes, documentMediaType(manifest.bytes, `${client.host}/${repo}@${entry.digest}`, String(entry.mediaType ?? manifest.mediaType)));
  } else {
    // Put only when missing: a prune killed after it ran again (ECR may refuse even the same image on a tag).
    const marker = `${tag.slice(0, -RECORD_TAG_SUFFIX.length)}${PRUNED_TAG_SUFFIX}`;
    if ((await client.headManifest(repo, marker))?.digest !== entry.digest) {
      const manifest = await getVerifiedManifest(client, repo, entry.digest);
      await client.putManifest(repo, marker, manifest.bytes, documentMediaType(manifest.bytes, `${client.host}/${repo}@${entry.digest}`, String(entry.mediaType ?? manifest.mediaType)));
    }
  }
  await remove(r.digest);
  return entry.digest;
}
