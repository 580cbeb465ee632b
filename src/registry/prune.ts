// gamelayer prune: old builds out of a registry repository. A build there is its record tag (`<tag>.gamelayer-record`,
// the fallback tag of artifact.ts) with the images `<tag>` and `<tag>-<tree>`; builds are ordered by the record's
// creation time. Kept: the newest `keep` builds, the newest build of each line (the one its `gamelayer-line.<line>`
// tag names; with `idleLineDays`, only of lines built in the last that many days before the repository's newest
// build: an idle line's tag goes with its newest build's record), the builds `tags` names (by tag or image digest:
// a rollback target, what deployed specs pin), and every tag that is not part of a build (line tags included). A removed build's
// manifests are deleted by digest (distribution API: DELETE /v2/<repo>/manifests/<digest>; on ECR
// BatchDeleteImage), except a digest a kept tag also names (an unchanged tree image): on ECR only the old tag is
// removed, elsewhere it stays (the distribution API cannot remove one tag of several). Records go last; each manifest
// goes before what it lists (prune-records.ts): on the distribution API one DELETE at a time, on ECR in rounds of
// BatchDeleteImage calls (prune-ecr.ts; ECR refuses to delete what an index still lists), so a prune killed anywhere
// leaves no manifest naming a deleted one.
// What is attached to a deleted image goes with it: its cosign signature (`sha256-<hex>.sig`), the referrers index
// tagged `sha256-<hex>` (the referrers tag schema) and the SBOMs it lists, with their signatures; left behind,
// they would be tags naming nothing alive, one set per pruned build, that no lifecycle policy for untagged images
// expires. Blobs are the registry's to collect (its garbage collector; on ECR, once no image references them).
import { PutLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import pLimit, { type LimitFunction } from 'p-limit';
import { GamelayerError } from '../errors.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { BUILD_RECORD_ARTIFACT_TYPE, LINE_TAG_PREFIX, RECORD_TAG_SUFFIX } from './artifact.js';
import { pushScope } from './scopes.js';
import type { RegistryClient } from './client.js';
import type { EcrApi } from './ecr.js';
import { ManifestReads, manifestName, manifestObject } from './index-entries.js';
import { ecrPruneDeletes } from './prune-ecr.js';
import { leftoverTags } from './prune-leftovers.js';
import { leftNoteTag, ofBuild, readLeftNotes, writeLeftNotes, type LeftNote } from './prune-left-notes.js';
import { deleteInWaves, PRUNE_DELETE_CONCURRENCY } from './prune-waves.js';
import { detachRecordIndexes, isRecordEntry, PENDING_INDEX_TAG, PRUNED_TAG_SUFFIX, recordDeleteCount } from './prune-records.js';
import { referrersTag } from './referrers.js';
import { INDEX_MEDIA_TYPES } from '../oci/media-types.js';
import { instantMs, newestFirst } from '../util/instant.js';

/** cosign's signature tag: `sha256-<hex>.sig` beside the signed manifest (src/sign/cosign.ts writes it). */
const SIGNATURE_TAG_SUFFIX = '.sig';

const TREES = ['engine', 'engine-media', 'app', 'app-media'];
const CREATED = 'org.opencontainers.image.created';

export interface PruneOptions {
  client: RegistryClient;
  repo: string;
  keep: number;
  apply?: boolean;
  /** On Amazon ECR: deletes go through BatchDeleteImage, which can also remove one tag of several. */
  ecr?: EcrApi;
  /**
   * Builds to keep whatever their age (a rollback target, what a deployed spec runs): a build's tag, one of its
   * image tags, or the digest of one of its images (`sha256:…`, or `repo@sha256:…` as a spec pins it).
   */
  tags?: string[];
  /**
   * Per deployed spec (`--keep-deployed`), the image digests it pins: the build holding every one of them is kept
   * (tree images unchanged since are shared by later builds, which are not kept for it); when no build holds them
   * all (a file deploying several builds), every build holding one of them.
   */
  deployed?: string[][];
  /**
   * Retire lines idle this many days: a line whose newest build is older than the repository's newest build by more
   * than that loses its line tag, and its newest build is kept only if --keep or `tags` keep it. Undefined: every
   * line's newest build is kept (a branch built once would hold its build forever).
   */
  idleLineDays?: number;
  /**
   * Registry reads in flight at once (default 8). One request per tag, one after another, took minutes on a
   * repository of thousands of tags; a 429 or 5xx is retried by the client (honouring Retry-After).
   */
  concurrency?: number;
  /**
   * Deletes in flight at once on a registry (default 4; 1: one at a time, as before stop 41), each manifest still
   * only after every manifest that lists it (prune-waves.ts). On ECR, deletes go in BatchDeleteImage calls.
   */
  deleteConcurrency?: number;
  /** Progress of the reads (one per tag) and of the deletes: bars on a terminal, lines in a CI log. */
  reporter?: Reporter;
}

/** The reads of each item in parallel (at most `limit` at once), answers in the items' order. */
function readAll<T, R>(limit: LimitFunction, items: T[], read: (item: T) => Promise<R>): Promise<R[]> {
  return Promise.all(items.map((item) => limit(() => read(item))));
}

export interface PrunedBuild {
  tag: string;
  createdAt: string;
  /** Tags of the build: its record tag, image tag and tree-image tags found in the repository. */
  tags: string[];
  /** An earlier prune was removing it and was interrupted (its record manifest tagged `<tag>.gamelayer-pruned`). */
  interrupted?: true;
}

export interface PruneResult {
  repository: string;
  applied: boolean;
  kept: PrunedBuild[];
  removed: PrunedBuild[];
  /** Manifests deleted (or that would be), by digest, with the tags that named them. */
  deleted: { digest: string; tags: string[] }[];
  /** Tags taken off an image a kept tag still names (ECR only). */
  untagged: string[];
  /**
   * Why each build kept beyond the N newest is kept (by tag): `newest of line <line>`, `--tag`, `--keep-deployed`.
   * A prune of `--keep 1` that kept two builds did not say why.
   */
  keptBecause: Record<string, string>;
  /** Tags of removed builds left in place: their image is a kept tag's too, and the registry cannot untag. */
  left: string[];
  /** Signatures, SBOMs and referrers indexes of the deleted manifests, deleted with them (or that would be). */
  attached: { digest: string; tags: string[]; what: 'signature' | 'sbom' | 'referrers index' }[];
  /** Lines retired by `idleLineDays` (their `gamelayer-line.<line>` tags go with their newest build's record). */
  retiredLines: string[];
  /**
   * Tags left alone because they belong to no build record here: images whose record is gone (deleted by hand), or
   * not gamelayer's (a base image kept in the repository). Line, signature and referrers tags are not counted.
   */
  unclaimed: string[];
  /**
   * Prune's notes of the tags it leaves (`<build>.gamelayer-left`, prune-left-notes.ts): written (or that would be)
   * for the removed builds with tags left, and deleted once none of their tags is left. Not on ECR (it untags).
   */
  notes: { written: string[]; deleted: string[] };
  /**
   * Builds whose record names no creation time that is an RFC 3339 date-time with a zone (missing, or other text):
   * ranked oldest, after every dated build (so the first to go beyond --keep), and never a line's idle head.
   */
  undated: { tag: string; createdAt: string }[];
}

export async function pruneRepository(opts: PruneOptions): Promise<PruneResult> {
  if (!Number.isInteger(opts.keep) || opts.keep < 1) {
    throw new GamelayerError('cli.keep', `--keep ${opts.keep}: expected a whole number of builds, at least 1`);
  }
  const { client, repo } = opts;
  const limit = pLimit(Math.max(1, opts.concurrency ?? 8));
  // A repository that is not there (a misspelt name, the wrong registry) is an error, as for ls: "kept 0 builds,
  // would delete 0" let a nightly prune of a typo succeed forever.
  const tags = new Set(await client.listTagsOfExisting(repo, 'check the repository name and the registry (gamelayer ls HOST/REPO lists a repository)'));
  const reporter = opts.reporter ?? silentReporter;
  // Every manifest read here, by digest: the deletes below list the indexes from it rather than reading them again.
  const reads = new ManifestReads(client, repo);
  const recordTags = [...tags].filter((x) => x.endsWith(RECORD_TAG_SUFFIX)).sort();
  // A build an interrupted prune was removing where its record tag could not move (ECR immutable tags,
  // prune-records.ts): found by the tag its record manifest got, `<tag>.gamelayer-pruned`, its record tag gone or not.
  const pruneMarks = [...tags].filter((x) => x.endsWith(PRUNED_TAG_SUFFIX) && !tags.has(`${x.slice(0, -PRUNED_TAG_SUFFIX.length)}${RECORD_TAG_SUFFIX}`));
  // The reads that grow with the repository: a record manifest per build and a HEAD per tag.
  const reading = reporter.task('prune read', recordTags.length + pruneMarks.length + tags.size, 'items', { progressLines: true });
  const readBuild = async (t: string): Promise<PrunedBuild | undefined> => {
    const tag = t.endsWith(RECORD_TAG_SUFFIX) ? t.slice(0, -RECORD_TAG_SUFFIX.length) : t.slice(0, -PRUNED_TAG_SUFFIX.length);
    const m = await client.getManifest(repo, t);
    reads.keep(m);
    const doc = manifestObject(m.bytes, manifestName(client, repo, t));
    const children = Array.isArray(doc.manifests) ? (doc.manifests as unknown[]).map((x) => (x as { digest?: unknown } | null)?.digest) : [];
    const interrupted = await interruptedRemoval(client, repo, reads, `${tag}${PRUNED_TAG_SUFFIX}`, tags, [m.digest, ...children]);
    if (t.endsWith(PRUNED_TAG_SUFFIX) && !interrupted) return undefined; // not a record manifest: a tag like any other
    const own = [t, ...(interrupted && t.endsWith(RECORD_TAG_SUFFIX) ? [`${tag}${PRUNED_TAG_SUFFIX}`] : []), tag, ...TREES.map((x) => `${tag}-${x}`)];
    const created = (doc.annotations as Record<string, unknown> | null | undefined)?.[CREATED];
    return { tag, createdAt: typeof created === 'string' ? created : '', tags: own.filter((x) => tags.has(x)), ...(interrupted ? { interrupted } : {}) };
  };
  const found = await readAll(limit, [...recordTags, ...pruneMarks].sort(), async (t) => {
    const build = await readBuild(t);
    reading.tick(1);
    return build;
  });
  const builds: PrunedBuild[] = found.filter((b): b is PrunedBuild => b !== undefined);
  // By the instant each record names (not its text: zones and fractions sorted wrong); one naming none ranks oldest.
  builds.sort(newestFirst((b) => b.createdAt, (a, b) => b.tag.localeCompare(a.tag)));

  // Which digest each tag names; a digest any surviving tag names must survive.
  const digestOf = new Map<string, string>();
  const mediaTypeOf = new Map<string, string>();
  const heads = await readAll(limit, [...tags], async (t) => {
    const head = await client.headManifest(repo, t);
    reading.tick(1);
    return head;
  });
  reading.done(`${recordTags.length + pruneMarks.length} records, ${tags.size} tags`);
  [...tags].forEach((t, i) => {
    const head = heads[i];
    if (head?.digest) digestOf.set(t, head.digest);
  });
  // Index or not by each document (read once per digest, its bytes checked), not by the Content-Type of the HEAD: a
  // proxy answering application/json for a kept index left its platform manifests unprotected, to be deleted with a
  // removed index listing them too.
  const tagOf = new Map([...digestOf].map(([t, d]) => [d, t]));
  const indexes = new Set((await readAll(limit, [...tagOf], async ([d, t]) => ((await reads.isIndex(d, t)) ? d : undefined))).filter((d) => d !== undefined));
  for (const [t, d] of digestOf) mediaTypeOf.set(t, indexes.has(d) ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json');
  // A line tag (`gamelayer-line.<line>`) names its line's newest record: that build is kept beyond --keep (the
  // line's next build --push reads it), and the line tag itself is never deleted (the next push moves it).
  const retired = idleLines(builds, [...tags].filter((t) => t.startsWith(LINE_TAG_PREFIX)), digestOf, opts.idleLineDays);
  const lineTargets = new Set([...tags].filter((t) => t.startsWith(LINE_TAG_PREFIX) && !retired.includes(t)).map((t) => digestOf.get(t)));
  const isLineHead = (b: PrunedBuild) => lineTargets.has(digestOf.get(`${b.tag}${RECORD_TAG_SUFFIX}`));
  const named = namedBuilds(builds, opts.tags ?? [], digestOf, `${client.host}/${repo}`);
  const deployed = deployedBuilds(builds, opts.deployed ?? [], digestOf);
  // What each index a build tags lists (read with the tags above: no more requests).
  const indexTags = builds.flatMap((b) => b.tags).filter((t) => indexes.has(digestOf.get(t) ?? '') && !t.endsWith(RECORD_TAG_SUFFIX) && !t.endsWith(PRUNED_TAG_SUFFIX));
  const indexLists = new Map(await readAll(limit, indexTags, async (t) => [t, (await reads.index(t, digestOf.get(t))).manifests.map((m) => m.digest)] as const));
  // A platform build merged by `gamelayer index` (its server image listed by another build's server index) is a part
  // of that build, not one of the N newest: with two platforms, --keep 5 kept fewer than two releases. It goes unless
  // kept by name; its images stay while the merged build lists them.
  const mergedServers = new Set(builds.flatMap((b) => indexLists.get(b.tag) ?? []));
  const isMergedPart = (b: PrunedBuild) => mergedServers.has(digestOf.get(b.tag) ?? '');
  // What an interrupted prune was removing goes whatever --keep says (and takes no place in it), unless kept by name.
  const ranked = builds.filter((b) => !b.interrupted && !isMergedPart(b));
  const newest = (b: PrunedBuild) => ranked.includes(b) && ranked.indexOf(b) < opts.keep;
  const kept = builds.filter((b) => newest(b) || isLineHead(b) || named.has(b) || deployed.has(b));
  const removed = builds.filter((b) => !kept.includes(b));
  const keptBecause: Record<string, string> = {};
  for (const b of kept) {
    if (newest(b)) continue;
    const lines = [...tags].filter((t) => t.startsWith(LINE_TAG_PREFIX) && !retired.includes(t) && digestOf.get(t) === digestOf.get(`${b.tag}${RECORD_TAG_SUFFIX}`));
    const why = [...lines.map((t) => `newest of line ${t.slice(LINE_TAG_PREFIX.length)}`), ...(named.has(b) ? ['--tag'] : []), ...(deployed.has(b) ? ['--keep-deployed'] : [])];
    keptBecause[b.tag] = why.join(', ');
  }
  // A record index whose record tag an earlier prune moved, killed before deleting it (prune-records.ts): it goes
  // first, unless a kept tag names it too. Only a tag naming the digest it spells counts.
  const pending = [...tags].filter((t) => PENDING_INDEX_TAG.test(t) && digestOf.get(t) === `sha256:${PENDING_INDEX_TAG.exec(t)![1]}`);
  // A retired line's tag names its newest build's record: it goes with that record (or is untagged on ECR).
  // A tag a kept build claims too stays: `1.0-app` is build 1.0's app image and, pushed by an older gamelayer, the
  // server image of the build 1.0-app; removing either build deleted what the tag names, which the other still used.
  const keptTags = new Set(kept.flatMap((b) => b.tags));
  // A removed build's tag an earlier prune left beside a kept build's image (prune-leftovers.ts) keeps nothing: its
  // image goes with the last build that names or lists it; while one does, the tag is reported as left, not as no build's.
  // Only the tags a note of an earlier prune names with the image they still name (prune-left-notes.ts).
  const notes = await readLeftNotes(client, repo, reads, tags, limit);
  const proven = new Map(notes.flatMap((n) => [...n.entries]));
  const leftovers = leftoverTags(builds, tags, digestOf, indexLists, proven);
  const removedTags = new Set([...pending, ...removed.flatMap((b) => b.tags).filter((t) => !keptTags.has(t)), ...retired, ...leftovers]);
  // The platform manifests of a deleted multi-platform index carry signatures too; those of a kept index stay.
  const childrenOf = async (tagged: string[]) => {
    const out = new Set<string>();
    const indexes = tagged.filter((x) => INDEX_MEDIA_TYPES.has(mediaTypeOf.get(x) ?? '') && !x.startsWith('sha256-') && !x.endsWith(RECORD_TAG_SUFFIX));
    // One read per manifest, not per tag (a tree image unchanged over many builds has a tag in each).
    const byDigest = new Map(indexes.map((t) => [digestOf.get(t) ?? t, t]));
    const docs = await readAll(limit, [...byDigest.values()], (t) => reads.index(t, digestOf.get(t)));
    for (const doc of docs) for (const m of doc.manifests) out.add(m.digest);
    return out;
  };
  const keptChildren = await childrenOf([...tags].filter((t) => !removedTags.has(t)));
  // A manifest a kept index lists survives too: a merged build's indexes (`gamelayer index`) list the images of the
  // platform builds, which are builds of their own; removing one deleted its images from under the kept release.
  const survivingDigests = new Set([...[...tags].filter((t) => !removedTags.has(t)).map((t) => digestOf.get(t)), ...keptChildren]);
  const deleted = new Map<string, string[]>();
  const shared: string[] = [];
  for (const t of removedTags) {
    const d = digestOf.get(t);
    if (!d) continue;
    if (survivingDigests.has(d)) shared.push(t);
    else deleted.set(d, [...(deleted.get(d) ?? []), t]);
  }
  const goneChildren = await childrenOf([...deleted.values()].map((t) => t[0]!));
  for (const c of keptChildren) goneChildren.delete(c);
  for (const d of survivingDigests) if (d) goneChildren.delete(d);
  // What is attached is found through tags anyone who may push can write (`sha256-<hex>`, `.sig`): it is never
  // taken to be a manifest a kept tag names (other than those attachment tags themselves) or a kept index lists.
  const keptByTag = [...tags].filter((t) => !removedTags.has(t) && !t.startsWith('sha256-')).map((t) => digestOf.get(t));
  const protectedDigests = new Set([...keptByTag, ...keptChildren]);
  // A prune killed between an image's delete and its attachments' left signature and referrers tags naming an
  // image that is gone: found by those tags (`sha256-<hex>`, `.sig`) whose manifest no longer exists, and deleted
  // as attached to it. One HEAD per subject no tag or tagged index names (an SBOM's signature's), read with the others.
  const known = new Set<string>([...digestOf.values(), ...keptChildren, ...goneChildren]);
  const subjects = [...new Set([...tags].flatMap((t) => (/^sha256-([0-9a-f]{64})(\.sig)?$/.exec(t) ? [`sha256:${t.slice(7, 71)}`] : [])))].filter((d) => !known.has(d));
  const present = await Promise.all(subjects.map((d) => limit(() => client.getManifestIfExists(repo, d))));
  const orphaned = subjects.filter((_, i) => !present[i]);
  const listedAttached = await attachedTo(reads, limit, [...deleted.keys(), ...goneChildren, ...orphaned], tags, digestOf);
  // An SBOM whose referrers index went before it is tagged by nothing: found by its signature's tag, it goes (with
  // the signature) when its own subject is gone (a prune killed between the SBOM's subject and the SBOM) or goes now
  // (on ECR the referrers index goes a call before the images: a prune killed between the two).
  const goes = new Set([...deleted.keys(), ...goneChildren]);
  const strays = await readAll(limit, subjects.filter((_, i) => present[i] && !listedAttached.some((a) => a.digest === subjects[i])), async (d) => {
    const subject = (manifestObject(present[subjects.indexOf(d)]!.bytes, manifestName(client, repo, d)).subject as { digest?: unknown } | null | undefined)?.digest;
    if (typeof subject !== 'string') return undefined;
    return goes.has(subject) || (!known.has(subject) && !(await client.headManifest(repo, subject))) ? d : undefined;
  });
  const strayDigests = strays.filter((d): d is string => d !== undefined);
  const attached = [
    ...listedAttached,
    ...strayDigests.map((digest) => ({ digest, tags: [], what: 'sbom' as const })),
    ...(await attachedTo(reads, limit, strayDigests, tags, digestOf)),
  ].filter((a) => !protectedDigests.has(a.digest));
  const claimed = new Set(builds.flatMap((b) => b.tags));
  const { write: notesToWrite, remove: notesToRemove, gone: notesGone } = opts.ecr ? { write: [], remove: [], gone: [] } : leftNoteChanges(notes, removed, shared, tags, digestOf, deleted);
  const result: PruneResult = {
    repository: `${client.host}/${repo}`,
    applied: Boolean(opts.apply),
    kept,
    keptBecause,
    removed,
    deleted: [...deleted].map(([digest, t]) => ({ digest, tags: t.sort() })),
    untagged: opts.ecr ? shared.sort() : [],
    left: opts.ecr ? [] : shared.sort(),
    attached,
    retiredLines: retired.map((t) => t.slice(LINE_TAG_PREFIX.length)).sort(),
    undated: builds.filter((b) => instantMs(b.createdAt) === undefined).map((b) => ({ tag: b.tag, createdAt: b.createdAt })),
    notes: { written: notesToWrite.map((n) => leftNoteTag(n.build)).sort(), deleted: notesGone.sort() },
    unclaimed: [...tags].filter((t) => !claimed.has(t) && !removedTags.has(t) && !t.startsWith(LINE_TAG_PREFIX) && !t.startsWith('sha256-') && !notes.some((n) => n.tag === t)).sort(),
  };
  if (!opts.apply) return result;
  // Images before records: a record never outlives... the other way round would leave images without a record.
  const isRecord = isRecordEntry;
  // Signatures and SBOMs after their images (a verifier never sees an image without its signature), records last.
  const order = [...result.deleted.filter((e) => !isRecord(e)), ...attached, ...result.deleted.filter(isRecord)];
  // What each index among `entries` lists (read when prune planned: from memory), for the order of the deletes.
  const listedBy = async (entries: { digest: string; tags: string[]; what?: string }[]) => {
    const indexes = entries.filter((e) => e.what === 'referrers index' || e.tags.some((t) => INDEX_MEDIA_TYPES.has(mediaTypeOf.get(t) ?? '')));
    const docs = await readAll(limit, indexes, (e) => reads.index(e.digest));
    return new Map(indexes.map((e, i) => [e.digest, docs[i]!.manifests.map((m) => m.digest)]));
  };
  // Manifests to delete (and tags to take off, on ECR); a build's record index and its record manifest are two.
  const records = await recordDeleteCount(reads, result.deleted.filter(isRecord), (t) => mediaTypeOf.get(t));
  const deleting = reporter.task('prune delete', result.untagged.length + order.filter((e) => !isRecord(e)).length + records + notesToRemove.length, 'items', { progressLines: true });
  let gone = 0;
  const progress = (n: number) => {
    gone += n;
    deleting.tick(n);
  };
  if (opts.ecr) {
    // In rounds of BatchDeleteImage calls, each index before what it lists (prune-ecr.ts): ECR refuses the other way.
    await ecrPruneDeletes(opts.ecr, client, repo, result, (t) => mediaTypeOf.get(t), limit, reads, progress);
  } else {
    // Several DELETEs at once (prune-waves.ts), in steps: the record indexes detached first (prune-records.ts), then
    // the images, then what is attached to them, the record manifests last; within a step each manifest goes only
    // after every one that lists it (an index before its manifests, a referrers index before its SBOMs). So a
    // prune killed anywhere leaves no manifest naming a deleted one, and no tag naming a missing manifest (a
    // DELETE by digest takes the manifest's tags with it); the next prune finishes from the tags left.
    const deletes = Math.max(1, opts.deleteConcurrency ?? PRUNE_DELETE_CONCURRENCY);
    const remove = async (d: string) => {
      await deleteManifest(client, repo, d);
      progress(1);
    };
    const images = result.deleted.filter((e) => !isRecord(e));
    // Read before the first delete: an index that does not parse stops the prune with nothing of it done.
    const [imagesListed, attachedListed] = [await listedBy(images), withSignaturesAfterSubjects(attached, await listedBy(attached))];
    // The notes of what this prune leaves, before anything goes: killed after, the next prune still knows its own.
    await writeLeftNotes(client, repo, notesToWrite);
    // The record indexes one at a time: detached side by side, a prune killed among the images left a record
    // index and its `.gamelayer-index` tag that the next prune did not remove (test/kill-prune.test.ts, points 1
    // and 4, about one run in two; the cause was not found, so the concurrency was taken back there).
    const recordManifests = await detachRecordIndexes(client, repo, reads, result.deleted.filter(isRecord), (t) => mediaTypeOf.get(t), remove, undefined, 1);
    await deleteInWaves(images.map((e) => e.digest), imagesListed, deletes, remove);
    await deleteInWaves(attached.map((e) => e.digest), attachedListed, deletes, remove);
    await deleteInWaves(recordManifests, new Map(), deletes, remove);
    // A note once none of the tags it names is left; last, so that it outlives them.
    await deleteInWaves(notesToRemove, new Map(), deletes, remove);
  }
  deleting.done(`${gone} ${opts.ecr ? 'images and tags' : 'manifests'}`);
  return result;
}

/**
 * The notes (prune-left-notes.ts) this prune writes, and the digests of those it deletes. A removed build's tags left
 * (`shared`: the registry cannot remove one tag of several) go into its note, with what its note named before and is
 * still left; a note none of whose tags is left any more (each gone, deleted now, or naming another image) goes.
 */
function leftNoteChanges(
  notes: LeftNote[],
  removed: PrunedBuild[],
  shared: string[],
  tags: Set<string>,
  digestOf: Map<string, string>,
  deleted: Map<string, string[]>,
): { write: { build: string; entries: Map<string, string> }[]; remove: string[]; gone: string[] } {
  const stays = (t: string, d: string) => tags.has(t) && digestOf.get(t) === d && !deleted.has(d);
  const left = new Set(shared);
  const write: { build: string; entries: Map<string, string> }[] = [];
  const builds = new Set([...notes.map((n) => n.build), ...removed.map((b) => b.tag)]);
  const remove: string[] = [];
  const gone: string[] = [];
  for (const build of builds) {
    const note = notes.find((n) => n.build === build);
    const entries = new Map([...(note?.entries ?? [])].filter(([t, d]) => stays(t, d)));
    const b = removed.find((x) => x.tag === build);
    for (const t of b?.tags ?? []) {
      const d = digestOf.get(t);
      if (d && left.has(t) && ofBuild(t, build)) entries.set(t, d);
    }
    const same = note && note.entries.size === entries.size && [...entries].every(([t, d]) => note.entries.get(t) === d);
    if (!entries.size) {
      if (note) {
        remove.push(note.digest);
        gone.push(note.tag);
      }
    } else if (!same) {
      write.push({ build, entries });
      // The note it replaces, left untagged by the put: deleted, as nothing else would.
      if (note) remove.push(note.digest);
    }
  }
  return { write, remove, gone };
}

/**
 * `listed` with each signature ordered after its subject when both go in the same step: an SBOM whose referrers
 * index is gone is found by its signature's tag alone (`sha256-<hex>.sig`), so that tag must outlive it. Deleted
 * side by side, a kill could leave the SBOM with no tag and no index naming it, which no later prune would find.
 */
function withSignaturesAfterSubjects(attached: { digest: string; tags: string[] }[], listed: Map<string, string[]>): Map<string, string[]> {
  const going = new Set(attached.map((a) => a.digest));
  const out = new Map([...listed].map(([d, c]) => [d, [...c]]));
  for (const a of attached) {
    for (const t of a.tags) {
      const m = /^sha256-([0-9a-f]{64})\.sig$/.exec(t);
      const subject = m ? `sha256:${m[1]}` : undefined;
      if (!subject || subject === a.digest || !going.has(subject)) continue;
      out.set(subject, [...(out.get(subject) ?? []), a.digest]);
    }
  }
  return out;
}

/**
 * The line tags of lines idle more than `days`: their newest build (the record the tag names) is older than the
 * repository's newest build by more than that. Measured against the repository, not the clock: a repository nobody
 * built in for months retires none of the lines still in use when it was.
 */
function idleLines(builds: PrunedBuild[], lineTags: string[], digestOf: Map<string, string>, days: number | undefined): string[] {
  if (days === undefined) return [];
  if (!Number.isFinite(days) || days <= 0) throw new GamelayerError('cli.keep', `--idle-lines ${days}: expected a number of days above 0`);
  const newest = Math.max(...builds.map((b) => instantMs(b.createdAt)).filter((t) => t !== undefined));
  return lineTags.filter((t) => {
    const head = builds.find((b) => digestOf.get(`${b.tag}${RECORD_TAG_SUFFIX}`) === digestOf.get(t));
    const at = head ? instantMs(head.createdAt) : undefined;
    return at !== undefined && newest - at > days * 86_400_000;
  });
}

/**
 * Whether `mark` (`<tag>.gamelayer-pruned`) marks a build an interrupted prune was removing: it names a build record
 * manifest, and the build's record tag, where still there, names it or an index listing it (`listed`: that tag's
 * digest and what it lists; the mark's own digest when the record tag is gone). Anyone who may push can write a tag: one of another shape is not
 * taken for a prune's decision.
 */
async function interruptedRemoval(client: RegistryClient, repo: string, reads: ManifestReads, mark: string, tags: Set<string>, listed: unknown[]): Promise<true | undefined> {
  if (!tags.has(mark)) return undefined;
  const m = await client.getManifest(repo, mark);
  reads.keep(m);
  const doc = manifestObject(m.bytes, manifestName(client, repo, mark));
  const config = doc.config as { mediaType?: unknown } | null | undefined;
  const isRecord = doc.artifactType === BUILD_RECORD_ARTIFACT_TYPE || config?.mediaType === BUILD_RECORD_ARTIFACT_TYPE;
  return isRecord && listed.includes(m.digest) ? true : undefined;
}

/** The builds deployed specs run (see PruneOptions.deployed). */
function deployedBuilds(builds: PrunedBuild[], specs: string[][], digestOf: Map<string, string>): Set<PrunedBuild> {
  const out = new Set<PrunedBuild>();
  for (const spec of specs) {
    const imagesOf = (b: PrunedBuild) => new Set(b.tags.map((t) => digestOf.get(t)));
    const whole = builds.filter((b) => spec.every((d) => imagesOf(b).has(d)));
    for (const b of whole.length ? whole : builds.filter((x) => spec.some((d) => imagesOf(x).has(d)))) out.add(b);
  }
  return out;
}

/**
 * The builds `--tag` names: by tag (the build's or one of its images'), or by the digest of one of its images. A
 * name that matches no build is an error: a typo must not leave the build it meant to keep to be deleted.
 */
function namedBuilds(builds: PrunedBuild[], names: string[], digestOf: Map<string, string>, repository: string): Set<PrunedBuild> {
  const out = new Set<PrunedBuild>();
  for (const name of names) {
    const digest = /(?:^|@)(sha256:[a-f0-9]{64})$/.exec(name)?.[1];
    const found = builds.filter((b) => (digest ? b.tags.some((t) => digestOf.get(t) === digest) : b.tag === name || b.tags.includes(name)));
    if (!found.length) {
      throw new GamelayerError(
        'record.no-build',
        `prune --tag ${name}: no build in ${repository} ${digest ? 'has an image with that digest' : 'has that tag'}, so nothing would keep what it names`,
        builds.length ? `builds there: ${builds.map((b) => b.tag).join(', ')}; check the tag or digest (gamelayer ls ${repository})` : `${repository} holds no build`,
      );
    }
    for (const b of found) out.add(b);
  }
  return out;
}

/** The signatures, referrers indexes and SBOMs (with their signatures) attached to the manifests `digests`. */
async function attachedTo(reads: ManifestReads, limit: LimitFunction, digests: string[], tags: Set<string>, digestOf: Map<string, string>): Promise<PruneResult['attached']> {
  const out: PruneResult['attached'] = [];
  const add = (tag: string, what: PruneResult['attached'][number]['what']) => {
    const d = tags.has(tag) ? digestOf.get(tag) : undefined;
    if (d && !out.some((a) => a.digest === d)) out.push({ digest: d, tags: [tag], what });
  };
  // The referrers indexes read in parallel; what they list is taken in the digests' order, as before.
  const indexes = await readAll(limit, digests, async (d) => {
    const indexTag = referrersTag(d);
    if (!tags.has(indexTag)) return undefined;
    return reads.index(indexTag, digestOf.get(indexTag));
  });
  for (const [i, d] of digests.entries()) {
    add(`${referrersTag(d)}${SIGNATURE_TAG_SUFFIX}`, 'signature');
    const indexTag = referrersTag(d);
    const doc = indexes[i];
    if (!doc) continue;
    // The index before the SBOMs it lists: deleted after them, it would name missing manifests meanwhile.
    add(indexTag, 'referrers index');
    for (const m of doc.manifests) {
      if (!/^sha256:[a-f0-9]{64}$/.test(m.digest)) continue;
      // A referrer of a deleted image (its subject): an SBOM, untagged, with its own signature.
      if (!out.some((a) => a.digest === m.digest)) out.push({ digest: m.digest, tags: [], what: 'sbom' });
      add(`${referrersTag(m.digest)}${SIGNATURE_TAG_SUFFIX}`, 'signature');
    }
  }
  return out;
}

/** DELETE of a manifest by digest (the distribution API); a registry without deletes enabled is a clear error. */
export async function deleteManifest(client: RegistryClient, repo: string, digest: string): Promise<void> {
  const res = await client.request({
    method: 'DELETE',
    target: `/v2/${repo}/manifests/${digest}`,
    scopes: [pushScope(repo).replace(/pull,push$/, '*')],
    ok: [200, 202, 404, 405],
    what: `delete manifest ${repo}@${digest}`,
  });
  await res.discard();
  if (res.status === 405) {
    throw new GamelayerError(
      'registry.delete-disabled',
      `delete manifest ${repo}@${digest}: ${client.host} does not allow deletes (405)`,
      'enable them in the registry (distribution: storage.delete.enabled: true), or remove the tags another way',
    );
  }
}

/**
 * The ECR lifecycle policy that goes with prune: it expires only untagged images, `days` after their push. Tagged
 * images are never expired by it, so nothing a kept build names can go; prune untags old builds and this policy
 * reclaims them. (A rule counting tagged images would be unsafe: an unchanged tree image keeps its first push date
 * while a new build still tags it.)
 */
export function lifecyclePolicy(days = 1): { rules: unknown[] } {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `gamelayer: expire untagged images ${days} day(s) after push (gamelayer prune untags old builds; tagged images are kept)`,
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: days },
        action: { type: 'expire' },
      },
    ],
  };
}

export async function putLifecyclePolicy(api: EcrApi, repo: string, policy: { rules: unknown[] }): Promise<void> {
  await api.sdk
    .send(new PutLifecyclePolicyCommand({ repositoryName: repo, ...(api.registryId ? { registryId: api.registryId } : {}), lifecyclePolicyText: JSON.stringify(policy) }))
    .catch((e: unknown) => {
      throw new GamelayerError('ecr.api', `ECR PutLifecyclePolicy on ${repo}: ${(e as Error).message}`, 'check that the credentials allow ecr:PutLifecyclePolicy', { cause: e });
    });
}
