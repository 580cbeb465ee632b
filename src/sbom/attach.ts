// The SBOM travels as an OCI referrer of the server image (artifactType = CycloneDX JSON), found through the
// referrers API or the referrers tag schema; `gamelayer sbom REF` reads it back, checked against its digest, the
// CycloneDX schema and the image it claims to describe.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { loadBaseImage, parseBaseRef } from '../oci/base-image.js';
import { parsePlatform } from '../oci/image.js';
import type { OciStore } from '../oci/store.js';
import { pushTargetFor, type PushTarget, type TargetOptions } from '../registry/push.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { listReferrers, pushReferrer, readArtifact, referrerArtifact, removeReferrer, type PushReferrerResult, type Referrers } from '../registry/referrers.js';
import { TREE_NAMES, type Descriptor, type TreeName } from '../types.js';
import { makeSbom, SBOM_FORMAT, SBOM_MEDIA_TYPE, type BaseImageInfo, type Sbom, type SbomInput, type SbomRecord } from './cyclonedx.js';
import { checkSbomFile, downloadCheckedBlob } from './sbom-read.js';
import { writeSbomFile } from './sbom-file.js';
import { refuseSeveralSboms } from './one-sbom.js';

export const SBOM_ARTIFACT_TYPE = SBOM_MEDIA_TYPE;
/** An SBOM lists every file of a game: large, but not unbounded. */
const MAX_SBOM_BYTES = 1024 ** 3;

/** The SBOM of a build that is in the local store (the record's server image as subject), in memory. */
export async function makeBuildSbom(config: GameConfig, store: OciStore, record: SbomRecord): Promise<Sbom & { subject: Descriptor }> {
  const input = await buildSbomInput(config, store, record);
  const sbom = await makeSbom(input);
  return { ...sbom, subject: input.subject };
}

/** What the SBOM of a build is made from. */
async function buildSbomInput(config: GameConfig, store: OciStore, record: SbomRecord): Promise<SbomInput & { subject: Descriptor }> {
  const top = serverImage(record);
  const subject: Descriptor = { ...top, size: (await store.readBlob(top.digest)).length };
  const base: BaseImageInfo[] = [];
  const inRegistry = parseBaseRef(config.baseImage, config.dir).kind === 'registry';
  for (const platform of record.platforms) {
    if (inRegistry) {
      base.push(registryBase(config.baseImage, record, platform));
      continue;
    }
    const b = await loadBaseImage(config.baseImage, { baseDir: config.dir, platform: parsePlatform(platform) });
    base.push({ ref: config.baseImage, digest: b.digest, platform, layers: b.layers.map((l) => l.digest) });
  }
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
  return { record, store, stateDir: config.stateDir, mounts, subject, base };
}

/**
 * A base image in a registry, as the build pinned it: its digest from the record's `bases`, its layers the first ones
 * of the server image. Read again from the base loader it was refused ("reads local bases only") after the push.
 */
function registryBase(ref: string, record: SbomRecord, platform: string): BaseImageInfo {
  const pinned = record.bases?.find((b) => b.platform === platform);
  const server = record.images.find((i) => i.name === 'server' && i.platform === platform && i.layers);
  if (!pinned || !server?.layers || server.layers.length < pinned.layers) {
    throw new GamelayerError('sbom.base', `the build record of ${record.tags[0]} does not pin the registry base image "${ref}" for ${platform} (bases, images)`, 'build again with this gamelayer, then attach the SBOM');
  }
  return { ref, digest: pinned.digest, platform, layers: server.layers.slice(0, pinned.layers).map((l) => l.digest) };
}

/** Annotation of an SBOM artifact: the key of what its document was made from (see `sbomKey`). */
const SBOM_KEY = 'dev.gamelayer.sbom.key';
const SBOM_FILES = 'dev.gamelayer.sbom.files';

/**
 * What an SBOM's content is a function of, hashed: the image (its digest fixes every file's bytes), the trees'
 * digests (their file lists), the game's name and version, the mounts, the base images and SBOM_FORMAT (the rules
 * the document is made by). An SBOM artifact of the same image carrying the same key holds the same content: it is
 * reused, not made again.
 *
 * Not gamelayer's version (the document's tools entry names the one that made it): with it in the key, every upgrade
 * made a new document for an unchanged image and attached it beside the one there, two SBOMs a reader cannot choose
 * between. The rule: the key changes only when what the document says changes (bump SBOM_FORMAT when the rules of
 * making it change), and the SBOM made then replaces the one attached before (`replaceOlderSboms`), not beside it.
 */
export function sbomKey(input: SbomInput): string {
  const { record } = input;
  const what = {
    format: SBOM_FORMAT,
    game: record.game,
    version: record.version ?? null,
    subject: [input.subject.digest, input.subject.mediaType],
    trees: record.manifests.map((m) => [m.tree, m.platform ?? null, m.digest]),
    mounts: TREE_NAMES.map((t) => input.mounts[t]),
    base: input.base.map((b) => [b.ref, b.digest ?? null, b.platform, b.layers]),
  };
  return `sha256:${createHash('sha256').update(JSON.stringify(what)).digest('hex')}`;
}

export interface AttachedSbom extends PushReferrerResult {
  /** Size of the document. */
  bytes: number;
  files: number;
  /** SBOMs an earlier gamelayer attached to the image under another key, taken off it (`replaceOlderSboms`). */
  replaced: string[];
}

/**
 * Attaches the build's SBOM to its server image in `repo`: an SBOM of the same image made from the same inputs
 * (its key) already attached is reused, so a new tag of the same content sends nothing and makes nothing; else the
 * document is written into a temp file of the store, one tree's files at a time, and uploaded from there.
 * With `vouch` (the build signs what this returns), a candidate is reused only when `vouch` says this key already
 * signed it (it was read when it was signed) or it is read and passes `verify`'s checks (digest, CycloneDX schema, the
 * image it names): anyone who may push can attach a document under the same key annotation. Without it the
 * annotation is enough: an unsigned SBOM vouches for nothing, and reading it would download it on every no-op.
 */
export async function attachBuildSbom(
  config: GameConfig,
  store: OciStore,
  record: SbomRecord,
  target: PushTarget,
  repo: string,
  opts: { vouch?: (artifact: string) => Promise<boolean>; fetchLayers?: SbomInput['fetchLayers'] } = {},
): Promise<AttachedSbom> {
  const input = { ...(await buildSbomInput(config, store, record)), ...(opts.fetchLayers ? { fetchLayers: opts.fetchLayers } : {}) };
  const key = sbomKey(input);
  const found = await listReferrers(target.client, repo, input.subject.digest, SBOM_ARTIFACT_TYPE);
  const attached = await reuseOrAttach(input, key, found, store, target, repo, opts);
  const replaced = await replaceOlderSboms(target, repo, input.subject.digest, found, key, attached.digest);
  return { ...attached, replaced };
}

/**
 * The SBOMs gamelayer attached to `subject` under another key (an earlier format, or a gamelayer whose key held its
 * version), taken off it once this build's is there: an image carries one SBOM (one-sbom.ts), so the new one replaces
 * them rather than sitting beside them. One without the key annotation is not gamelayer's: left for sign and verify
 * to refuse, naming it. Those a registry will not delete stay listed, and are refused the same way.
 */
async function replaceOlderSboms(target: PushTarget, repo: string, subject: string, found: Referrers, key: string, kept: string): Promise<string[]> {
  const older = found.manifests.filter((d) => d.digest !== kept && typeof d.annotations?.[SBOM_KEY] === 'string' && d.annotations[SBOM_KEY] !== key);
  const replaced: string[] = [];
  for (const d of older) if (await removeReferrer(target.client, repo, subject, d.digest, found.via)) replaced.push(d.digest);
  return replaced;
}

/** This build's SBOM: one attached under `key` reused (see attachBuildSbom), else made and attached. */
async function reuseOrAttach(
  input: SbomInput & { subject: Descriptor },
  key: string,
  found: Referrers,
  store: OciStore,
  target: PushTarget,
  repo: string,
  opts: { vouch?: (artifact: string) => Promise<boolean> },
): Promise<Omit<AttachedSbom, 'replaced'>> {
  for (const d of found.manifests) {
    if (d.annotations?.[SBOM_KEY] !== key) continue;
    const artifact = await readArtifact(target.client, repo, d.digest, input.subject.digest).catch(() => undefined);
    const layer = artifact?.layers.find((l) => l.mediaType === SBOM_MEDIA_TYPE);
    const files = Number(artifact?.annotations?.[SBOM_FILES]);
    if (!artifact || artifact.annotations?.[SBOM_KEY] !== key || !layer || !Number.isSafeInteger(files)) continue;
    if ((await target.availability.missing(repo, [layer.digest])).size) continue;
    // To be signed: read whole (the bytes its digest names, a CycloneDX document of this image) unless already signed
    // by this key; a damaged or foreign one is not reused.
    if (!opts.vouch || (await opts.vouch(d.digest)) || (await sbomIntact(target, repo, d.digest, input.subject.digest, found.via))) return { digest: d.digest, upToDate: true, bytesSent: 0, via: found.via, bytes: layer.size, files };
  }
  const sbom = await writeSbomFile(input, store.tempPath());
  try {
    const artifact = referrerArtifact({
      artifactType: SBOM_ARTIFACT_TYPE,
      subject: input.subject,
      blobs: [{ mediaType: SBOM_MEDIA_TYPE, source: sbom.source, annotations: { 'org.opencontainers.image.title': 'sbom.cdx.json' } }],
      annotations: { [SBOM_FILES]: String(sbom.files), [SBOM_KEY]: key },
    });
    return { ...(await pushReferrer(target, repo, artifact)), bytes: sbom.size, files: sbom.files };
  } finally {
    await sbom.remove();
  }
}

/**
 * Whether the SBOM artifact `digest` passes `readSbomFile`'s checks; its document's own faults say no, a registry or
 * network failure is thrown. Checked in a temp file a piece at a time (a 1M-file game's SBOM is 208 MiB).
 */
async function sbomIntact(target: PushTarget, repo: string, digest: string, subject: string, via: FoundSbom['via']): Promise<boolean> {
  return withTempFile((file) => readSbomFile(target, repo, digest, subject, via, file)).then(
    () => true,
    (e: unknown) => {
      if (e instanceof GamelayerError && /^(sbom|referrers)\./.test(e.code)) return false;
      throw e;
    },
  );
}

/** The server image of a record: its index when several platforms were built, else its one manifest. */
export function serverImage(record: SbomRecord): { mediaType: string; digest: string } {
  const server = record.images.filter((i) => i.name === 'server');
  const top = server.find((i) => i.platform === undefined) ?? (server.length === 1 ? server[0] : undefined);
  if (!top) throw new GamelayerError('sbom.no-image', 'the build record names no server image');
  return { mediaType: top.mediaType, digest: top.digest };
}

export async function pushSbom(target: PushTarget, repo: string, subject: Descriptor, sbom: Sbom): Promise<PushReferrerResult & { bytes: number }> {
  const artifact = referrerArtifact({
    artifactType: SBOM_ARTIFACT_TYPE,
    subject,
    blobs: [{ mediaType: SBOM_MEDIA_TYPE, bytes: sbom.bytes, annotations: { 'org.opencontainers.image.title': 'sbom.cdx.json' } }],
    annotations: { [SBOM_FILES]: String(sbom.files) },
  });
  return { ...(await pushReferrer(target, repo, artifact)), bytes: sbom.bytes.length };
}

export interface FoundSbom {
  /** The CycloneDX JSON as stored. */
  bytes: Buffer;
  /** The image it describes. */
  subject: string;
  /** The SBOM artifact's manifest digest (what a signature of the SBOM signs). */
  digest: string;
  via: 'referrers' | 'tag';
}

/** Resolves `ref` (tag or digest) to an image digest in its registry. */
export async function resolveImage(ref: string, opts: TargetOptions & { target?: PushTarget } = {}) {
  const r = parseReference(ref);
  const target = opts.target ?? (await pushTargetFor(r, opts));
  const name = formatReference(r);
  let digest = r.digest;
  if (!digest) {
    if (!r.tag) throw new GamelayerError('sbom.reference', `${name}: which image? give a tag or a digest`);
    const head = await target.client.headManifest(r.repository, r.tag);
    // Shared by sbom, sign and verify: the registry's code, not one command's.
    if (!head?.digest) {
      throw new GamelayerError('registry.no-image', `${name}: no such image in ${target.client.host}/${r.repository}`, `check the tag: gamelayer ls ${target.client.host}/${r.repository} lists the repository's tags`);
    }
    digest = head.digest;
  }
  return { ref: r, target, repo: r.repository, name, digest };
}

/** The SBOM attached to the image `ref`, verified (digest, CycloneDX schema, the image it names). */
export async function fetchSbom(ref: string, opts: TargetOptions & { target?: PushTarget } = {}): Promise<FoundSbom> {
  return withTempFile(async (file) => {
    const found = await fetchSbomFile(ref, file, opts);
    return { ...withoutFile(found), bytes: await readFile(file) };
  });
}

/** An SBOM left in a file (of `size` bytes) once checked, instead of held (a 1M-file game's is about 270 MB). */
export type FoundSbomFile = Omit<FoundSbom, 'bytes'> & { file: string; size: number };

/** `fetchSbom` into `file` (created; the caller removes it, whatever happens), checked a piece at a time. */
export async function fetchSbomFile(ref: string, file: string, opts: TargetOptions & { target?: PushTarget } = {}): Promise<FoundSbomFile> {
  const { target, repo, name, digest } = await resolveImage(ref, opts);
  const { client } = target;
  const found = await listReferrers(client, repo, digest, SBOM_ARTIFACT_TYPE);
  const first = found.manifests[0];
  if (!first) {
    throw new GamelayerError(
      'sbom.not-found',
      `${name}: no SBOM attached to ${digest} (${found.via === 'referrers' ? 'the referrers API lists none' : `no ${SBOM_ARTIFACT_TYPE} in the referrers tag ${digest.replace(':', '-')}`})`,
      (await platformSbomHint(target, repo, digest)) ?? 'build with --push REPO --sbom to attach one',
    );
  }
  refuseSeveralSboms(name, `${client.host}/${repo}`, digest, found);
  return readSbomFile(target, repo, first.digest, digest, found.via, file);
}

/**
 * A merged multi-platform build carries its SBOMs on its platform manifests, not on the index: "build with --sbom"
 * sent a user who had done so to build again. Names the platform manifests to ask instead.
 */
export async function platformSbomHint(target: PushTarget, repo: string, digest: string): Promise<string | undefined> {
  const m = await target.client.getManifestIfExists(repo, digest).catch(() => undefined);
  if (!m) return undefined;
  let doc: { mediaType?: string; manifests?: { digest?: string; platform?: { os?: string; architecture?: string; variant?: string } }[] };
  try {
    doc = JSON.parse(m.bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(doc.manifests) || doc.manifests.length === 0) return undefined;
  const refs = doc.manifests
    .filter((d) => typeof d.digest === 'string' && d.platform?.os && d.platform.architecture)
    .map((d) => `gamelayer sbom ${target.client.host}/${repo}@${d.digest} (${[d.platform!.os, d.platform!.architecture, d.platform!.variant].filter(Boolean).join('/')})`);
  if (!refs.length) return undefined;
  return `a multi-platform index: the SBOMs of a merged build are attached to its platform manifests (build --platform P --push REPO --sbom): ${refs.join('; ')}`;
}

/**
 * The SBOM artifact `artifactDigest`'s document downloaded into `file` (created), checked against its digest before
 * anything reads it, then against the CycloneDX schema and the image it names, a piece at a time (sbom-read.ts).
 */
export async function readSbomFile(target: PushTarget, repo: string, artifactDigest: string, subject: string, via: FoundSbom['via'], file: string): Promise<FoundSbomFile> {
  const { client } = target;
  const artifact = await readArtifact(client, repo, artifactDigest, subject);
  const where = `${client.host}/${repo}@${artifactDigest}`;
  const layer = artifact.layers.find((l) => l.mediaType === SBOM_MEDIA_TYPE);
  if (artifact.artifactType !== SBOM_ARTIFACT_TYPE || !layer) throw new GamelayerError('sbom.invalid', `${where} is not a CycloneDX SBOM artifact`);
  await downloadCheckedBlob(client, repo, layer as Descriptor, file, MAX_SBOM_BYTES);
  const doc = await checkSbomFile(file, where);
  const claimed = (doc as { metadata?: { component?: { properties?: { name: string; value: string }[] } } }).metadata?.component?.properties?.find(
    (p) => p.name === 'dev.gamelayer:image.digest',
  )?.value;
  if (claimed && claimed !== subject) {
    throw new GamelayerError('sbom.invalid', `${where}: the SBOM describes image ${claimed}, but is attached to ${subject}`);
  }
  return { file, size: layer.size, subject, digest: artifactDigest, via };
}

function withoutFile(f: FoundSbomFile): Omit<FoundSbom, 'bytes'> {
  const { file: _file, size: _size, ...rest } = f;
  return rest;
}

/** Runs `fn` with the path of a temp file that does not exist yet, removed after. */
export async function withTempFile<T>(fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gamelayer-sbom-'));
  try {
    return await fn(path.join(dir, 'sbom.cdx.json'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
