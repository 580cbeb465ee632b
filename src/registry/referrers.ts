// Generic OCI referrers (distribution spec 1.1): an artifact manifest with `subject` = an image, listed through the
// referrers API when the registry has it, else through the referrers tag schema: an OCI index tagged
// `sha256-<hex of the subject>` that the client keeps up to date. Used for the SBOM; the build record's lookup
// (artifact.ts) asks the referrers API through `referrersApi` here, and keeps its own fallback tag.
import { z } from 'zod';
import { GamelayerError } from '../errors.js';
import type { ErrorCode } from '../error-codes.js';
import type { Descriptor } from '../types.js';
import { pullScope, pushScope } from './scopes.js';
import { MEDIA_TYPES, type RegistryClient } from './client.js';
import type { PushTarget } from './push.js';
import { putManifestSettled } from './manifest-put.js';
import { uploadBlob, type BlobSource } from './upload.js';
import { bufferSource, EMPTY_CONFIG, getSizedBlob } from './small-blob.js';
import { safeJson } from '../util/safe-json.js';
import { newestFirst as newestCreatedFirst } from '../util/instant.js';
import { sha256Digest } from '../oci/layout.js';

const CREATED = 'org.opencontainers.image.created';

/** The referrers tag schema's tag for `digest` (`sha256:abc…` → `sha256-abc…`). */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

const descriptorSchema = z.looseObject({
  mediaType: z.string(),
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/),
  size: z.number().int().min(0),
  artifactType: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
const indexSchema = z.looseObject({ manifests: z.array(descriptorSchema) });
const manifestSchema = z.looseObject({
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  subject: descriptorSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ArtifactManifest = z.infer<typeof manifestSchema>;

export interface Referrers {
  manifests: Descriptor[];
  via: 'referrers' | 'tag';
}

/**
 * The referrers API's list, or undefined when the registry has no such API (distribution 2.8 answers 404 or
 * refuses the route). With `artifactType` the registry is asked to filter (it may not: see `newestFirst`).
 * The one lookup of the API: the SBOM and signatures (here) and the build record (artifact.ts) use it.
 */
export async function referrersApi(
  client: RegistryClient,
  repo: string,
  subject: string,
  opts: { artifactType?: string; invalidCode?: ErrorCode } = {},
): Promise<Descriptor[] | undefined> {
  // A client whose registry answered it has no referrers API lists by the tag schema alone (RegistryClient.learnt).
  if (client.learnt.noReferrersApi) return undefined;
  const filter = opts.artifactType ? `?artifactType=${encodeURIComponent(opts.artifactType)}` : '';
  const res = await client.request({
    method: 'GET',
    target: `/v2/${repo}/referrers/${subject}${filter}`,
    headers: { accept: MEDIA_TYPES.ociIndex },
    scopes: [pullScope(repo)],
    ok: [200, 400, 404, 405],
    what: `list referrers of ${subject} in ${repo}`,
  });
  const type = (res.header('content-type') ?? '').split(';')[0]!.trim();
  if (res.status !== 200 || type !== MEDIA_TYPES.ociIndex) {
    await res.discard();
    // A registry with the API never answers 404 to it (the spec); one whose router knows no such route answers a
    // plain page (distribution 2.8: "404 page not found"), not a registry error (NAME_UNKNOWN): asked once per client.
    if ((res.status === 404 || res.status === 405) && !/json/.test(type)) client.learnt.noReferrersApi = true;
    return undefined;
  }
  const parsed = indexSchema.safeParse(safeJson(await res.text()));
  if (!parsed.success) throw new GamelayerError(opts.invalidCode ?? 'referrers.invalid', `${client.host}/${repo}: the referrers list of ${subject} is not a valid OCI index`);
  return parsed.data.manifests as Descriptor[];
}

/** The referrers of one artifact type (a registry may ignore the filter: applied here), newest first by their created annotation. */
export function newestFirst(manifests: Descriptor[], artifactType?: string): Descriptor[] {
  const kept = manifests.filter((m) => !artifactType || m.artifactType === artifactType);
  // By the instants the annotations name, not their text: a time in another zone, or without fractional seconds,
  // sorted wrong (a signature pushed from a host in +01:00 came before a newer one in UTC). The sort is stable: ties,
  // and referrers without a time (after the others), keep the registry's order.
  return kept.sort(newestCreatedFirst((m) => m.annotations?.[CREATED] ?? '', () => 0));
}

/** The index under the referrers tag, or undefined when the tag does not exist (one GET: a 404 says so). */
async function referrersTagIndex(client: RegistryClient, repo: string, subject: string): Promise<Descriptor[] | undefined> {
  const tag = referrersTag(subject);
  const m = await client.getManifestIfExists(repo, tag);
  if (!m) return undefined;
  const parsed = indexSchema.safeParse(safeJson(m.bytes.toString('utf8')));
  if (!parsed.success) throw new GamelayerError('referrers.invalid', `${client.host}/${repo}:${tag} (the referrers tag of ${subject}) is not an OCI index`);
  return parsed.data.manifests as Descriptor[];
}

/** Every referrer of `subject` (optionally of one artifact type), newest first by their created annotation. */
export async function listReferrers(client: RegistryClient, repo: string, subject: string, artifactType?: string): Promise<Referrers> {
  const api = await referrersApi(client, repo, subject);
  const via = api ? 'referrers' : 'tag';
  const all = api ?? (await referrersTagIndex(client, repo, subject)) ?? [];
  return { manifests: newestFirst(all, artifactType), via };
}

export interface ReferrerArtifact {
  manifest: Buffer;
  descriptor: Descriptor;
  /** Each blob's bytes in memory, or where to read them (a large SBOM is written to a file, never held whole). */
  blobs: { descriptor: Descriptor; bytes?: Buffer; source?: BlobSource }[];
}

/** A blob of an artifact: bytes in memory, or a source whose digest and size are known. */
export type ArtifactBlobInput = { mediaType: string; annotations?: Record<string, string> } & ({ bytes: Buffer } | { source: BlobSource });

/** An artifact manifest (empty config, one layer per blob) attached to `subject`. */
export function referrerArtifact(opts: {
  artifactType: string;
  subject: Descriptor;
  blobs: ArtifactBlobInput[];
  annotations?: Record<string, string>;
}): ReferrerArtifact {
  const blobs = opts.blobs.map((b) => {
    const digest = 'bytes' in b ? sha256Digest(b.bytes) : b.source.digest;
    const size = 'bytes' in b ? b.bytes.length : b.source.size;
    return {
      descriptor: { mediaType: b.mediaType, digest, size, ...(b.annotations ? { annotations: b.annotations } : {}) },
      ...('bytes' in b ? { bytes: b.bytes } : { source: b.source }),
    };
  });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: opts.artifactType,
      config: EMPTY_CONFIG,
      layers: blobs.map((b) => b.descriptor),
      subject: { mediaType: opts.subject.mediaType, digest: opts.subject.digest, size: opts.subject.size },
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    }),
  );
  return {
    manifest,
    descriptor: {
      mediaType: MEDIA_TYPES.ociManifest,
      digest: sha256Digest(manifest),
      size: manifest.length,
      artifactType: opts.artifactType,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    blobs,
  };
}

export interface PushReferrerResult {
  digest: string;
  /** The artifact was already listed under its subject: nothing was sent. */
  upToDate: boolean;
  /** Bytes of blobs and manifests sent. */
  bytesSent: number;
  via: 'referrers' | 'tag';
}

/**
 * Puts the artifact (blobs first, then the manifest by digest) and, on a registry without the referrers API,
 * adds it to the subject's referrers tag index. An artifact already listed sends nothing.
 */
export async function pushReferrer(target: PushTarget, repo: string, artifact: ReferrerArtifact): Promise<PushReferrerResult> {
  const { client } = target;
  const subject = (JSON.parse(artifact.manifest.toString('utf8')) as { subject: Descriptor }).subject;
  if (!(await client.headManifest(repo, subject.digest))) {
    throw new GamelayerError('referrers.no-subject', `${client.host}/${repo}: image ${subject.digest} is not there; its ${artifact.descriptor.artifactType} goes up after it`, 'push the image first');
  }
  const before = await listReferrers(client, repo, subject.digest);
  const listed = before.manifests.some((m) => m.digest === artifact.descriptor.digest);
  if (listed && (await client.headManifest(repo, artifact.descriptor.digest))) return { digest: artifact.descriptor.digest, upToDate: true, bytesSent: 0, via: before.via };

  let bytesSent = 0;
  const sourceOf = (b: ReferrerArtifact['blobs'][number]) => b.source ?? bufferSource(b.descriptor.digest, b.bytes!, `${artifact.descriptor.artifactType} of ${subject.digest}`);
  const blobs: ReferrerArtifact['blobs'] = [{ descriptor: EMPTY_CONFIG as Descriptor, bytes: Buffer.from('{}') }, ...artifact.blobs];
  const missing = await target.availability.missing(repo, blobs.map((b) => b.descriptor.digest));
  for (const b of blobs) {
    if (!missing.has(b.descriptor.digest)) continue;
    missing.delete(b.descriptor.digest);
    const r = await uploadBlob(client, repo, sourceOf(b), { ecr: target.ecr });
    bytesSent += r.bytesSent;
  }
  // Another host attaching the same artifact at the same moment can make the registry refuse it for a moment
  // (manifest-put.ts): what it lacks of the artifact's blobs is sent again and the manifest put again.
  const resend = async (lost: { blobs: string[] }) => {
    for (const b of blobs) {
      if (lost.blobs.includes(b.descriptor.digest)) bytesSent += (await uploadBlob(client, repo, sourceOf(b), { ecr: target.ecr })).bytesSent;
    }
  };
  await putManifestSettled(client, repo, artifact.descriptor.digest, artifact.manifest, MEDIA_TYPES.ociManifest, { resend });
  bytesSent += artifact.manifest.length;
  if (before.via === 'tag') bytesSent += await addToReferrersTag(client, repo, subject.digest, artifact.descriptor);
  return { digest: artifact.descriptor.digest, upToDate: false, bytesSent, via: before.via };
}

/** Adds `d` to the subject's referrers tag index (distribution spec "pushing manifests with subject", fallback). */
async function addToReferrersTag(client: RegistryClient, repo: string, subject: string, d: Descriptor): Promise<number> {
  // A registry with the API may have appeared meanwhile; the tag is then harmless and still read by older clients.
  const current = (await referrersTagIndex(client, repo, subject)) ?? [];
  if (current.some((m) => m.digest === d.digest)) return 0;
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [...current, d] }));
  await putManifestSettled(client, repo, referrersTag(subject), index, MEDIA_TYPES.ociIndex);
  return index.length;
}

/**
 * Takes the referrer `digest` off `subject`: out of the referrers tag index (tag schema), then its manifest deleted
 * (the referrers API lists what is stored). `unlisted` false: it is still listed (the API's registry refuses deletes).
 * Under the tag schema it is off the list either way; a manifest left behind (`deleted` false) is untagged (prune, or
 * ECR's lifecycle).
 */
export async function removeReferrer(client: RegistryClient, repo: string, subject: string, digest: string, via: Referrers['via']): Promise<{ unlisted: boolean; deleted: boolean }> {
  if (via === 'tag') {
    const current = (await referrersTagIndex(client, repo, subject)) ?? [];
    const kept = current.filter((m) => m.digest !== digest);
    if (kept.length < current.length) {
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: kept }));
      await putManifestSettled(client, repo, referrersTag(subject), index, MEDIA_TYPES.ociIndex);
    }
  }
  const deleted = await deleteManifestIfAllowed(client, repo, digest);
  return { unlisted: via === 'tag' || deleted, deleted };
}

/** DELETE of a manifest by digest; false when the registry allows none (405 from distribution with deletes off, 400 UNSUPPORTED). */
export async function deleteManifestIfAllowed(client: RegistryClient, repo: string, digest: string): Promise<boolean> {
  const res = await client.request({
    method: 'DELETE',
    target: `/v2/${repo}/manifests/${digest}`,
    scopes: [pushScope(repo).replace(/pull,push$/, '*')],
    ok: [200, 202, 400, 404, 405],
    what: `delete manifest ${repo}@${digest}`,
  });
  await res.discard();
  return res.status !== 405 && res.status !== 400;
}

/** An artifact manifest by digest, parsed; it must name `subject` when one is given. */
export async function readArtifact(client: RegistryClient, repo: string, digest: string, subject?: string): Promise<ArtifactManifest & { bytes: Buffer }> {
  const m = await client.getManifest(repo, digest);
  const where = `${client.host}/${repo}@${digest}`;
  if (m.digest !== digest) throw new GamelayerError('referrers.invalid', `${where}: the registry sent a manifest hashing to ${m.digest}`);
  const parsed = manifestSchema.safeParse(safeJson(m.bytes.toString('utf8')));
  if (!parsed.success) throw new GamelayerError('referrers.invalid', `${where} is not an OCI artifact manifest`);
  if (subject && parsed.data.subject?.digest !== subject) {
    throw new GamelayerError('referrers.invalid', `${where} is listed as a referrer of ${subject} but names ${parsed.data.subject?.digest ?? 'no subject'}`);
  }
  return { ...parsed.data, bytes: m.bytes };
}

/** A layer blob of an artifact, checked against its descriptor and refused above `maxBytes`. */
export async function readArtifactBlob(client: RegistryClient, repo: string, d: Descriptor, maxBytes: number): Promise<Buffer> {
  const where = `${client.host}/${repo}`;
  if (d.size > maxBytes) throw new GamelayerError('referrers.too-large', `${where}: blob ${d.digest} is ${d.size} bytes, more than ${maxBytes} allowed for a ${d.mediaType}`);
  const bytes = await getSizedBlob(client, repo, d, `get ${d.mediaType} ${d.digest} from ${repo}`);
  if (!bytes || bytes.length !== d.size || sha256Digest(bytes) !== d.digest) throw new GamelayerError('referrers.invalid', `${where}: blob ${d.digest} does not match its digest`);
  return bytes;
}
