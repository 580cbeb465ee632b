// Where a build's base image comes from: a local layout or archive (oci:, oci-archive:, docker-archive:, scratch), or
// a registry. A registry base is read with the push's options; the credentials given for the push (--username, or
// GAMELAYER_REGISTRY_USERNAME/PASSWORD) go only to the push's own registry, never to another host. When the base is in the registry the build pushes to, its layers
// are not stored: the push mounts them (or finds them there); they are streamed once only to read the folders above
// the mounts (oci/base-parents.ts).
import path from 'node:path';
import { configPosition, type GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { loadBaseImage, parseBaseRef, type BaseImage } from '../oci/base-image.js';
import { assertBaseLayerRoom } from '../oci/base-room.js';
import { parsePlatform } from '../oci/image.js';
import type { CredentialOptions } from '../registry/credentials.js';
import type { TargetOptions } from '../registry/push.js';
import { parseReference } from '../registry/reference.js';
import type { BuildRecord } from '../types.js';
import type { BaseMove } from './base-move.js';

export { baseMoveText, type BaseMove } from './base-move.js';

export interface BaseSource {
  load(platform: string): Promise<BaseImage>;
  /** The base is in the registry the build pushes to. */
  sameRegistry: boolean;
}

export async function baseLoader(config: GameConfig, opts: { push?: string; registry?: TargetOptions }): Promise<BaseSource> {
  const parsed = parseBaseRef(config.baseImage, config.dir);
  if (parsed.kind !== 'registry') {
    return {
      sameRegistry: false,
      load: (p) =>
        loadBaseImage(config.baseImage, { baseDir: config.dir, platform: parsePlatform(p) }).catch(async (e: unknown) => {
          throw await atLocalBaseField(config, e);
        }),
    };
  }
  const base = parseReference(parsed.ref);
  const push = opts.push ? parseReference(opts.push) : undefined;
  const sameRegistry = push !== undefined && push.registry === base.registry;
  const registry = opts.registry ?? {};
  const baseOptions: TargetOptions = sameRegistry ? registry : { ...registry, credentials: perHostCredentials(registry.credentials) };
  const { pullBaseImage } = await import('../registry/base-pull.js');
  return {
    sameRegistry,
    load: (p) =>
      pullBaseImage(parsed.ref, { ...baseOptions, platform: parsePlatform(p) }).catch(async (e: unknown) => {
        throw await atBaseImageField(config, e);
      }),
  };
}

/**
 * Credentials for a base in another registry than the push's: only what is kept per host (docker config.json, its
 * credential helpers, the ECR path). The pair given for the push, as --username or as GAMELAYER_REGISTRY_USERNAME and
 * GAMELAYER_REGISTRY_PASSWORD, is not sent there: the environment's pair went to whatever host gamelayer.yaml's
 * baseImage named (a Docker Hub base got a CI's private registry password).
 */
function perHostCredentials(given: TargetOptions['credentials']): CredentialOptions {
  const options = given && !('source' in given) ? given : {};
  const { GAMELAYER_REGISTRY_USERNAME: _user, GAMELAYER_REGISTRY_PASSWORD: _password, ...env } = options.env ?? process.env;
  return { ...(options.dockerConfigDir !== undefined ? { dockerConfigDir: options.dockerConfigDir } : {}), env };
}

/** The base image of each platform of a build, read once (before the plan needs it: a build reads it beside the scan). */
export interface LoadedBases {
  byPlatform: Map<string, BaseImage>;
  /** The base is in the registry the build pushes to. */
  sameRegistry: boolean;
}

export async function loadBases(config: GameConfig, opts: { push?: string; registry?: TargetOptions }, platforms: readonly string[]): Promise<LoadedBases> {
  const source = await baseLoader(config, opts);
  const byPlatform = new Map<string, BaseImage>();
  for (const p of platforms) {
    const base = await source.load(p);
    await assertBaseLayerRoom(config, base.layers.length);
    byPlatform.set(p, base);
  }
  return { byPlatform, sameRegistry: source.sameRegistry };
}

/**
 * A base the registry does not have (no such repository or tag) is a config error: named by the `baseImage` field
 * it came from (file, line), as config errors are, with a pinned digest suggested (a tag can move or go away).
 */
async function atBaseImageField(config: GameConfig, e: unknown): Promise<unknown> {
  const cause = e instanceof GamelayerError ? e.cause : undefined;
  if (!(e instanceof GamelayerError) || e.code !== 'base.pull' || !(cause instanceof GamelayerError) || cause.code !== 'registry.not-found') return e;
  return new GamelayerError(
    'base.pull',
    `${await configPosition(config.file, ['baseImage'])}: baseImage: ${e.message}`,
    'check the repository and tag of baseImage; pin it by digest (host/repo:tag@sha256:…) so that a tag that moves or goes away cannot change or break the build',
    { cause: e },
  );
}

/** Errors of a local base that is not there or no image (a wrong path in baseImage): named by the field, as config errors are. */
const LOCAL_BASE_MISSING = new Set(['base.unreadable', 'base.archive', 'store.not-layout', 'store.missing', 'base.tag']);

async function atLocalBaseField(config: GameConfig, e: unknown): Promise<unknown> {
  if (!(e instanceof GamelayerError) || !LOCAL_BASE_MISSING.has(e.code)) return e;
  return new GamelayerError(
    e.code,
    `${await configPosition(config.file, ['baseImage'])}: baseImage: ${e.message}`,
    e.hint ?? (e.code === 'base.tag' ? 'check the tag in baseImage (after the path: oci:DIR:TAG, oci-archive:FILE:TAG, docker-archive:FILE:NAME:TAG)' : undefined) ?? `check the path in baseImage (relative paths start at ${path.basename(config.file)}'s folder); make the base with skopeo copy docker://IMAGE ${config.baseImage.split(':')[0]}:…`,
    { cause: e },
  );
}

/**
 * Registry bases whose digest moved since `previous`: the same reference naming another image, or another reference
 * (gamelayer.yaml edited: a tag pinned by digest, another tag) naming another image, such as a digest pinned from
 * before a security patch. Reported, never silent.
 */
export function movedBases(previous: Pick<BuildRecord, 'bases'> | undefined, current: Pick<BuildRecord, 'bases'>): BaseMove[] {
  const out: BaseMove[] = [];
  for (const b of current.bases ?? []) {
    const same = previous?.bases?.find((x) => x.platform === b.platform && x.ref === b.ref);
    const before = same ?? previous?.bases?.find((x) => x.platform === b.platform);
    if (!before || before.digest === b.digest) continue;
    out.push({ platform: b.platform, ref: b.ref, from: before.digest, to: b.digest, ...(same ? {} : { fromRef: before.ref }) });
  }
  return out;
}

/** Where the registry base of `config` is now, against the digests `record` pinned (diff --against reports moves). */
export async function currentBaseMoves(config: GameConfig, record: Pick<BuildRecord, 'bases'>, registry: TargetOptions): Promise<BaseMove[]> {
  if (!record.bases?.length || parseBaseRef(config.baseImage, config.dir).kind !== 'registry') return [];
  const source = await baseLoader(config, { registry });
  const bases: NonNullable<BuildRecord['bases']> = [];
  // Where the config's base is now, whatever the record's was called (a reference edited since is a change too).
  for (const b of record.bases) {
    const now = await source.load(b.platform);
    bases.push({ ...b, ref: config.baseImage, digest: now.pinned!.digest });
  }
  return movedBases(record, { bases });
}
