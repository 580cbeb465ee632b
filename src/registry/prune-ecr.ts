// prune's deletes on Amazon ECR, through BatchDeleteImage (at most 100 images a call). ECR refuses to delete an image
// that an image index in the repository still lists (failure ImageReferencedByManifestList), and its documentation
// does not say a call's entries are taken in order: an index and what it lists cannot go in one call. So the deletes
// go in rounds of calls, each round only what no manifest still to go lists: first the indexes listing what goes
// (the build records' indexes, once each record tag is moved to its record manifest as on the distribution API,
// prune-records.ts; referrers indexes; image indexes listing tree images), then the images with their signatures
// and SBOMs, the record manifests last. A prune killed between two calls leaves no index naming a deleted image, and
// the next prune finishes: it finds the builds by their record tags still, and a record index whose record tag had
// moved by the `sha256-<hex>.gamelayer-index` tag it got first (prune-records.ts).
import { BatchDeleteImageCommand } from '@aws-sdk/client-ecr';
import type { LimitFunction } from 'p-limit';
import { GamelayerError } from '../errors.js';
import type { RegistryClient } from './client.js';
import { isTagImmutable, type EcrApi } from './ecr.js';
import type { ManifestReads } from './index-entries.js';
import { detachRecordIndexes, isRecordEntry } from './prune-records.js';
import { INDEX_MEDIA_TYPES } from '../oci/media-types.js';

/** BatchDeleteImage takes at most this many image ids a call. */
export const ECR_BATCH = 100;

export interface EcrDeletes {
  /** Tags to take off images a kept tag still names. */
  untagged: string[];
  /** Manifests to delete, with their tags: images and build records. */
  deleted: { digest: string; tags: string[] }[];
  /** What is attached to them (signatures, referrers indexes, SBOMs), in the order found. */
  attached: { digest: string; tags: string[] }[];
}

/** Carries out prune's deletes on ECR in dependency order (see above). */
export async function ecrPruneDeletes(
  api: EcrApi,
  client: RegistryClient,
  repo: string,
  plan: EcrDeletes,
  mediaTypeOf: (tag: string) => string | undefined,
  limit: LimitFunction,
  /** The manifests prune read to plan (its image, record and referrers indexes): listed from memory, not read again. */
  reads: ManifestReads,
  /** Told how many images (or tags) each BatchDeleteImage call removed. */
  progress: (n: number) => void = () => {},
): Promise<void> {
  // What each index among the deletes lists (the record indexes among them), read and checked before any call: prune
  // read nearly all of them to plan, so they come from memory; only the others are fetched.
  const indexes = [...plan.deleted, ...plan.attached].filter((e) => e.tags.some((t) => INDEX_MEDIA_TYPES.has(mediaTypeOf(t) ?? ''))).map((e) => e.digest);
  const listed = new Map<string, string[]>();
  await Promise.all(unique(indexes).map((d) => limit(async () => listed.set(d, (await reads.index(d)).manifests.map((m) => m.digest)))));
  if (plan.untagged.length) await ecrDelete(api, progress, repo, plan.untagged.map((imageTag) => ({ imageTag })));
  const isRecord = isRecordEntry;
  const records = plan.deleted.filter(isRecord);
  const recordIndexes: string[] = [];
  // ECR refuses to move an immutable tag: there the record index goes with its tag, the record manifest tagged
  // `<tag>.gamelayer-pruned` first, by which the next prune finishes a prune killed before the images' call.
  const info = records.length ? await api.describeRepository(repo) : undefined;
  const movable = (tag: string) => !info || !isTagImmutable(info, tag);
  const recordManifests = await detachRecordIndexes(client, repo, reads, records, mediaTypeOf, async (d) => void recordIndexes.push(d), movable);
  const rest = unique([...plan.deleted.filter((e) => !isRecord(e)), ...plan.attached].map((e) => e.digest));
  const all = unique([...recordIndexes, ...rest, ...recordManifests]);

  let left = all;
  for (;;) {
    const remaining = new Set(left);
    const lists = left.filter((d) => (listed.get(d) ?? []).some((c) => remaining.has(c)));
    if (!lists.length) break;
    const named = new Set(left.flatMap((d) => listed.get(d) ?? []));
    const round = lists.filter((d) => !named.has(d));
    if (!round.length) throw new GamelayerError('ecr.api', `prune on ${repo}: the indexes to delete list each other (${lists.join(', ')}); nothing can go first`);
    await ecrDelete(api, progress, repo, round.map((imageDigest) => ({ imageDigest })));
    left = left.filter((d) => !round.includes(d));
  }
  // Images, then what is attached to them, the record manifests last: a kill never leaves images without a record.
  const last = new Set(recordManifests);
  await ecrDelete(api, progress, repo, left.filter((d) => !last.has(d)).map((imageDigest) => ({ imageDigest })));
  await ecrDelete(api, progress, repo, left.filter((d) => last.has(d)).map((imageDigest) => ({ imageDigest })));
}

function unique(digests: string[]): string[] {
  return [...new Set(digests)];
}

/** BatchDeleteImage of `imageIds`, in order, 100 a call; an image already gone is no failure (a prune run again). */
async function ecrDelete(api: EcrApi, progress: (n: number) => void, repo: string, imageIds: { imageDigest?: string; imageTag?: string }[]): Promise<void> {
  for (let i = 0; i < imageIds.length; i += ECR_BATCH) {
    const out = await api.sdk.send(new BatchDeleteImageCommand({ repositoryName: repo, ...(api.registryId ? { registryId: api.registryId } : {}), imageIds: imageIds.slice(i, i + ECR_BATCH) })).catch((e: unknown) => {
      throw new GamelayerError('ecr.api', `ECR BatchDeleteImage in ${repo}: ${(e as Error).message}`, undefined, { cause: e });
    });
    const failures = (out.failures ?? []).filter((f) => f.failureCode !== 'ImageNotFound');
    if (failures.length) {
      const f = failures[0]!;
      const referenced = f.failureCode === 'ImageReferencedByManifestList';
      throw new GamelayerError(
        'ecr.api',
        `ECR BatchDeleteImage in ${repo}: ${f.imageId?.imageDigest ?? f.imageId?.imageTag}: ${f.failureCode}: ${f.failureReason}`,
        referenced ? 'an image index in the repository still lists it (one gamelayer did not push, or not of a pruned build): delete that index first, then run prune again' : undefined,
      );
    }
    progress(Math.min(ECR_BATCH, imageIds.length - i));
  }
}
