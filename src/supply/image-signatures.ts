// Verifying an image as a node would pull it: the manifest or index the reference names, every platform manifest
// under an index (a node resolves the index to one of them), and the SBOMs attached to it. Signing: sign-images.ts.
import type { KeyObject } from 'node:crypto';
import { GamelayerError } from '../errors.js';
import type { PushTarget, TargetOptions } from '../registry/push.js';
import { listReferrers } from '../registry/referrers.js';
import { readFile } from 'node:fs/promises';
import { platformSbomHint, readSbomFile, resolveImage, SBOM_ARTIFACT_TYPE, withTempFile, type FoundSbom, type FoundSbomFile } from '../sbom/attach.js';
import { refuseSeveralSboms, severalSbomsHint, severalSbomsProblem } from '../sbom/one-sbom.js';
import { verifyManifest, type CheckedSignature } from '../sign/cosign.js';
import { childManifests, sbomProblem } from './image-reads.js';

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
  /** The images carrying more than one SBOM (sbom/one-sbom.ts: an image carries one), with or without --require-sbom. */
  severalSboms: { problem: string; subject: string; hint: string }[];
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
  const severalSboms: VerifyImageResult['severalSboms'] = [];
  /** The SBOMs attached to `subject`, each checked (signature, digest, schema, the image it names); how many. */
  const checkSboms = async (subject: string) => {
    const sboms = await listReferrers(client, repo, subject, SBOM_ARTIFACT_TYPE);
    const several = severalSbomsProblem(subject, sboms);
    if (several) severalSboms.push({ problem: several, subject, hint: severalSbomsHint(`${client.host}/${repo}`, subject, sboms.via) });
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
  // First: with two SBOMs, that each is signed and well-formed says nothing about which one the image holds.
  const problems: string[] = severalSboms.map((s) => s.problem);
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
  return { ref: name, digest, items, ok: problems.length === 0, problems, sbomMissing, severalSboms };
}

/**
 * The SBOM of `ref`, taken only when its signature verifies with `key`. An image carrying several (anyone with push
 * rights can attach one) is refused, signed or not: which is the image's cannot be told (sbom/one-sbom.ts).
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
  refuseSeveralSboms(name, `${target.client.host}/${repo}`, digest, found);
  for (const s of found.manifests) {
    const v = await verifyManifest({ client: target.client, repo, digest: s.digest, key: opts.key, repository });
    if (v.verified) return readSbomFile(target, repo, s.digest, digest, found.via, opts.file);
  }
  // None at all (said "none of the 0 SBOMs"): a merged index's are on its platform manifests (platformSbomHint).
  if (!found.manifests.length) {
    throw new GamelayerError('sbom.not-found', `${name}: no SBOM attached to ${digest}`, (await platformSbomHint(target, repo, digest)) ?? 'build with --push REPO --sbom --sign KEY');
  }
  throw new GamelayerError('sbom.not-found', `${name}: the SBOM ${found.manifests[0]!.digest} attached to ${digest} is not signed by this key`, 'sign it with gamelayer sign REF --key KEY');
}
