// Signing and verifying an image as a node would pull it: the manifest or index the reference names, every
// platform manifest under an index (a node resolves the index to one of them), and the SBOMs attached to it.
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { GamelayerError } from '../errors.js';
import { isDigest } from '../oci/layout.js';
import { MEDIA_TYPES, type RegistryClient } from '../registry/client.js';
import type { PushTarget, TargetOptions } from '../registry/push.js';
import { listReferrers } from '../registry/referrers.js';
import { readFile } from 'node:fs/promises';
import { platformSbomHint, readSbomFile, resolveImage, SBOM_ARTIFACT_TYPE, withTempFile, type FoundSbom, type FoundSbomFile } from '../sbom/attach.js';
import { signManifest, verifyManifest, type CheckedSignature, type SignResult } from '../sign/cosign.js';
import type { Signer } from '../sign/keys.js';

const indexSchema = z.looseObject({ mediaType: z.string().optional(), manifests: z.array(z.looseObject({ digest: z.string().refine(isDigest) })) });

/**
 * The platform manifests under an index (none for a plain manifest). The bytes must hash to `digest`: the children
 * they list are signed with the studio's key, and a registry (or a proxy) answering other bytes would choose them.
 */
async function childManifests(client: RegistryClient, repo: string, digest: string, mediaType?: string): Promise<string[]> {
  const m = await client.getManifest(repo, digest);
  const where = `${client.host}/${repo}@${digest}`;
  if (m.digest !== digest) throw new GamelayerError('registry.digest', `${where}: the manifest the registry sent hashes to ${m.digest}`);
  let json: unknown;
  try {
    json = JSON.parse(m.bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  // An index by what the document says (its mediaType, its `manifests`), as base-pull.ts judges one: a proxy that
  // answers with Content-Type application/json must not leave the platform manifests unsigned and unchecked.
  const doc = json as { mediaType?: unknown; manifests?: unknown } | null | undefined;
  const type = typeof doc?.mediaType === 'string' ? doc.mediaType : (mediaType ?? m.mediaType);
  if (type !== MEDIA_TYPES.ociIndex && type !== MEDIA_TYPES.dockerList && !Array.isArray(doc?.manifests)) return [];
  const parsed = indexSchema.safeParse(json);
  if (!parsed.success) throw new GamelayerError('verify.invalid', `${where} is not a valid image index`);
  return parsed.data.manifests.map((c) => c.digest);
}

export interface SignImageOptions extends TargetOptions {
  /** `host/repo:tag` or `host/repo@sha256:…`. */
  ref: string;
  signer: Signer;
  target?: PushTarget;
  /** Also sign the SBOMs attached to the image (default true). */
  sboms?: boolean;
  /** SBOM artifacts the caller attached itself (build --sbom): not downloaded and checked again before signing. */
  madeHere?: ReadonlySet<string>;
}

export interface SignImageResult {
  ref: string;
  digest: string;
  signed: (SignResult & { what: 'image' | 'platform manifest' | 'sbom' })[];
  bytesSent: number;
}

/** Signs the image `ref` (and its platform manifests and SBOMs) with `signer`, cosign format. */
export async function signImage(opts: SignImageOptions): Promise<SignImageResult> {
  const { ref, target, repo, name, digest } = await resolveImage(opts.ref, opts);
  const { client } = target;
  const repository = `${ref.registry}/${ref.repository}`;
  // A tag is what policies match (skopeo's default matchRepoDigestOrExact); a digest reference signs the repository.
  const identity = ref.tag ? `${repository}:${ref.tag}` : repository;
  const signed: SignImageResult['signed'] = [];
  const sign = async (d: string, what: SignImageResult['signed'][number]['what'], id = identity) =>
    signed.push({ ...(await signManifest({ target, repo, digest: d, identity: id, signer: opts.signer })), what });
  // Every attached SBOM is checked before anything is signed: anyone who may push can attach one, and a signature
  // vouches for the document; one that fails verify's checks would be signed and still fail verify.
  const sboms = opts.sboms === false ? [] : await listReferrers(client, repo, digest, SBOM_ARTIFACT_TYPE).then((r) => r.manifests.map((m) => ({ digest: m.digest, via: r.via })));
  const bad: string[] = [];
  for (const s of sboms) {
    if (opts.madeHere?.has(s.digest)) continue;
    const why = await sbomProblem(target, repo, s.digest, digest, s.via);
    if (why) bad.push(why);
  }
  if (bad.length) {
    throw new GamelayerError(
      'sign.sbom-invalid',
      `${name}: ${bad.join('; ')}`,
      `nothing was signed. Such an SBOM was not made for this image by gamelayer build --sbom (damaged, or attached by someone else): delete that manifest from ${repository} (DELETE /v2/<repo>/manifests/<digest>; on ECR aws ecr batch-delete-image), then sign again`,
    );
  }
  // Read (and checked) before anything is signed: a bad answer leaves no signature behind.
  const children = await childManifests(client, repo, digest);
  await sign(digest, 'image');
  for (const child of children) await sign(child, 'platform manifest');
  for (const s of sboms) await sign(s.digest, 'sbom', repository);
  return { ref: name, digest, signed, bytesSent: signed.reduce((n, s) => n + s.bytesSent, 0) };
}

export interface VerifyImageOptions extends TargetOptions {
  ref: string;
  key: KeyObject;
  target?: PushTarget;
  /** Fail when the image carries no SBOM (default: an SBOM is checked when there is one). */
  requireSbom?: boolean;
}

export interface VerifiedItem {
  what: 'image' | 'platform manifest' | 'sbom';
  digest: string;
  verified: boolean;
  signatures: CheckedSignature[];
  /** SBOMs: the document passed its digest, schema and subject checks. */
  documentValid?: boolean;
  /** SBOMs: why the document failed them. */
  documentProblem?: string;
}

export interface VerifyImageResult {
  ref: string;
  digest: string;
  items: VerifiedItem[];
  /** Every item verified (and an SBOM was there when required). */
  ok: boolean;
  problems: string[];
  /** --require-sbom and none is attached. */
  sbomMissing: boolean;
}

/**
 * Why an attached SBOM fails the checks (artifact type, digest, CycloneDX schema, the image it names), or undefined.
 * Checked in a temp file a piece at a time and never read back: a 1M-file game's SBOM is 208 MiB.
 */
async function sbomProblem(target: PushTarget, repo: string, artifact: string, subject: string, via: FoundSbom['via']): Promise<string | undefined> {
  return withTempFile((file) => readSbomFile(target, repo, artifact, subject, via, file)).then(
    () => undefined,
    (e: unknown) => {
      // The document's own faults; a registry or network failure is not one (sign would say "delete it").
      if (!(e instanceof GamelayerError) || !/^(sbom|referrers)\./.test(e.code)) throw e;
      return e.message;
    },
  );
}

/** Verifies the image `ref`, its platform manifests and its SBOMs against `key`. */
export async function verifyImage(opts: VerifyImageOptions): Promise<VerifyImageResult> {
  const { ref, target, repo, name, digest } = await resolveImage(opts.ref, opts);
  const { client } = target;
  const repository = `${ref.registry}/${ref.repository}`;
  const items: VerifiedItem[] = [];
  const check = async (d: string, what: VerifiedItem['what']) => {
    const r = await verifyManifest({ client, repo, digest: d, key: opts.key, repository });
    const item: VerifiedItem = { what, digest: d, verified: r.verified, signatures: r.signatures };
    items.push(item);
    return item;
  };
  await check(digest, 'image');
  const children = await childManifests(client, repo, digest);
  for (const child of children) await check(child, 'platform manifest');
  /** The SBOMs attached to `subject`, each checked (signature, digest, schema, the image it names); how many. */
  const checkSboms = async (subject: string) => {
    const sboms = await listReferrers(client, repo, subject, SBOM_ARTIFACT_TYPE);
    for (const s of sboms.manifests) {
      const item = await check(s.digest, 'sbom');
      item.documentProblem = await sbomProblem(target, repo, s.digest, subject, sboms.via);
      item.documentValid = item.documentProblem === undefined;
    }
    return sboms.manifests.length;
  };
  let withoutSbom: string[] = (await checkSboms(digest)) ? [] : [digest];
  if (withoutSbom.length && children.length) {
    // A merged build (gamelayer index): each platform's build attached its SBOM to its own manifest, as docker
    // buildx attaches its attestations. The index is covered when every platform manifest under it carries one.
    withoutSbom = [];
    for (const child of children) if (!(await checkSboms(child))) withoutSbom.push(child);
  }
  const problems: string[] = [];
  for (const i of items) {
    if (!i.verified) {
      const why = i.signatures.length ? i.signatures.map((s) => s.reason).join('; ') : 'no signature (no sha256-….sig tag)';
      problems.push(`${i.what} ${i.digest}: not verified: ${why}`);
    }
    if (i.documentValid === false) problems.push(`sbom ${i.digest}: the document fails its digest, schema or subject check: ${i.documentProblem}`);
  }
  const sbomMissing = Boolean(opts.requireSbom) && withoutSbom.length > 0;
  if (sbomMissing) {
    problems.push(
      withoutSbom[0] === digest
        ? `no SBOM attached to image ${digest}`
        : `no SBOM attached to image ${digest} nor to its platform manifest${withoutSbom.length > 1 ? 's' : ''} ${withoutSbom.join(', ')}`,
    );
  }
  return { ref: name, digest, items, ok: problems.length === 0, problems, sbomMissing };
}

/**
 * The SBOM of `ref` whose signature verifies with `key` (an image may carry SBOMs anyone with push rights attached:
 * with a key, only a signed one is taken).
 */
export async function fetchSignedSbom(opts: { ref: string; key: KeyObject; target?: PushTarget } & TargetOptions): Promise<FoundSbom> {
  return withTempFile(async (file) => {
    const { file: _file, size: _size, ...found } = await fetchSignedSbomFile({ ...opts, file });
    return { ...found, bytes: await readFile(file) };
  });
}

/** `fetchSignedSbom` into `file` (created; the caller removes it), checked a piece at a time (sbom/sbom-read.ts). */
export async function fetchSignedSbomFile(opts: { ref: string; key: KeyObject; target?: PushTarget; file: string } & TargetOptions): Promise<FoundSbomFile> {
  const { ref, target, repo, name, digest } = await resolveImage(opts.ref, opts);
  const repository = `${ref.registry}/${ref.repository}`;
  const found = await listReferrers(target.client, repo, digest, SBOM_ARTIFACT_TYPE);
  for (const s of found.manifests) {
    const v = await verifyManifest({ client: target.client, repo, digest: s.digest, key: opts.key, repository });
    if (v.verified) return readSbomFile(target, repo, s.digest, digest, found.via, opts.file);
  }
  // None at all (said "none of the 0 SBOMs"): a merged index's are on its platform manifests (platformSbomHint).
  if (!found.manifests.length) {
    throw new GamelayerError('sbom.not-found', `${name}: no SBOM attached to ${digest}`, (await platformSbomHint(target, repo, digest)) ?? 'build with --push REPO --sbom --sign KEY');
  }
  throw new GamelayerError('sbom.not-found', `${name}: none of the ${found.manifests.length} SBOMs attached to ${digest} is signed by this key`, 'sign it with gamelayer sign REF --key KEY');
}
