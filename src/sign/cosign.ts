// Signatures in the sigstore/cosign registry format: a manifest tagged `sha256-<hex>.sig` next to the signed
// manifest, one layer per signature holding its simple-signing payload (media type
// application/vnd.dev.cosign.simplesigning.v1+json) with the base64 ECDSA signature in the layer's
// `dev.cosignproject.cosign/signature` annotation. That is what `cosign verify --key`, skopeo / podman / CRI-O with a
// policy.json `sigstoreSigned` requirement (registries.d `use-sigstore-attachments: true`) and Kyverno's
// verifyImages read. Signing again with a key that already signed the same digest under the same name sends
// nothing: a no-op build adds no new signature.
import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { GamelayerError } from '../errors.js';
import { MEDIA_TYPES, type RegistryClient } from '../registry/client.js';
import type { PushTarget } from '../registry/push.js';
import { parseReference } from '../registry/reference.js';
import { deleteManifestIfAllowed, readArtifactBlob } from '../registry/referrers.js';
import { putManifestSettled } from '../registry/manifest-put.js';
import { exemptCommand } from '../registry/mutable-tags.js';
import { uploadBlob } from '../registry/upload.js';
import { bufferSource } from '../registry/small-blob.js';
import type { Descriptor } from '../types.js';
import type { Signer } from './keys.js';
import { parseSimpleSigning, simpleSigningPayload, type SimpleSigning } from './payload.js';

export const SIMPLESIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
/** A payload is a few hundred bytes; anything large is not one. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** cosign's signature tag for the manifest `digest`. */
export function signatureTag(digest: string): string {
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new GamelayerError('sign.digest', `cannot sign ${digest}: not a sha256 digest`);
  return `${digest.replace(':', '-')}.sig`;
}

const layerSchema = z.looseObject({
  mediaType: z.string(),
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/),
  size: z.number().int().min(0),
  annotations: z.record(z.string(), z.string()).optional(),
});
const sigManifestSchema = z.looseObject({ layers: z.array(layerSchema) });
type SigLayer = z.infer<typeof layerSchema>;

export interface SignOptions {
  target: PushTarget;
  /** Repository path on the registry (`studio/game`). */
  repo: string;
  /** The manifest (or index) to sign. */
  digest: string;
  /** The name it is signed under: `registry/repo:tag` (what a policy matches), or `registry/repo`. */
  identity: string;
  signer: Signer;
  /**
   * An SBOM a build made or compared byte for byte with the one it makes (`build --sbom --sign`): its signature's
   * payload says so (BUILD_SBOM_MARK), and a build reuses only an SBOM signed so. `gamelayer sign` signs any
   * well-formed SBOM attached to the image (an operator's hand cannot tell a forged document from the build's), and
   * a build took that signature for its own check: a forged SBOM signed by hand stayed trusted.
   */
  buildSbom?: boolean;
}

/** The `optional` member of the payload of an SBOM signature a build made (SignOptions.buildSbom). */
export const BUILD_SBOM_MARK = { key: 'dev.gamelayer.sbom', value: 'made-or-checked-by-build' } as const;

export interface SignResult {
  digest: string;
  identity: string;
  /** The signature manifest's tag. */
  tag: string;
  /** A signature by this key of this digest under this name was already there: nothing sent. */
  upToDate: boolean;
  bytesSent: number;
}

/** The layers of the signature manifest `tag`, or undefined when there is none (one GET: a 404 says so). */
async function readSignatureLayers(client: RegistryClient, repo: string, tag: string): Promise<SigLayer[] | undefined> {
  return (await readSignatureManifest(client, repo, tag))?.layers;
}

async function readSignatureManifest(client: RegistryClient, repo: string, tag: string): Promise<{ digest: string; layers: SigLayer[] } | undefined> {
  const m = await client.getManifestIfExists(repo, tag);
  if (!m) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(m.bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = sigManifestSchema.safeParse(json);
  if (!parsed.success) throw new GamelayerError('verify.invalid', `${client.host}/${repo}:${tag} is not a signature manifest`);
  return { digest: m.digest, layers: parsed.data.layers };
}

/** The manifest digest a payload names, undefined when it is not a simple-signing payload. */
function signedDigest(payload: Buffer): string | undefined {
  try {
    return parseSimpleSigning(payload, 'signature').manifestDigest;
  } catch {
    return undefined;
  }
}

/**
 * The payload gamelayer writes for `digest` under `identity` (deterministic: the same bytes every run, and every
 * version: with the version in `creator`, a no-op signed build after an upgrade read every payload of every digest
 * again, each run, its own payload's digest matching none). Signatures made before stop 48 still carry the version:
 * they are read every run until the image is signed again.
 */
function ownPayload(digest: string, identity: string, buildSbom: boolean | undefined): Buffer {
  const optional = { creator: 'gamelayer', ...(buildSbom ? { [BUILD_SBOM_MARK.key]: BUILD_SBOM_MARK.value } : {}) };
  return simpleSigningPayload({ dockerReference: identity, manifestDigest: digest, optional });
}

/** How a key signed a digest under a name: as a build does an SBOM it made or checked (BUILD_SBOM_MARK), or at all. */
export interface SignedHow {
  asBuild: boolean;
  any: boolean;
}

/**
 * Whether one of `layers` is a valid signature of `opts.digest` by `opts.signer`'s key under `opts.identity`, as a
 * build (`asBuild`) and at all (`any`). The payloads this gamelayer would write are known, so a layer holding one (by
 * its digest) is checked without reading the blob: a no-op `index --sign` read every payload of every digest (25 of its
 * 147 requests on the sample). Other layers (another key, another gamelayer's payload) are read, each once, only while
 * what `need` asks is not known yet.
 */
async function signedAmong(client: RegistryClient, opts: Omit<SignOptions, 'buildSbom'>, layers: SigLayer[], need: keyof SignedHow): Promise<SignedHow> {
  const publicKey = await opts.signer.publicKey();
  const signature = (l: SigLayer) => Buffer.from(l.annotations?.[SIGNATURE_ANNOTATION] ?? '', 'base64');
  const own = [true, false].map((buildSbom) => {
    const payload = ownPayload(opts.digest, opts.identity, buildSbom);
    return { buildSbom, payload, digest: sha256(payload) };
  });
  const how: SignedHow = { asBuild: false, any: false };
  for (const o of own) {
    if (!layers.some((l) => l.mediaType === SIMPLESIGNING_MEDIA_TYPE && l.digest === o.digest && verifies(o.payload, publicKey, signature(l)))) continue;
    how.any = true;
    how.asBuild ||= o.buildSbom;
  }
  for (const l of layers) {
    if (how[need]) break;
    if (own.some((o) => o.digest === l.digest)) continue;
    const ok = await checkLayer(client, opts.repo, l, publicKey, opts.digest).catch(() => undefined);
    if (!ok?.valid || ok.payload?.dockerReference !== opts.identity) continue;
    how.any = true;
    how.asBuild ||= ok.payload.optional?.[BUILD_SBOM_MARK.key] === BUILD_SBOM_MARK.value;
  }
  return how;
}

/**
 * Whether `opts.digest` already carries a valid signature by `opts.signer`'s key under `opts.identity`: as a build
 * signs its SBOM, and at all (one read of its `.sig` tag answers both).
 */
export async function signedBy(opts: Omit<SignOptions, 'buildSbom'>): Promise<SignedHow> {
  const layers = await readSignatureLayers(opts.target.client, opts.repo, signatureTag(opts.digest)).catch(() => undefined);
  return layers ? signedAmong(opts.target.client, opts, layers, 'asBuild') : { asBuild: false, any: false };
}

/**
 * Deletes the signature manifest of `digest` (its `.sig` tag), for a manifest gamelayer has just deleted (an SBOM a
 * build replaced): left, it signs a manifest that is gone. A DELETE goes by the manifest's digest, and anyone who may
 * push can point the tag at any manifest (an image's): so only a signature manifest whose every payload names `digest`
 * is deleted. Its blobs are left to the registry's garbage collection (no manifest is left naming a missing blob).
 * True when it was deleted.
 */
export async function removeSignatures(client: RegistryClient, repo: string, digest: string): Promise<boolean> {
  const sig = await readSignatureManifest(client, repo, signatureTag(digest)).catch(() => undefined);
  if (!sig?.layers.length) return false;
  for (const l of sig.layers) {
    if (l.mediaType !== SIMPLESIGNING_MEDIA_TYPE) return false;
    const payload = await readArtifactBlob(client, repo, l as Descriptor, MAX_PAYLOAD_BYTES).catch(() => undefined);
    if (!payload || signedDigest(payload) !== digest) return false;
  }
  return deleteManifestIfAllowed(client, repo, sig.digest);
}

export async function signManifest(opts: SignOptions): Promise<SignResult> {
  const { client } = opts.target;
  const tag = signatureTag(opts.digest);
  const where = `${client.host}/${opts.repo}`;
  const existing = (await readSignatureLayers(client, opts.repo, tag)) ?? [];
  const how = await signedAmong(client, opts, existing, opts.buildSbom ? 'asBuild' : 'any');
  if (opts.buildSbom ? how.asBuild : how.any) return { digest: opts.digest, identity: opts.identity, tag, upToDate: true, bytesSent: 0 };
  // Asked only before a signature is made: one signed already was there when it was signed (a no-op run asked it
  // for every digest).
  if (!(await client.headManifest(opts.repo, opts.digest))) {
    throw new GamelayerError('sign.no-image', `${where}: no manifest ${opts.digest} to sign`, 'push the image first');
  }

  // One more signature moves the tag: where the repository refuses that, said before anything is sent (the raw
  // TAG_INVALID came after the payload's upload, and named no way out).
  if (existing.length && opts.target.immutableTag?.(tag)) {
    throw new GamelayerError(
      'sign.immutable-tag',
      `${where}:${tag} cannot take the signature of ${opts.digest} as ${opts.identity}: it holds ${existing.length} other signature${existing.length === 1 ? '' : 's'} of it and the repository's tags are immutable`,
      `exempt the signature tags (the image is unchanged since a build signed it under its own tag): ${exemptCommand(opts.repo)}`,
    );
  }
  const payload = ownPayload(opts.digest, opts.identity, opts.buildSbom);
  const signature = await opts.signer.sign(payload);
  // What KMS (or whatever answers at its endpoint) sent back is checked before it goes up: a signature that does not
  // verify was pushed and reported "signed", and stays in the signature manifest, which a next sign only appends to.
  if (!verifies(payload, await opts.signer.publicKey(), signature)) {
    throw new GamelayerError(
      'sign.key',
      `${opts.signer.name}: its signature of ${opts.digest} does not verify with its public key; nothing was pushed for it`,
      'check that the key is the ECDSA P-256 key meant (for KMS: that the endpoint is KMS, and GetPublicKey and Sign name the same key)',
    );
  }
  const layer: SigLayer = { mediaType: SIMPLESIGNING_MEDIA_TYPE, digest: sha256(payload), size: payload.length, annotations: { [SIGNATURE_ANNOTATION]: signature.toString('base64') } };
  const layers = [...existing, layer];
  // cosign's config for a signature image: the payloads as its "layers".
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      config: {},
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    }),
  );
  const configDescriptor: Descriptor = { mediaType: CONFIG_MEDIA_TYPE, digest: sha256(config), size: config.length };
  let bytesSent = 0;
  const missing = await opts.target.availability.missing(opts.repo, [layer.digest, configDescriptor.digest]);
  for (const [d, bytes] of [
    [layer.digest, payload],
    [configDescriptor.digest, config],
  ] as const) {
    if (!missing.has(d)) continue;
    bytesSent += (await uploadBlob(client, opts.repo, bufferSource(d, bytes, `signature of ${opts.digest}`), { ecr: opts.target.ecr })).bytesSent;
  }
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: configDescriptor, layers }));
  // As an image's manifest (registry/manifest-put.ts): a refusal while another push writes the same blobs is put
  // again, this signature's own payload and config sent again if they are gone.
  const resend = async (lost: { blobs: string[] }) => {
    for (const [d, bytes] of [
      [layer.digest, payload],
      [configDescriptor.digest, config],
    ] as const) {
      if (lost.blobs.includes(d)) bytesSent += (await uploadBlob(client, opts.repo, bufferSource(d, bytes, `signature of ${opts.digest}`), { ecr: opts.target.ecr })).bytesSent;
    }
  };
  await putManifestSettled(client, opts.repo, tag, manifest, MEDIA_TYPES.ociManifest, { resend });
  bytesSent += manifest.length;
  return { digest: opts.digest, identity: opts.identity, tag, upToDate: false, bytesSent };
}

export interface CheckedSignature {
  /** The payload layer's digest. */
  layer: string;
  valid: boolean;
  /** Why it does not count (bad signature, other digest, other repository). */
  reason?: string;
  /** The signature verifies with this key (whatever it names): false means made with another key, or damaged. */
  keyMatched?: boolean;
  payload?: SimpleSigning;
}

/** Whether `signature` (ASN.1 DER) is `key`'s ECDSA signature of `payload`; a malformed one is not. */
function verifies(payload: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return cryptoVerify('sha256', payload, { key, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

async function checkLayer(client: RegistryClient, repo: string, l: SigLayer, key: KeyObject, digest: string): Promise<CheckedSignature> {
  if (l.mediaType !== SIMPLESIGNING_MEDIA_TYPE) return { layer: l.digest, valid: false, reason: `media type ${l.mediaType}` };
  const b64 = l.annotations?.[SIGNATURE_ANNOTATION];
  if (!b64) return { layer: l.digest, valid: false, reason: `no ${SIGNATURE_ANNOTATION} annotation` };
  const payload = await readArtifactBlob(client, repo, l as Descriptor, MAX_PAYLOAD_BYTES);
  const signature = Buffer.from(b64, 'base64');
  if (!verifies(payload, key, signature)) return { layer: l.digest, valid: false, reason: 'the signature does not verify with this key' };
  const parsed = parseSimpleSigning(payload, `${client.host}/${repo} signature ${l.digest}`);
  if (parsed.manifestDigest !== digest) return { layer: l.digest, valid: false, keyMatched: true, reason: `signs ${parsed.manifestDigest}, not ${digest}`, payload: parsed };
  return { layer: l.digest, valid: true, keyMatched: true, payload: parsed };
}

export interface VerifyManifestOptions {
  client: RegistryClient;
  repo: string;
  digest: string;
  key: KeyObject;
  /** `registry/repo`: a signature counts only when it names this repository (containers' matchRepository). */
  repository?: string;
}

export interface VerifyManifestResult {
  digest: string;
  signatures: CheckedSignature[];
  /** At least one signature verifies with the key, signs this digest and names the repository. */
  verified: boolean;
}

/** Checks the cosign signatures of the manifest `digest` with `key`. */
export async function verifyManifest(opts: VerifyManifestOptions): Promise<VerifyManifestResult> {
  const { client, repo, digest } = opts;
  const layers = await readSignatureLayers(client, repo, signatureTag(digest));
  if (!layers) return { digest, signatures: [], verified: false };
  const signatures: CheckedSignature[] = [];
  for (const l of layers) {
    // One broken or hostile layer (too large, wrong digest, bad payload) does not hide the others.
    const s = await checkLayer(client, repo, l, opts.key, digest).catch((e: unknown): CheckedSignature => {
      if (e instanceof GamelayerError) return { layer: l.digest, valid: false, reason: e.message };
      throw e;
    });
    if (s.valid && opts.repository && repositoryOf(s.payload!.dockerReference) !== opts.repository) {
      signatures.push({ ...s, valid: false, reason: `signed as ${s.payload!.dockerReference}, not in ${opts.repository}` });
    } else signatures.push(s);
  }
  return { digest, signatures, verified: signatures.some((s) => s.valid) };
}

/** `host/repo:tag` → `host/repo`; undefined for a name that is not a reference. */
export function repositoryOf(ref: string): string | undefined {
  try {
    const r = parseReference(ref);
    return `${r.registry}/${r.repository}`;
  } catch {
    return undefined;
  }
}

