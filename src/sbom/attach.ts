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
import { listReferrers, pushReferrer, readArtifact, referrerArtifact, removeReferrer, type ArtifactManifest, type PushReferrerResult, type Referrers } from '../registry/referrers.js';
import { TREE_NAMES, type Descriptor, type TreeName } from '../types.js';
import { gamelayerVersion } from '../version.js';
import { makeSbom, SBOM_FORMAT, SBOM_MEDIA_TYPE, type BaseImageInfo, type Sbom, type SbomInput, type SbomRecord } from './cyclonedx.js';
import { checkSbomFile, downloadCheckedBlob, readBlobHead } from './sbom-read.js';
import { digestReplacing, SBOM_HEAD_BYTES, writeSbomFile, type SbomFile } from './sbom-file.js';
import { madeSbom, rememberMadeSbom } from './made-sboms.js';
import { refuseSeveralSboms } from './one-sbom.js';

export const SBOM_ARTIFACT_TYPE = SBOM_MEDIA_TYPE;
/** An SBOM lists every file of a game: large, but not unbounded. */
const MAX_SBOM_BYTES = 1024 ** 3;

/** An SBOM made by the library: the document and the key `pushSbom` annotates it with (what builds recognise it by). */
export type BuildSbom = Sbom & { subject: Descriptor; key: string };

/** The SBOM of a build that is in the local store (the record's server image as subject), in memory. */
export async function makeBuildSbom(config: GameConfig, store: OciStore, record: SbomRecord): Promise<BuildSbom> {
  const input = await buildSbomInput(config, store, record);
  const sbom = await makeSbom(input);
  return { ...sbom, subject: input.subject, key: sbomKey(input) };
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
  /** SBOMs under gamelayer's key annotation taken off the image, this one kept (`replaceOtherSboms`). */
  replaced: string[];
}

/** Removes the signatures of a manifest deleted (an SBOM replaced); sign/ does, which sbom/ does not import. */
export type RemoveSignatures = (digest: string) => Promise<unknown>;

export interface AttachSbomOptions {
  /** Whether this key already signed the SBOM artifact (the build signs what it keeps). */
  vouch?: (artifact: string) => Promise<boolean>;
  fetchLayers?: SbomInput['fetchLayers'];
  /** Called for each replaced SBOM whose manifest was deleted: its `.sig` tag would sign a manifest that is gone. */
  removeSignatures?: RemoveSignatures;
}

/**
 * Attaches the build's SBOM to its server image in `repo`: an SBOM of the same image made from the same inputs
 * (its key) already attached is reused, so a new tag of the same content sends nothing and makes nothing; else the
 * document is written into a temp file of the store, one tree's files at a time, and uploaded from there.
 *
 * With `vouch` (the build signs what it keeps) the key annotation is not enough: anyone who may push can attach a
 * well-formed document of this image under it, and the build signed it. A candidate is reused only when this key
 * already signed it (a build signed it, having made it or checked it so) or it is byte for byte the document this
 * build makes: this gamelayer made that artifact here from the same inputs (made-sboms.ts), or the build makes the
 * document (it is deterministic) and compares digests; one an earlier gamelayer made differs in the version
 * `metadata.tools` names alone, so the document made is hashed with that version in its place and compared too. Any
 * other SBOM under gamelayer's key annotation is then replaced. Without `vouch` the annotation is enough: an unsigned SBOM vouches for
 * nothing, and checking it would make the document on every no-op.
 */
export async function attachBuildSbom(
  config: GameConfig,
  store: OciStore,
  record: SbomRecord,
  target: PushTarget,
  repo: string,
  opts: AttachSbomOptions = {},
): Promise<AttachedSbom> {
  const input = { ...(await buildSbomInput(config, store, record)), ...(opts.fetchLayers ? { fetchLayers: opts.fetchLayers } : {}) };
  const key = sbomKey(input);
  const found = await listReferrers(target.client, repo, input.subject.digest, SBOM_ARTIFACT_TYPE);
  const artifacts: ArtifactsRead = new Map();
  const candidates = await reusable(target, repo, input.subject.digest, key, found, artifacts);
  // With vouch: one this key signed as a build, else the one this gamelayer made here from the same inputs (made-sboms.ts).
  const madeHere = opts.vouch && candidates.length ? await madeSbom(config.stateDir, key) : undefined;
  const trusted = opts.vouch ? ((await firstAsync(candidates, (c) => opts.vouch!(c.digest))) ?? candidates.find((c) => c.digest === madeHere)) : candidates[0];
  if (trusted) {
    // Without vouch only SBOMs under another key go (the one kept is taken on its annotation); with it, the one kept
    // is this key's: the others are not the document it signed.
    const replaced = await replaceOtherSboms(target, repo, input.subject.digest, found, trusted.digest, opts.vouch ? undefined : key, opts.removeSignatures, artifacts);
    return { digest: trusted.digest, upToDate: true, bytesSent: 0, via: found.via, bytes: trusted.bytes, files: trusted.files, replaced };
  }
  const sbom = await writeSbomFile(input, store.tempPath());
  try {
    const artifact = sbomArtifact(input.subject, key, sbom.files, { source: sbom.source });
    const earlier = opts.vouch && !candidates.some((c) => c.digest === artifact.descriptor.digest) ? await madeByEarlierGamelayer(input, key, candidates, sbom, target, repo, found.via) : undefined;
    const kept = earlier ?? { ...(await pushReferrer(target, repo, artifact)), bytes: sbom.size, files: sbom.files };
    // Remembered once it is in the registry, and only as the artifact made here: not one an earlier gamelayer made.
    if (kept.digest === artifact.descriptor.digest) await rememberMadeSbom(config.stateDir, key, artifact.descriptor.digest);
    return { ...kept, replaced: await replaceOtherSboms(target, repo, input.subject.digest, found, kept.digest, undefined, opts.removeSignatures, artifacts) };
  } finally {
    await sbom.remove();
  }
}

/** An SBOM artifact under this build's key that is whole: its document's blob is in the repository. */
interface Candidate {
  digest: string;
  layer: Descriptor;
  bytes: number;
  files: number;
}

/** The artifact manifests of listed SBOMs read so far, by digest (undefined: not readable as one of the subject). */
type ArtifactsRead = Map<string, ArtifactManifest | undefined>;

/** The listed artifact `digest` of `subject`, read once: `read` keeps it for the next asking. */
async function artifactOnce(target: PushTarget, repo: string, digest: string, subject: string, read: ArtifactsRead | undefined): Promise<ArtifactManifest | undefined> {
  if (read?.has(digest)) return read.get(digest);
  const artifact = await readArtifact(target.client, repo, digest, subject).catch(() => undefined);
  read?.set(digest, artifact);
  return artifact;
}

/** The SBOMs of `subject` annotated with `key` whose artifact reads back so (newest first); each read kept in `read`. */
async function reusable(target: PushTarget, repo: string, subject: string, key: string, found: Referrers, read: ArtifactsRead): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (const d of found.manifests) {
    if (d.annotations?.[SBOM_KEY] !== key) continue;
    const artifact = await artifactOnce(target, repo, d.digest, subject, read);
    const layer = artifact?.layers.find((l) => l.mediaType === SBOM_MEDIA_TYPE);
    const files = Number(artifact?.annotations?.[SBOM_FILES]);
    if (!artifact || artifact.annotations?.[SBOM_KEY] !== key || !layer || !Number.isSafeInteger(files)) continue;
    if ((await target.availability.missing(repo, [layer.digest])).size) continue;
    out.push({ digest: d.digest, layer: layer as Descriptor, bytes: layer.size, files });
  }
  return out;
}

async function firstAsync<T>(items: readonly T[], test: (item: T) => Promise<boolean>): Promise<T | undefined> {
  for (const item of items) if (await test(item)) return item;
  return undefined;
}

/**
 * A candidate that is the document an earlier gamelayer made of the same inputs (the same key: the same rules), byte
 * for byte: its `metadata.tools` names that version, read from the document's start (a ranged GET), and this build's
 * document `sbom` with that version in its tools entry (the one place a version is written) is hashed and compared.
 * Reused (the upgrade makes no second SBOM, nor its document a second time); else undefined.
 */
async function madeByEarlierGamelayer(
  input: SbomInput & { subject: Descriptor },
  key: string,
  candidates: Candidate[],
  sbom: SbomFile,
  target: PushTarget,
  repo: string,
  via: Referrers['via'],
): Promise<Omit<AttachedSbom, 'replaced'> | undefined> {
  for (const c of candidates) {
    // Another version's document differs from this one's by the version string alone: one of another size is not
    // read (anyone who may push could list many large ones).
    if (Math.abs(c.bytes - sbom.size) > MAX_VERSION_LENGTH) continue;
    const head = await readBlobHead(target.client, repo, c.layer, SBOM_HEAD_BYTES).catch((e: unknown) => {
      if (e instanceof GamelayerError && /^(sbom|referrers)\./.test(e.code)) return undefined;
      throw e;
    });
    const version = head && toolVersionIn(head);
    // This gamelayer's own document was compared already.
    if (!version || version === gamelayerVersion()) continue;
    const theirs = await digestReplacing(sbom, toolsEntry(gamelayerVersion()), toolsEntry(version));
    // Only the artifact's digest is compared: this source is never uploaded.
    if (theirs && sbomArtifact(input.subject, key, sbom.files, { source: { ...sbom.source, ...theirs } }).descriptor.digest === c.digest) {
      return { digest: c.digest, upToDate: true, bytesSent: 0, via, bytes: c.bytes, files: c.files };
    }
  }
  return undefined;
}

/** The longest version string an earlier gamelayer's document is looked for with. */
const MAX_VERSION_LENGTH = 64;

/** The start of a document's tools entry naming gamelayer `version`, as written (metadata.tools). */
function toolsEntry(version: string): string {
  return `"tools":{"components":[{"type":"application","name":"gamelayer","version":${JSON.stringify(version)}`;
}

/** The version of gamelayer a document's `metadata.tools` names, from its first bytes (metadata comes first). */
function toolVersionIn(head: Buffer): string | undefined {
  return /"tools":\{"components":\[\{"type":"application","name":"gamelayer","version":"([^"\\]{1,64})"/.exec(head.toString('utf8'))?.[1];
}

/** The one artifact an SBOM document goes up as, from build and from the library's pushSbom: its key and file count annotated. */
function sbomArtifact(subject: Descriptor, key: string, files: number, blob: { bytes: Buffer } | { source: SbomFile['source'] }) {
  return referrerArtifact({
    artifactType: SBOM_ARTIFACT_TYPE,
    subject,
    blobs: [{ mediaType: SBOM_MEDIA_TYPE, ...blob, annotations: { 'org.opencontainers.image.title': 'sbom.cdx.json' } }],
    annotations: { [SBOM_FILES]: String(files), [SBOM_KEY]: key },
  });
}

/**
 * The SBOMs gamelayer attached to `subject` (its key annotation, on the listing and the artifact: an SBOM artifact of
 * `subject`) other than `kept`, taken off it once `kept` is there:
 * an image carries one SBOM (one-sbom.ts). `keepKey`: those under that key stay (the build kept one on its annotation
 * alone). An SBOM without the annotation is not gamelayer's: left for sign and verify to refuse, naming it. Those a
 * registry will not delete stay listed, and are refused the same way; a deleted one's signatures go after it (a run
 * killed between the two leaves a signature of a manifest that is gone, which prune finds by its tag).
 */
async function replaceOtherSboms(
  target: PushTarget,
  repo: string,
  subject: string,
  found: Referrers,
  kept: string,
  keepKey: string | undefined,
  removeSignatures: RemoveSignatures | undefined,
  read?: ArtifactsRead,
): Promise<string[]> {
  const other = found.manifests.filter((d) => d.digest !== kept && typeof d.annotations?.[SBOM_KEY] === 'string' && d.annotations[SBOM_KEY] !== keepKey);
  const replaced: string[] = [];
  for (const d of other) {
    // The referrers tag index is anyone's to write: an entry may name any manifest (an image) with the annotation.
    // Only an SBOM artifact of this image under gamelayer's annotation is deleted; what else is listed stays.
    const artifact = await artifactOnce(target, repo, d.digest, subject, read);
    if (artifact?.artifactType !== SBOM_ARTIFACT_TYPE || typeof artifact.annotations?.[SBOM_KEY] !== 'string' || artifact.annotations[SBOM_KEY] === keepKey) continue;
    const gone = await removeReferrer(target.client, repo, subject, d.digest, found.via);
    if (gone.unlisted) replaced.push(d.digest);
    if (gone.deleted) await removeSignatures?.(d.digest);
  }
  return replaced;
}

/** The server image of a record: its index when several platforms were built, else its one manifest. */
export function serverImage(record: SbomRecord): { mediaType: string; digest: string } {
  const server = record.images.filter((i) => i.name === 'server');
  const top = server.find((i) => i.platform === undefined) ?? (server.length === 1 ? server[0] : undefined);
  if (!top) throw new GamelayerError('sbom.no-image', 'the build record names no server image');
  return { mediaType: top.mediaType, digest: top.digest };
}

/**
 * Attaches `sbom` (from makeBuildSbom) to the image `subject`, as `build --push --sbom` attaches its own: the same artifact
 * (its key annotated, so a build recognises and reuses it), and the SBOMs gamelayer attached before under its key
 * annotation replaced (`removeSignatures`: what removes a replaced one's signatures).
 */
export async function attachSbom(
  target: PushTarget,
  repo: string,
  subject: Descriptor,
  sbom: Sbom & { key: string },
  opts: { removeSignatures?: RemoveSignatures } = {},
): Promise<AttachedSbom> {
  const found = await listReferrers(target.client, repo, subject.digest, SBOM_ARTIFACT_TYPE);
  const pushed = await pushReferrer(target, repo, sbomArtifact(subject, sbom.key, sbom.files, { bytes: sbom.bytes }));
  const replaced = await replaceOtherSboms(target, repo, subject.digest, found, pushed.digest, undefined, opts.removeSignatures);
  return { ...pushed, bytes: sbom.bytes.length, files: sbom.files, replaced };
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
