// The BuildRecord travels with the image as an OCI artifact (image-spec 1.1 "artifacts" guidance): a manifest with
// `artifactType`, the empty config, one layer holding the record's JSON (gzip-compressed: a record lists every file,
// and for a 100k-file game the JSON is tens of MB of which paths and hex digests compress several-fold), and
// `subject` = the image. Registries with
// the referrers API (ECR, distribution 3) list it under the image; for those without it (distribution 2.8) it also
// gets a predictable tag `<image tag>.gamelayer-record`. That tag names an image index, not the artifact itself (the
// way BuildKit stores provenance): the server image's platform manifests plus the record manifest under the
// platform unknown/unknown, which no runtime selects. So every tag of the repository is an image that docker,
// skopeo, podman and containerd pull (they get the server image). The same index goes under the line-of-work tag
// `gamelayer-line.<line>`, which the next push of that line reads to find its previous build (see lineTag).
// Records pushed the old way (the artifact manifest itself under the tag) are still read.
import { createHash } from 'node:crypto';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { GamelayerError } from '../errors.js';
import type { Reporter } from '../report/reporter.js';
import { buildRecordSchema, parseStored, treeManifestSchema, type BuildRecord, type Descriptor, type TreeManifest } from '../types.js';
import { MEDIA_TYPES, type Access, type ManifestInfo, type RegistryClient } from './client.js';
import { pushTargetFor, type PushTarget, type TargetOptions } from './push.js';
import { formatReference, parseReference } from './reference.js';
import { uploadBlob } from './upload.js';
import { putManifestSettled } from './manifest-put.js';
import { bufferSource, EMPTY_CONFIG, getSizedBlob, MAX_SMALL_BLOB } from './small-blob.js';
import { newestFirst, referrersApi } from './referrers.js';
import { hasLineCopy, readLineCopy, saveLineCopy, type LineCopy } from './line-copy.js';
import { markRecordProven } from './record-proof.js';
import { cachedRecordBlob, keepRecordBlob } from './record-blob-cache.js';
import { gzipJson, inflatesToJson, noteInflated } from './record-blob.js';
import { parseRecordBytes } from '../state/record-parse.js';
import { isLargeGzippedRecord, parseGzippedRecord, RecordInflateError } from '../state/record-gzip.js';
import { isDigest, sha256Digest } from '../oci/layout.js';
import { safeJson } from '../util/safe-json.js';
import { exemptCommand } from './mutable-tags.js';

export const BUILD_RECORD_ARTIFACT_TYPE = 'application/vnd.gamelayer.build-record.v1+json';
/** The layer holding the record: its JSON, gzip-compressed. Records pushed by earlier versions hold plain JSON with the artifact type as the layer type; both are read. */
export const BUILD_RECORD_GZIP_TYPE = `${BUILD_RECORD_ARTIFACT_TYPE}+gzip`;
export const RECORD_TAG_SUFFIX = '.gamelayer-record';

/**
 * The tag of a record index no record tag may name any more: one prune is removing (prune-records.ts), or one a
 * push of the same image replaced (pushBuildRecord). The next prune deletes it first, unless a kept tag names it.
 */
export const PENDING_INDEX_TAG = /^sha256-([0-9a-f]{64})\.gamelayer-index$/;
export const pendingIndexTag = (digest: string) => `${digest.replace(':', '-')}.gamelayer-index`;
/** Prefix of the moving tag naming the newest build record of a line of work (a branch). */
export const LINE_TAG_PREFIX = 'gamelayer-line.';
/** The platform of the record inside the index: one no runtime selects (BuildKit's choice for attestations). */
export const UNKNOWN_PLATFORM = { architecture: 'unknown', os: 'unknown' } as const;
export { EMPTY_CONFIG };
const EMPTY_BYTES = Buffer.from('{}');
/** A record is read into memory to be parsed; refuse anything absurd (compressed or not) before doing so. */
const MAX_RECORD_BYTES = MAX_SMALL_BLOB;
const CREATED = 'org.opencontainers.image.created';
/** Annotation of the record manifest holding the build's tags (a JSON array), kept out of the record blob. */
const TAGS = 'dev.gamelayer.tags';
/** Annotations holding where a build was made, kept out of the record blob with the tags (see recordContent). */
const CODEBUILD_ARN = 'dev.gamelayer.codebuild-arn';
// The standard keys, on the record's manifest and the tag's index (never on the images: their digests would change
// with every commit). `ls REPO` reads the revision from the index.
export const REVISION_ANNOTATION = 'org.opencontainers.image.revision';
const SOURCE = 'org.opencontainers.image.source';

/** The commit and source repository of a build (CodeBuild), as annotations: none when the record has none. */
function sourceAnnotations(record: Pick<BuildRecord, 'revision' | 'sourceUrl'>): Record<string, string> {
  return {
    ...(record.revision !== undefined ? { [REVISION_ANNOTATION]: record.revision } : {}),
    ...(record.sourceUrl !== undefined ? { [SOURCE]: record.sourceUrl } : {}),
  };
}
const PREVIOUS = 'dev.gamelayer.previous';

/** The fallback tag of the record of the image tagged `tag`. */
export function recordTag(tag: string): string {
  const t = `${tag}${RECORD_TAG_SUFFIX}`;
  if (t.length > 128) {
    throw new GamelayerError('record.tag', `tag "${tag}" is too long for its build-record tag "${t}" (max 128 characters)`, `use an image tag of at most ${128 - RECORD_TAG_SUFFIX.length} characters`);
  }
  return t;
}

/**
 * The tag naming the newest record of a line of work. Branch names may hold characters a tag may not (`/`): those
 * become `-`, and a short hash of the name keeps `feature/a` and `feature-a` apart.
 */
export function lineTag(line: string): string {
  if (!line) throw new GamelayerError('record.line', 'the line of work (--line) is empty');
  const clean = line.replace(/[^\w.-]/g, '-').slice(0, 128 - LINE_TAG_PREFIX.length - 9);
  const exact = clean === line && line.length <= 128 - LINE_TAG_PREFIX.length;
  return exact ? `${LINE_TAG_PREFIX}${line}` : `${LINE_TAG_PREFIX}${clean}-${createHash('sha256').update(line).digest('hex').slice(0, 8)}`;
}

export interface RecordArtifact {
  manifest: Buffer;
  descriptor: Descriptor;
  /** The layer's bytes: the record's JSON, gzip-compressed. */
  record: Buffer;
  recordDescriptor: Descriptor;
}

/**
 * A record whose bytes are damaged (not what its digest names, not gzip, not JSON, not a record): code
 * `record.invalid`, and a build that meets it plans afresh (with a warning) instead of failing.
 */
export class DamagedRecordError extends GamelayerError {
  constructor(message: string) {
    super('record.invalid', message, 'build without it (--from none); the next push stores the record again under another encoding');
    this.name = 'DamagedRecordError';
  }
}

/**
 * The artifact manifest (and the record blob) for `record` attached to the image `subject`. `encoding` > 0 gives
 * the same JSON in other bytes (the gzip header's MTIME field): a registry keeps the first bytes stored under a
 * digest, so a damaged copy is only ever replaced by a blob of another digest.
 */
export function buildRecordArtifact(record: BuildRecord, subject: Descriptor, encoding = 0, reuse?: Buffer): RecordArtifact {
  const content = recordContent(record);
  const json = JSON.stringify(content);
  // A record blob already read (verified) that inflates to exactly this JSON is this record: reused as it is, no
  // recompression (level 9 of a 100k-file record's JSON takes about a second; inflating it a tenth of that).
  let bytes = encoding === 0 && reuse && inflatesTo(reuse, json) ? reuse : undefined;
  if (!bytes) {
    // Level 9: the record is small next to the layers, and it is sent whenever the content changes.
    bytes = gzipSync(json, { level: zlibConstants.Z_BEST_COMPRESSION });
    if (encoding > 0) bytes.writeUInt32LE(encoding, 4);
  }
  return artifactAround(record, subject, bytes);
}

/**
 * buildRecordArtifact's artifact, the same bytes, made without the record's JSON ever held whole (record-blob.ts):
 * what a push uses. A small record (wholeRecord.maxEntries) is made by buildRecordArtifact itself.
 */
export async function streamRecordArtifact(record: BuildRecord, subject: Descriptor, encoding = 0, reuse?: Buffer): Promise<RecordArtifact> {
  if (recordEntries(record) < wholeRecord.maxEntries) return buildRecordArtifact(record, subject, encoding, reuse);
  const content = recordContent(record);
  const bytes = encoding === 0 && reuse && (await inflatesToJson(reuse, content)) ? reuse : await gzipJson(content, encoding);
  return artifactAround(record, subject, bytes);
}

/**
 * Records of fewer entries (manifests, recipes and plan layers together; about 110 bytes of JSON each in the sample
 * games) are made as one string: a few MiB at most, and the pieces' pipeline (a generator of pieces, two streams,
 * two hashes), run cold, took about 20 ms (under the profiler) of the 200 MB peers game's no-op push (624 entries),
 * where JSON.stringify, gunzipSync and a compare take a few. Settable for tests.
 */
export const wholeRecord = { maxEntries: 16_384 };

/** How many entries a record lists (its JSON's size, roughly); counted without reading any of them. */
function recordEntries(record: BuildRecord): number {
  let n = 0;
  for (const m of record.manifests) n += m.entries.length + (m.recipes?.length ?? 0);
  for (const l of record.plan.layers) n += l.entries.length;
  return n;
}

/**
 * What the record blob holds: what was built, not where or when. The tags, the creation time, the CodeBuild build
 * and the record planned on go into the manifest's annotations, and the trees' source paths on the build host are
 * left out (a fresh host plans on entries, never on another host's paths): the same content built under a new tag,
 * in another checkout folder or by another CodeBuild run has the same record blob, already in the registry, and
 * only the small manifests go up again (CodeBuild checks out each build in a folder of its own).
 */
function recordContent(record: BuildRecord): Omit<BuildRecord, 'tags' | 'createdAt' | 'codebuildArn' | 'revision' | 'sourceUrl' | 'previous'> {
  const { tags: _tags, createdAt: _createdAt, codebuildArn: _arn, revision: _revision, sourceUrl: _source, previous: _previous, ...content } = record;
  return inSchemaOrder({ ...content, manifests: content.manifests.map(withoutHostPaths) }, RECORD_KEYS);
}

/** A tree manifest without the paths of its source on the build host (empty: read back, they name nothing here). */
function withoutHostPaths(m: TreeManifest): TreeManifest {
  return inSchemaOrder({ ...m, root: '', source: { ...m.source, path: '' } }, MANIFEST_KEYS);
}

const RECORD_KEYS = Object.keys(buildRecordSchema.shape);
const MANIFEST_KEYS = Object.keys(treeManifestSchema.shape);

/**
 * `value` with its keys in the schema's order (any other after them). A record read back from a file comes in that
 * order, one just built in the order the build wrote its fields: the same record must be the same JSON, the same blob,
 * or a `push` of a build `build --push` already put there sends its record again and moves its tags to a new index.
 */
function inSchemaOrder<T extends object>(value: T, keys: readonly string[]): T {
  const fields = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in fields) out[k] = fields[k];
  for (const k of Object.keys(fields)) if (!(k in out)) out[k] = fields[k];
  return out as T;
}

function artifactAround(record: BuildRecord, subject: Descriptor, bytes: Buffer): RecordArtifact {
  const { tags } = record;
  const recordDescriptor: Descriptor = {
    mediaType: BUILD_RECORD_GZIP_TYPE,
    digest: sha256Digest(bytes),
    size: bytes.length,
    annotations: { 'org.opencontainers.image.title': 'build-record.json.gz' },
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: BUILD_RECORD_ARTIFACT_TYPE,
      config: EMPTY_CONFIG,
      layers: [recordDescriptor],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: {
        [CREATED]: record.createdAt,
        'dev.gamelayer.game': record.game,
        [TAGS]: JSON.stringify(tags),
        ...(record.codebuildArn !== undefined ? { [CODEBUILD_ARN]: record.codebuildArn } : {}),
        ...sourceAnnotations(record),
        ...(record.previous !== undefined ? { [PREVIOUS]: JSON.stringify(record.previous) } : {}),
      },
    }),
  );
  return {
    manifest,
    descriptor: { mediaType: MEDIA_TYPES.ociManifest, digest: sha256Digest(manifest), size: manifest.length, artifactType: BUILD_RECORD_ARTIFACT_TYPE },
    record: bytes,
    recordDescriptor,
  };
}

export interface PushBuildRecordOptions extends TargetOptions {
  /** The image's repository, `host[:port]/repo` (a tag or digest here is ignored). */
  to: string;
  record: BuildRecord;
  /** The image (manifest or index) the record describes; it must already be in the repository. */
  subject: Descriptor;
  /** The image's tags: each gets the fallback tag `<tag>.gamelayer-record`. */
  tags: string[];
  /** The line of work (branch): its tag `gamelayer-line.<line>` moves to this record. */
  line?: string;
  /** The same target the image was pushed with (default: one made from the options, as pushImage does). */
  target?: PushTarget;
  /**
   * What the record's tags (fallback tags and line tag) named a moment ago, when the caller asked already, and the
   * subject's manifest as the local store holds it (with a reader of its config): with both, a record whose tags
   * already name exactly the index this push would put is checked with one read of its blob, and nothing is put.
   */
  current?: ReadonlyMap<string, ManifestInfo | undefined>;
  localSubject?: LocalManifest;
  /** A record blob of this repository whose bytes the caller read and verified (the build's previous-build lookup). */
  verifiedRecordBlob?: string;
  /** Those bytes: reused as this record's blob when they hold exactly its content (no recompression on a no-op). */
  recordBlobBytes?: Buffer;
  /**
   * Keep a local copy of the record the line tag names once it names this one (line-copy.ts): the folder, and the
   * index digest the copy there already holds (the build's lookup read or wrote it), so a no-op writes nothing.
   */
  lineCopy?: { dir: string; holds?: string };
  /** Notes: a line tag left on a newer build. */
  reporter?: Reporter;
}

/** A manifest's exact bytes from a local store, and a reader of the (verified) blobs it names. */
export interface LocalManifest {
  bytes: Buffer;
  blob(digest: string): Promise<Buffer>;
}

export interface PushBuildRecordResult {
  /** What the tags name: the index holding the record (or the artifact manifest when no tag was asked for). */
  digest: string;
  /** The record's artifact manifest (what the referrers API lists). */
  artifact: string;
  /** Fallback tags now naming this record (or a record of the same image kept on an immutable tag). */
  tags: string[];
  /** Fallback tags that already named a record of this image and could not be moved (immutable tags). */
  kept: string[];
  /** The line tag now naming this record; undefined when none was asked for, the tag is immutable, or it names a newer build. */
  lineTag?: string;
  /**
   * The line tag already named a newer build's record (another host's build that pushed first): it was left there,
   * so the line never moves back to an older build. This record keeps its own tags.
   */
  lineNewer?: { digest: string; createdAt: string };
  blobsUploaded: number;
  /** Bytes of those blob uploads (the record blob: a day's record of a big game is megabytes even when no layer changed). */
  bytesSent: number;
  /** The registry served damaged bytes for the record blob this push would have skipped: stored anew as `now`. */
  repaired?: { damaged: string; now: string };
  /** The record blob the record's manifest names (what the fast path reads again: cli/fast-noop/record.ts). */
  recordBlob?: { digest: string; size: number };
}

/** Encodings of one record tried before a registry serving damaged copies of each is given up on. */
const MAX_RECORD_ENCODINGS = 4;

export async function pushBuildRecord(opts: PushBuildRecordOptions): Promise<PushBuildRecordResult> {
  const ref = parseReference(opts.to);
  const repo = ref.repository;
  const fallbackTags = [...new Set(opts.tags)].map(recordTag);
  const line = opts.line === undefined ? undefined : lineTag(opts.line);
  const target = opts.target ?? (await pushTargetFor(ref, opts));
  const { client } = target;
  let artifact = await streamRecordArtifact(opts.record, opts.subject, 0, opts.recordBlobBytes);
  const where = `${client.host}/${repo}`;
  const keepCopy = async (index: { bytes: Buffer; descriptor: Descriptor }) => {
    if (!opts.lineCopy || !line || opts.lineCopy.holds === index.descriptor.digest) return;
    const documents = { index: { digest: index.descriptor.digest, bytes: index.bytes }, manifest: { digest: artifact.descriptor.digest, bytes: artifact.manifest }, blob: { digest: artifact.recordDescriptor.digest, bytes: artifact.record } };
    await saveLineCopy(opts.lineCopy.dir, where, line, documents);
    // This host made the record (its kept layers' diffIDs checked when it was planned): no check when it is read back.
    await markRecordProven(opts.lineCopy.dir, documents.blob.digest);
  };
  const upToDate = await recordInPlace(opts, client, repo, artifact, fallbackTags, line);
  if (upToDate) {
    if (upToDate.result.lineTag) await keepCopy(upToDate.index);
    return upToDate.result;
  }
  if (!(await client.headManifest(repo, opts.subject.digest, 'push'))) {
    throw new GamelayerError('record.no-subject', `${where}: image ${opts.subject.digest} is not there; a build record goes up after its image`, 'push the image first');
  }
  const origin = `build record of ${opts.subject.digest}`;
  let blobsUploaded = 0;
  let bytesSent = 0;
  // One availability check for both blobs (on ECR one BatchCheckLayerAvailability call); other encodings of the
  // record, tried only after a damaged copy, are checked on their own.
  const absent = await target.availability.missing(repo, [EMPTY_CONFIG.digest, artifact.recordDescriptor.digest]);
  if (absent.has(EMPTY_CONFIG.digest)) {
    bytesSent += (await uploadBlob(client, repo, bufferSource(EMPTY_CONFIG.digest, EMPTY_BYTES, origin), { ecr: target.ecr })).bytesSent;
    blobsUploaded++;
  }
  // The record blob is skipped when present, but only once what the registry serves for it is checked: the same
  // content has the same digest, so a damaged copy (the one a build just warned about) would otherwise stay named
  // by every later record. Re-uploading does not replace it (a registry keeps the first bytes of a digest), so the
  // record then goes up in other bytes (same JSON) under another digest.
  let repaired: PushBuildRecordResult['repaired'];
  for (let encoding = 0; ; encoding++) {
    if (encoding > 0) artifact = await streamRecordArtifact(opts.record, opts.subject, encoding);
    const d = artifact.recordDescriptor;
    // A blob the availability check called there but the registry does not serve (a front answering 200 to any HEAD)
    // is sent as an absent one: "check blob: answered 404" stopped the push.
    const absentNow = encoding === 0 ? absent.has(d.digest) : (await target.availability.missing(repo, [d.digest])).size > 0;
    const served = absentNow ? 'missing' : await servedAs(client, repo, d);
    if (served === 'missing') {
      bytesSent += (await uploadBlob(client, repo, bufferSource(d.digest, artifact.record, origin), { ecr: target.ecr })).bytesSent;
      blobsUploaded++;
      break;
    }
    if (served === 'intact') break;
    repaired = { damaged: repaired?.damaged ?? d.digest, now: '' };
    if (encoding + 1 >= MAX_RECORD_ENCODINGS) {
      throw new GamelayerError(
        'record.invalid',
        `${where}: the registry serves damaged bytes for the build record blob ${d.digest} and for ${MAX_RECORD_ENCODINGS - 1} other encodings of it`,
        'check the registry storage; nothing was tagged',
      );
    }
  }
  if (repaired) repaired.now = artifact.recordDescriptor.digest;
  const result: PushBuildRecordResult = { digest: artifact.descriptor.digest, artifact: artifact.descriptor.digest, tags: [], kept: [], blobsUploaded, bytesSent, ...(repaired ? { repaired } : {}), recordBlob: { digest: artifact.recordDescriptor.digest, size: artifact.recordDescriptor.size } };
  // Another host pushing the same record at the same moment can make the registry refuse a manifest whose blobs are
  // there (manifest-put.ts): what it lacks of this record's own documents is sent again and the manifest put again.
  const recordBlob = artifact.recordDescriptor.digest;
  const recordBytes = artifact.record;
  const resend = async (lost: { blobs: string[]; manifests: string[] }) => {
    if (lost.blobs.includes(EMPTY_CONFIG.digest)) result.bytesSent += (await uploadBlob(client, repo, bufferSource(EMPTY_CONFIG.digest, EMPTY_BYTES, origin), { ecr: target.ecr })).bytesSent;
    if (lost.blobs.includes(recordBlob)) result.bytesSent += (await uploadBlob(client, repo, bufferSource(recordBlob, recordBytes, origin), { ecr: target.ecr })).bytesSent;
    if (lost.manifests.includes(artifact.descriptor.digest)) await putManifestSettled(client, repo, artifact.descriptor.digest, artifact.manifest, MEDIA_TYPES.ociManifest, { resend, reporter: opts.reporter });
  };
  if (!(await client.headManifest(repo, artifact.descriptor.digest, 'push'))) {
    await putManifestSettled(client, repo, artifact.descriptor.digest, artifact.manifest, MEDIA_TYPES.ociManifest, { resend, reporter: opts.reporter });
  }
  if (!fallbackTags.length && !line) return result;

  const index = recordIndex(artifact, opts.subject, await platformManifests(client, repo, opts.subject), opts.record, opts.line);
  result.digest = index.descriptor.digest;
  const superseded = new Set<string>();
  for (const tag of fallbackTags) {
    const current = await client.headManifest(repo, tag, 'push');
    if (current?.digest === index.descriptor.digest) {
      result.tags.push(tag);
      continue;
    }
    if (current && target.immutableTag?.(tag)) {
      const existing = await readArtifactManifest(client, repo, tag, 'push');
      if (existing.subject?.digest === opts.subject.digest) {
        result.kept.push(tag);
        continue;
      }
    }
    if (current && !superseded.has(current.digest)) {
      superseded.add(current.digest);
      await markSupersededIndex(client, repo, current.digest, opts.subject.digest);
    }
    await putManifestSettled(client, repo, tag, index.bytes, MEDIA_TYPES.ociIndex, { resend, reporter: opts.reporter });
    result.tags.push(tag);
  }
  if (line) {
    const current = await client.headManifest(repo, line, 'push');
    const theirs = current && current.digest !== index.descriptor.digest ? await recordIndexAge(client, repo, current.digest, opts.record.createdAt) : undefined;
    const leaveTo = (newer: { digest: string; createdAt: string }) => {
      result.lineNewer = { digest: newer.digest, createdAt: newer.createdAt };
      opts.reporter?.info(`note: ${where}:${line} names a newer build (created ${newer.createdAt}, ${newer.digest.slice(0, 19)}): left there; this build's record keeps its own tags`);
    };
    if (current?.digest === index.descriptor.digest) result.lineTag = line;
    else if (theirs?.newer) leaveTo(theirs);
    else if (current && target.immutableTag?.(line)) {
      // Said aloud: the line would otherwise plan on its first build forever, each day's change growing with no sign.
      opts.reporter?.info(
        `note: ${where}:${line} cannot move (the repository's tags are immutable): it still names an older build (${current.digest.slice(0, 19)}), ` +
          `which the line's next build plans on; exempt the line tags: ${exemptCommand(repo)}`,
      );
    } else {
      await putManifestSettled(client, repo, line, index.bytes, MEDIA_TYPES.ociIndex, { resend, reporter: opts.reporter });
      result.lineTag = line;
      // Another build of the line may have put its record in the same moment (a registry offers no conditional PUT):
      // asked once more, an older build's record that landed after ours is replaced by ours again.
      const after = await client.headManifest(repo, line, 'push');
      const now = after && after.digest !== index.descriptor.digest ? await recordIndexAge(client, repo, after.digest, opts.record.createdAt) : undefined;
      if (now?.newer) {
        result.lineTag = undefined;
        leaveTo(now);
      } else if (now?.older) await putManifestSettled(client, repo, line, index.bytes, MEDIA_TYPES.ociIndex, { resend, reporter: opts.reporter });
    }
    if (result.lineTag) await keepCopy(index);
  }
  return result;
}

/**
 * A record index of the same image that this push's record tag moves off (the build pushed again at another time: a
 * retry, a killed run done over; its record differs by its creation time). Untagged, no prune would find it, and the
 * prune that removes the build would delete the images it still lists. So before the tag moves it gets the pending
 * tag, by which the next prune deletes it first. An index of another image (the tag rebuilt with new content) names
 * images no build claims any more, which no prune deletes: it is left as it is.
 */
async function markSupersededIndex(client: RegistryClient, repo: string, digest: string, subject: string): Promise<void> {
  const old = await client.getManifestIfExists(repo, digest, 'push');
  if (!old || old.digest !== digest) return;
  const doc = safeJson(old.bytes.toString('utf8')) as { mediaType?: unknown; subject?: { digest?: unknown } } | undefined;
  if (doc?.mediaType !== MEDIA_TYPES.ociIndex || doc.subject?.digest !== subject) return;
  await client.putManifest(repo, pendingIndexTag(digest), old.bytes, MEDIA_TYPES.ociIndex);
}

/**
 * When the record index `digest` was created (its annotation) against `createdAt`: a line tag naming a newer build
 * stays, whatever order the builds of a line finish their pushes in. undefined when it says nothing readable; a time
 * in the future (beyond a clock skew) counts as older.
 */
async function recordIndexAge(client: RegistryClient, repo: string, digest: string, createdAt: string): Promise<{ digest: string; createdAt: string; newer: boolean; older: boolean } | undefined> {
  const doc = await client.getManifestIfExists(repo, digest, 'push');
  const theirs = doc ? indexCreatedAt(doc.bytes) : undefined;
  if (theirs === undefined) return undefined;
  const [them, us] = [Date.parse(theirs), Date.parse(createdAt)];
  if (!Number.isFinite(them) || !Number.isFinite(us)) return undefined;
  // A creation time ahead of this host's clock by more than a skew is not believed: one record of a host with a
  // wrong clock (or written by hand) would otherwise hold the line for good.
  if (them > Date.now() + CLOCK_SKEW_MS) return { digest, createdAt: theirs, newer: false, older: true };
  return { digest, createdAt: theirs, newer: them > us, older: them < us };
}

/** The creation time a record index (a line or record tag's manifest) names in its annotation; undefined if none. */
export function indexCreatedAt(bytes: Buffer): string | undefined {
  try {
    const value = (JSON.parse(bytes.toString('utf8')) as { annotations?: Record<string, unknown> }).annotations?.[CREATED];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** How far ahead of this host's clock another build host's clock may be. */
export const CLOCK_SKEW_MS = 10 * 60_000;

/**
 * The no-op push of a record: every tag it would set (as the caller found them) already names exactly the index it
 * would put. A manifest goes up only after everything it names (push order), so that index's record manifest, empty
 * config and record blob are there; the record blob's bytes are still read and hashed, as a full push does, so a
 * damaged copy is repaired by the full path (unless the caller read and verified that very blob in this run:
 * `verifiedRecordBlob`). undefined: push the record as usual.
 */
async function recordInPlace(
  opts: PushBuildRecordOptions,
  client: RegistryClient,
  repo: string,
  artifact: RecordArtifact,
  fallbackTags: string[],
  line: string | undefined,
): Promise<{ result: PushBuildRecordResult; index: { bytes: Buffer; descriptor: Descriptor } } | undefined> {
  const tags = [...fallbackTags, ...(line ? [line] : [])];
  const { current, localSubject } = opts;
  if (!current || !localSubject || !tags.length || !tags.every((t) => current.get(t)?.digest)) return undefined;
  if (sha256Digest(localSubject.bytes) !== opts.subject.digest) return undefined;
  const platforms = await platformsOf(localSubject.bytes, opts.subject, `the local copy of ${opts.subject.digest}`, (d) => localSubject.blob(d.digest));
  const index = recordIndex(artifact, opts.subject, platforms, opts.record, opts.line);
  if (!tags.every((t) => current.get(t)?.digest === index.descriptor.digest)) return undefined;
  const d = artifact.recordDescriptor;
  if (opts.verifiedRecordBlob !== d.digest && (await servedAs(client, repo, d).catch(() => 'missing')) !== 'intact') return undefined;
  return { result: { digest: index.descriptor.digest, artifact: artifact.descriptor.digest, tags: fallbackTags, kept: [], ...(line ? { lineTag: line } : {}), blobsUploaded: 0, bytesSent: 0, recordBlob: { digest: d.digest, size: d.size } }, index };
}

/**
 * The index a record tag names: the server image's platform manifests, then the record under unknown/unknown,
 * annotated as BuildKit annotates attestations, and `subject` = the server image (found by the referrers API too).
 */
export function recordIndex(artifact: RecordArtifact, subject: Descriptor, platforms: Descriptor[], record: BuildRecord, line?: string): { bytes: Buffer; descriptor: Descriptor } {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      artifactType: BUILD_RECORD_ARTIFACT_TYPE,
      manifests: [
        ...platforms,
        {
          mediaType: MEDIA_TYPES.ociManifest,
          digest: artifact.descriptor.digest,
          size: artifact.descriptor.size,
          artifactType: BUILD_RECORD_ARTIFACT_TYPE,
          platform: UNKNOWN_PLATFORM,
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': subject.digest },
        },
      ],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: {
        [CREATED]: record.createdAt,
        'dev.gamelayer.game': record.game,
        ...(line ? { [LINE_ANNOTATION]: line } : {}),
        // The tag's index says which commit built it (it changes with each build anyway: its creation time does).
        ...sourceAnnotations(record),
      },
    }),
  );
  return { bytes, descriptor: { mediaType: MEDIA_TYPES.ociIndex, digest: sha256Digest(bytes), size: bytes.length, artifactType: BUILD_RECORD_ARTIFACT_TYPE } };
}

export const LINE_ANNOTATION = 'dev.gamelayer.line';

const platformSchema = z.looseObject({ architecture: z.string(), os: z.string(), variant: z.string().optional() });

/** The image's runnable manifests with their platforms: an index's own entries, or the one manifest (platform from its config). */
async function platformManifests(client: RegistryClient, repo: string, subject: Descriptor): Promise<Descriptor[]> {
  const m = await client.getManifest(repo, subject.digest, 'push');
  const where = `${client.host}/${repo}@${subject.digest}`;
  if (m.digest !== subject.digest) throw new GamelayerError('registry.digest', `${where}: the manifest the registry sent hashes to ${m.digest}`);
  return platformsOf(m.bytes, subject, where, (d) => getSizedBlob(client, repo, d, `get config ${d.digest} from ${repo}`));
}

/** The platform manifests of the subject's manifest bytes (the registry's or the local store's: the same bytes). */
async function platformsOf(manifest: Buffer, subject: Descriptor, where: string, readBlob: (d: { digest: string; size: number }) => Promise<Buffer | undefined>): Promise<Descriptor[]> {
  const json = safeJson(manifest.toString('utf8')) as { manifests?: unknown; config?: unknown; mediaType?: string } | undefined;
  if (json && Array.isArray(json.manifests)) {
    const entries = z.array(descriptorSchema.extend({ platform: platformSchema.optional() })).safeParse(json.manifests);
    if (!entries.success) throw new GamelayerError('record.invalid', `${where}: not a valid image index`);
    return entries.data.filter((d) => d.platform && d.platform.os !== 'unknown').map((d) => d as Descriptor);
  }
  const config = descriptorSchema.safeParse(json?.config);
  if (!config.success) throw new GamelayerError('record.invalid', `${where}: not an image manifest`);
  const bytes = await readBlob(config.data);
  if (!bytes || sha256Digest(bytes) !== config.data.digest) throw new GamelayerError('registry.digest', `${where}: config ${config.data.digest} from the registry does not match its digest`);
  const platform = platformSchema.safeParse(safeJson(bytes.toString('utf8')));
  if (!platform.success) throw new GamelayerError('record.invalid', `${where}: its config names no os/architecture`);
  const { architecture, os, variant } = platform.data;
  return [{ mediaType: subject.mediaType, digest: subject.digest, size: subject.size, platform: { architecture, os, ...(variant ? { variant } : {}) } }];
}

/** Whether the registry serves exactly the bytes of `d` (a small blob: read whole and hashed), other bytes, or none. */
async function servedAs(client: RegistryClient, repo: string, d: Descriptor): Promise<'intact' | 'damaged' | 'missing'> {
  let bytes: Buffer | undefined;
  try {
    bytes = await getSizedBlob(client, repo, d, `check blob ${d.digest} in ${repo}`);
  } catch (e) {
    if (e instanceof GamelayerError && e.code === 'registry.not-found') return 'missing';
    throw e;
  }
  return bytes !== undefined && bytes.length === d.size && sha256Digest(bytes) === d.digest ? 'intact' : 'damaged';
}

// ---- finding a record ----

const descriptorSchema = z.looseObject({ mediaType: z.string(), digest: z.string().regex(/^sha256:[a-f0-9]{64}$/), size: z.number().int().min(0) });
const artifactManifestSchema = z.looseObject({
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** The one schema of a build record (types.ts), re-exported for callers that imported it from here. */
export { buildRecordSchema };

export interface FoundBuildRecord {
  record: BuildRecord;
  /** The image the record describes. */
  subject: string;
  /** The artifact manifest's digest. */
  digest: string;
  /** The record blob's digest: its bytes were read and matched it. */
  recordBlob: string;
  /** Its size in bytes (the scale of a related record's read: previous-layers.ts). */
  recordBlobSize: number;
  /** How it was found. */
  via: 'referrers' | 'tag';
  /** Read through an index (how records are pushed now): the three documents, each checked against its digest. */
  documents?: LineCopy;
}

export interface FetchBuildRecordOptions extends TargetOptions {
  target?: PushTarget;
  /** This host's record-blob copies (record-blob-cache.ts): the blob read from there when one checks out, else kept there. */
  recordCache?: string;
}

/**
 * The BuildRecord of the image `ref` (`host/repo:tag` or `@sha256:…`): through the referrers API when the registry
 * has it, else through the fallback tag. Errors say which image and what was tried.
 */
export async function fetchBuildRecordFor(ref: string, opts: FetchBuildRecordOptions = {}): Promise<FoundBuildRecord> {
  return (await locateBuildRecordFor(ref, opts))();
}

/**
 * fetchBuildRecordFor in two steps: where the record of `ref` is (the image, its referrers or fallback tag: its
 * errors come here, at once), then a read of it when called. `diff --against` hashes the working trees between the
 * two, so the record (70 MiB of packed entries at 1M) is not held beside the scan.
 */
export async function locateBuildRecordFor(ref: string, opts: FetchBuildRecordOptions = {}): Promise<() => Promise<FoundBuildRecord>> {
  const r = parseReference(ref);
  const repo = r.repository;
  const { client } = opts.target ?? (await pushTargetFor(r, opts));
  const name = formatReference(r);
  let subject = r.digest;
  if (!subject) {
    if (!r.tag) throw new GamelayerError('record.reference', `${name}: which image? give a tag or a digest`);
    const head = await client.headManifest(repo, r.tag);
    if (!head?.digest) {
      throw new GamelayerError('record.no-image', `${name}: no such image in ${client.host}/${repo}`, `check the tag; gamelayer ls ${client.host}/${repo} lists the builds there (prune may have removed an old one)`);
    }
    subject = head.digest;
    // The tag names a record itself (a record tag, or a line tag gamelayer-line.<line>): read it as it is.
    if (head.mediaType === MEDIA_TYPES.ociIndex && (r.tag.endsWith(RECORD_TAG_SUFFIX) || r.tag.startsWith(LINE_TAG_PREFIX))) {
      const tag = r.tag;
      return async () => ({ ...(await readRecord(client, repo, tag, { name, blobCache: opts.recordCache })), via: 'tag' });
    }
  }

  const viaReferrers = await findByReferrers(client, repo, subject);
  if (viaReferrers) return async () => ({ ...(await readRecord(client, repo, viaReferrers, { subject, name, blobCache: opts.recordCache })), via: 'referrers' });

  if (!r.tag) {
    throw new GamelayerError('record.not-found', `${name}: no build record found: ${client.host} lists no referrers for it`, 'look it up by tag (the fallback record tag is <tag>.gamelayer-record)');
  }
  const tag = recordTag(r.tag);
  const head = await client.headManifest(repo, tag);
  if (!head) {
    throw new GamelayerError('record.not-found', `${name}: no build record: neither referrers of ${subject} nor the tag ${tag} in ${client.host}/${repo}`, `the image was pushed without its record, by another tool, or its record was deleted since; gamelayer ls ${client.host}/${repo} lists the builds that have one`);
  }
  return async () => ({ ...(await readRecord(client, repo, tag, { subject, name, blobCache: opts.recordCache })), via: 'tag' });
}

/** The newest build-record artifact among the image's referrers; undefined when there is none or no API. */
async function findByReferrers(client: RegistryClient, repo: string, subject: string): Promise<string | undefined> {
  const listed = await referrersApi(client, repo, subject, { artifactType: BUILD_RECORD_ARTIFACT_TYPE, invalidCode: 'record.invalid' });
  return listed && newestFirst(listed, BUILD_RECORD_ARTIFACT_TYPE)[0]?.digest;
}

async function readArtifactManifest(client: RegistryClient, repo: string, reference: string, access: Access): Promise<z.infer<typeof artifactManifestSchema>> {
  const m = await client.getManifest(repo, reference, access);
  const json = safeJson(m.bytes.toString('utf8'));
  // A record tag names either the artifact (pushed the old way) or the index holding it: both carry the subject.
  const parsed = artifactManifestSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const index = recordIndexSchema.safeParse(json);
  if (index.success) return { config: EMPTY_CONFIG, layers: [], subject: index.data.subject, artifactType: index.data.artifactType };
  throw new GamelayerError('record.invalid', `${client.host}/${repo}:${reference} is not an OCI artifact manifest`);
}

const recordIndexSchema = z.looseObject({
  artifactType: z.string().optional(),
  manifests: z.array(descriptorSchema.extend({ artifactType: z.string().optional() })),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** A manifest by tag or digest; by digest, the bytes must hash to it (nothing from a registry is trusted unchecked). */
export async function getVerifiedManifest(client: RegistryClient, repo: string, reference: string) {
  const m = await client.getManifest(repo, reference);
  // A tag never holds ':' (distribution's grammar): a reference with one is a digest.
  if (reference.includes(':') && m.digest !== reference) {
    throw new GamelayerError('registry.digest', `${client.host}/${repo}@${reference}: the manifest the registry sent hashes to ${m.digest}`);
  }
  return m;
}

/** How readRecord reads a record: besides where it is, what it is for and what is already at hand. */
interface ReadRecordOptions {
  /** The image the record must describe; undefined: whatever image the index names. */
  subject?: string;
  /** The reference the user gave, for errors. */
  name: string;
  /** The manifest at `reference`, already fetched. */
  fetched?: Awaited<ReturnType<RegistryClient['getManifest']>>;
  /** This host's copy of the line's documents (line-copy.ts). */
  local?: LineCopy;
  /** The folder of record blobs kept by digest (`recordCache`). */
  blobCache?: string;
}

/**
 * Reads the record at `reference`: an index holding it (how records are pushed now) or the artifact manifest itself
 * (pushed the old way, or listed by the referrers API).
 */
async function readRecord(client: RegistryClient, repo: string, reference: string, opts: ReadRecordOptions): Promise<Omit<FoundBuildRecord, 'via'>> {
  const { name, fetched, local, blobCache } = opts;
  let subject = opts.subject;
  const top = fetched ?? (await getVerifiedManifest(client, repo, reference));
  let m = top;
  let viaIndex = false;
  let json = safeJson(top.bytes.toString('utf8'));
  const asIndex = recordIndexSchema.safeParse(json);
  if (asIndex.success && (json as { config?: unknown }).config === undefined) {
    const where = `${client.host}/${repo}@${top.digest}`;
    const entry = asIndex.data.manifests.find((d) => d.artifactType === BUILD_RECORD_ARTIFACT_TYPE);
    if (!entry) throw new GamelayerError('record.invalid', `${where} (for ${name}) is an image index without a gamelayer build record in it`);
    const indexSubject = asIndex.data.subject?.digest;
    if (subject !== undefined && indexSubject !== subject) throw staleRecord(where, name, indexSubject, subject);
    subject ??= indexSubject;
    // The local copy's manifest only when it is the one this (verified) index names: readLineCopy checked its bytes.
    m = local?.manifest.digest === entry.digest ? { ...local.manifest, size: local.manifest.bytes.length, mediaType: entry.mediaType } : await getVerifiedManifest(client, repo, entry.digest);
    json = safeJson(m.bytes.toString('utf8'));
    viaIndex = true;
  }
  const parsed = artifactManifestSchema.safeParse(json);
  const where = `${client.host}/${repo}@${m.digest}`;
  if (!parsed.success || parsed.data.artifactType !== BUILD_RECORD_ARTIFACT_TYPE) {
    throw new GamelayerError('record.invalid', `${where} (for ${name}) is not a gamelayer build record (artifactType ${parsed.data?.artifactType ?? 'missing'})`);
  }
  subject ??= parsed.data.subject?.digest;
  if (!subject || parsed.data.subject?.digest !== subject) throw staleRecord(where, name, parsed.data.subject?.digest, subject ?? 'an image');
  const layer = parsed.data.layers.find((l) => l.mediaType === BUILD_RECORD_GZIP_TYPE || l.mediaType === BUILD_RECORD_ARTIFACT_TYPE);
  if (!layer) throw new GamelayerError('record.invalid', `${where}: the artifact holds no ${BUILD_RECORD_GZIP_TYPE} (or plain ${BUILD_RECORD_ARTIFACT_TYPE}) layer`);
  if (layer.size > MAX_RECORD_BYTES) throw new GamelayerError('record.invalid', `${where}: the record is ${layer.size} bytes, more than a build record can be`);
  const cached = local?.blob.digest === layer.digest ? local.blob.bytes : blobCache !== undefined ? await cachedRecordBlob(blobCache, layer.digest, layer.size) : undefined;
  const bytes = cached ?? (await getSizedBlob(client, repo, layer, `get build record ${layer.digest} from ${repo}`));
  if (!bytes || bytes.length !== layer.size || sha256Digest(bytes) !== layer.digest) {
    throw new DamagedRecordError(`${where}: the record blob does not match its digest ${layer.digest}`);
  }
  if (!cached && blobCache !== undefined) await keepRecordBlob(blobCache, layer.digest, bytes);
  const value = withManifestFields(layer.mediaType === BUILD_RECORD_GZIP_TYPE ? await gzippedRecordJson(bytes, where) : safeRecordJson(bytes), parsed.data.annotations) as { schemaVersion?: unknown } | undefined;
  if (typeof value?.schemaVersion === 'number' && value.schemaVersion > 1) {
    throw new GamelayerError(
      'record.invalid',
      `${where}: the build record has schemaVersion ${value.schemaVersion}, written by a newer gamelayer (this one reads 1)`,
      'upgrade gamelayer on this machine, or build without the previous build (--from none)',
    );
  }
  if (value === undefined) throw new DamagedRecordError(`${where}: invalid build record: not JSON`);
  const record = parseStored(buildRecordSchema, value);
  if (!record.ok) throw new DamagedRecordError(`${where}: invalid build record: ${record.problem}`);
  const notDigest = firstNonDigest(record.value);
  if (notDigest) throw new DamagedRecordError(`${where}: invalid build record: ${notDigest.field}: ${JSON.stringify(notDigest.value)} is not a digest (sha256:<64 hex digits>)`);
  // Checked and shaped by the same schema as the local copy: a build planned on either writes the same bytes.
  const documents = viaIndex ? { index: { digest: top.digest, bytes: top.bytes }, manifest: { digest: m.digest, bytes: m.bytes }, blob: { digest: layer.digest, bytes } } : undefined;
  return { record: record.value, subject, digest: top.digest, recordBlob: layer.digest, recordBlobSize: layer.size, ...(documents ? { documents } : {}) };
}

/**
 * The first digest of a record that is not `sha256:<64 hex>`. The record's digests name blobs and manifests in
 * requests (a `sha256:<hex>/../…` would resolve to another path of the registry) and in the manifests a build puts:
 * a record from the registry is trusted with none that is not one.
 */
function firstNonDigest(r: BuildRecord): { field: string; value: string } | undefined {
  const fields: [string, string | undefined][] = [
    ...r.layers.flatMap((l, i): [string, string][] => [[`layers[${i}].digest`, l.digest], [`layers[${i}].diffID`, l.diffID]]),
    ...r.images.flatMap((im, i): [string, string][] => [[`images[${i}].digest`, im.digest], ...(im.layers ?? []).map((l, j): [string, string] => [`images[${i}].layers[${j}].digest`, l.digest])]),
    ['index', r.index],
    ...(r.bases ?? []).map((b, i): [string, string] => [`bases[${i}].digest`, b.digest]),
  ];
  for (const [field, value] of fields) if (value !== undefined && !isDigest(value)) return { field, value };
  return undefined;
}

function staleRecord(where: string, name: string, has: string | undefined, wanted: string): GamelayerError {
  return new GamelayerError(
    'record.stale',
    `${where}: the build record found for ${name} describes ${has ?? 'no image'}, not ${wanted}`,
    'the image tag was moved without its record; push the record again with the image',
  );
}

/**
 * The newest record of a line of work in `repository` (`host/repo`): what the tag `gamelayer-line.<line>` names.
 * undefined when the line has no record there yet; a damaged or unreadable one is an error, never "no record".
 *
 * With `copyDir` (the game's state folder's copies, line-copy.ts): when this host holds a copy of the line's record,
 * the tag is asked with one HEAD, and if it names exactly the copy's index the record is read from the copy (each
 * document checked against the digest that names it); otherwise, and on a fresh host, it is read from the registry
 * (the tag's index, the record manifest, the record blob: one GET after another) and the copy is kept for the next
 * build. `tagNamed` is what the tag named when it was asked (a push of the same line need not ask again). A record
 * read from the copy comes with `blobServed`: the registry's record blob being read and checked against its digest
 * (it rejects with a DamagedRecordError as a read from the registry would); await it before trusting the record.
 *
 * The copy is read and checked while the tag's HEAD is out, and the questions its record raises go out before that
 * HEAD is answered (one round, not two): the record blob's GET here, the kept layers' HEADs through `onCopyRead`,
 * called with the copy's record once it checks out (undefined: no copy, or none that checks out; called once, as
 * soon as the first questions are out). Their answers are facts about digests, whoever asked; the copy's
 * record itself is returned, and so used, only when the tag names exactly the copy's index.
 */
export async function fetchLineRecord(
  repository: string,
  line: string,
  opts: FetchBuildRecordOptions & { copyDir?: string; onCopyRead?: (record: BuildRecord | undefined) => void } = {},
): Promise<(FoundBuildRecord & { tag: string; tagNamed: ManifestInfo; blobServed?: Promise<void> }) | undefined> {
  const r = parseReference(repository);
  const { client } = opts.target ?? (await pushTargetFor(r, opts));
  const tag = lineTag(line);
  const name = `${client.host}/${r.repository}:${tag}`;
  const copyKey = `${client.host}/${r.repository}`;
  let copy: LineCopy | undefined;
  let told = false;
  const tell = (record: BuildRecord | undefined) => {
    if (!told) opts.onCopyRead?.(record);
    told = true;
  };
  if (opts.copyDir !== undefined && hasLineCopy(opts.copyDir, copyKey, tag)) {
    const viaCopy = await lineFromCopy(client, r.repository, tag, name, opts.copyDir, copyKey, tell);
    copy = viaCopy.copy;
    if (!viaCopy.answer) return undefined;
    if (viaCopy.hit) return { ...viaCopy.hit.found, via: 'tag', tag, tagNamed: viaCopy.answer, ...(viaCopy.hit.blobServed ? { blobServed: viaCopy.hit.blobServed } : {}) };
  }
  const asked = client.getManifestIfExists(r.repository, tag);
  tell(undefined);
  const top = await asked;
  if (!top) return undefined;
  const found = await readRecord(client, r.repository, tag, { name, fetched: top, blobCache: opts.recordCache });
  if (opts.copyDir !== undefined && found.documents) await saveLineCopy(opts.copyDir, copyKey, tag, found.documents, copy);
  return { ...found, via: 'tag', tag, tagNamed: { digest: top.digest, mediaType: top.mediaType, size: top.size } };
}

/**
 * The line tag's HEAD (beside the ping) and, meanwhile, this host's copy of the line's record read and checked, its
 * questions asked (recordFromCopy). `hit` only when the tag names exactly the copy's index; `answer` undefined: no
 * such tag. A copy's record that is not the one the tag names is not returned, so not held while the registry's
 * record is read (a 1M-entry record is large).
 */
async function lineFromCopy(
  client: RegistryClient,
  repo: string,
  tag: string,
  name: string,
  copyDir: string,
  copyKey: string,
  onRecord: (record: BuildRecord | undefined) => void,
): Promise<{ answer?: ManifestInfo; copy?: LineCopy; hit?: { found: Omit<FoundBuildRecord, 'via'>; blobServed?: Promise<void> } }> {
  // The HEAD goes out at once and the copy is read meanwhile; the ping beside it: the auth learns the registry's
  // scheme before the requests that follow go out side by side.
  const named = client.headManifest(repo, tag);
  const pinged = client.ping();
  const early = readLineCopy(copyDir, copyKey, tag)
    .then((read) => read && recordFromCopy(client, repo, tag, name, read, onRecord))
    .finally(() => onRecord(undefined));
  // Seen below, unless the HEAD or the ping fails first: then no unhandled rejection is left behind.
  early.catch(() => undefined);
  const [answer, read] = await Promise.all([named, early, pinged]);
  // A copy that checks out by its digests but is no record is what the registry holds under those digests too:
  // the registry's read after this reports it as it would on a fresh host.
  const hit = answer && read?.found && answer.digest === read.copy.index.digest ? { found: read.found, ...(read.blobServed ? { blobServed: read.blobServed } : {}) } : undefined;
  return { ...(answer ? { answer } : {}), ...(read ? { copy: read.copy } : {}), ...(hit ? { hit } : {}) };
}

/**
 * The record in this host's copy of a line's documents (each checked against the digest naming it), and the
 * registry's record blob being read and checked (`blobServed`); undefined `found` when the copy is no readable record.
 * Called before the registry says which index the line tag names: the caller uses `found` only when it is the copy's.
 */
async function recordFromCopy(
  client: RegistryClient,
  repo: string,
  tag: string,
  name: string,
  copy: LineCopy,
  onRecord?: (record: BuildRecord) => void,
): Promise<{ copy: LineCopy; found?: Omit<FoundBuildRecord, 'via'>; blobServed?: Promise<void> }> {
  const top = { digest: copy.index.digest, mediaType: MEDIA_TYPES.ociIndex, bytes: copy.index.bytes, size: copy.index.bytes.length };
  const found = await readRecord(client, repo, tag, { name, fetched: top, local: copy }).catch(() => undefined);
  if (!found) return { copy };
  // The record blob as the registry serves it is still read and checked (a damaged registry copy is reported as
  // before, and the push repairs it); the caller awaits it beside the kept layers' HEADs. (A copy whose manifest names
  // another blob had that one read from the registry, and checked, by readRecord.)
  const { blob, manifest } = copy;
  const blobServed =
    found.recordBlob === blob.digest
      ? getSizedBlob(client, repo, { digest: blob.digest, size: blob.bytes.length }, `get build record ${blob.digest} from ${repo}`).then((bytes) => {
          if (!bytes || bytes.length !== blob.bytes.length || sha256Digest(bytes) !== blob.digest) {
            throw new DamagedRecordError(`${client.host}/${repo}@${manifest.digest}: the record blob does not match its digest ${blob.digest}`);
          }
        })
      : undefined;
  blobServed?.catch(() => undefined);
  onRecord?.(found.record);
  return { copy, found, ...(blobServed ? { blobServed } : {}) };
}

/** Records pushed since the tags moved out of the blob get their tags, creation time, CodeBuild build, revision and previous record from the manifest. */
function withManifestFields(json: unknown, annotations: Record<string, string> | undefined): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const out = { ...(json as Record<string, unknown>) };
  if (out.createdAt === undefined && annotations?.[CREATED] !== undefined) out.createdAt = annotations[CREATED];
  if (out.tags === undefined && annotations?.[TAGS] !== undefined) out.tags = safeJson(annotations[TAGS]);
  if (out.codebuildArn === undefined && annotations?.[CODEBUILD_ARN] !== undefined) out.codebuildArn = annotations[CODEBUILD_ARN];
  if (out.revision === undefined && annotations?.[REVISION_ANNOTATION] !== undefined) out.revision = annotations[REVISION_ANNOTATION];
  if (out.sourceUrl === undefined && annotations?.[SOURCE] !== undefined) out.sourceUrl = annotations[SOURCE];
  if (out.previous === undefined && annotations?.[PREVIOUS] !== undefined) out.previous = safeJson(annotations[PREVIOUS]);
  return out;
}

/** Whether gzip `bytes` inflate to exactly `json` (anything else, a damaged stream too: false). */
function inflatesTo(bytes: Buffer, json: string): boolean {
  const want = Buffer.from(json);
  try {
    return gunzipSync(bytes, { maxOutputLength: want.length + 1 }).equals(want);
  } catch {
    return false;
  }
}

/** The record's JSON from its gzip layer; a bomb or a damaged stream is a clear error, not an exhausted heap. */
function gunzipRecord(bytes: Buffer, where: string): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_RECORD_BYTES });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? `it inflates to more than ${MAX_RECORD_BYTES} bytes` : (e as Error).message;
    throw new DamagedRecordError(`${where}: the record layer is not a readable gzip stream: ${why}`);
  }
}

/** The record's JSON from its gzipped blob: a large one inflated and parsed a piece at a time (record-gzip.ts). */
async function gzippedRecordJson(bytes: Buffer, where: string): Promise<unknown> {
  if (!isLargeGzippedRecord(bytes)) {
    const json = gunzipRecord(bytes, where);
    noteInflated(bytes, json);
    return safeRecordJson(json);
  }
  try {
    return await parseGzippedRecord(bytes, MAX_RECORD_BYTES);
  } catch (e) {
    if (e instanceof RecordInflateError) throw new DamagedRecordError(`${where}: the record layer is not a readable gzip stream: ${e.message}`);
    throw e;
  }
}

/** A record blob's JSON (gzip by its magic bytes, else plain, as records were first pushed); undefined: not JSON. */
export async function recordBlobJson(bytes: Buffer, where: string): Promise<unknown> {
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? gzippedRecordJson(bytes, where) : safeRecordJson(bytes);
}

/** The record's JSON from its bytes (record-parse.ts: no whole string, plan entries shared); undefined: not JSON. */
function safeRecordJson(bytes: Buffer): unknown {
  try {
    return parseRecordBytes(bytes);
  } catch {
    return undefined;
  }
}
