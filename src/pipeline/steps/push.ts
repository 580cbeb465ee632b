// Step push (after the build, composed by the CLI or a script): every image of a build (server first, then one per tree) from the local store to one repository,
// then the build record beside the server image, so the next build anywhere can diff against it.
// The server image carries every tree layer, so the tree images that follow find their blobs there and send
// only their sentinel layer, config and manifest; they share nothing else, so they go up side by side (against a
// distant registry their round trips, not their bytes, are the cost). One target serves all pushes: one ECR token,
// one repo check. The record goes last, once every image is there.
import { GamelayerError } from '../../errors.js';
import { buildTagClash } from '../../registry/reserved-tags.js';
import path from 'node:path';
import { openLayout, parseLayoutDocument, REF_NAME, type LayoutReader } from '../../oci/layout.js';
import { platformImages } from '../../oci/model.js';
import { abortable, stopIfAborted } from '../../util/abort.js';
import { lineTag, pushBuildRecord, recordTag, type LocalManifest, type PushBuildRecordResult } from '../../registry/artifact.js';
import type { ManifestInfo } from '../../registry/client.js';
import { pushImage, pushTargetFor, type BlobStripe, type PushImageOptions, type PushResult, type PushTarget } from '../../registry/push.js';
import { parseReference } from '../../registry/reference.js';
import { markPushed, recordForRegistry } from '../../state/records.js';
import { MEDIA_TREES, type BuildRecord, type Descriptor } from '../../types.js';
import type { RegistryPrevious } from './previous-types.js';
import { lineCopyDir } from '../../registry/line-copy.js';
import { withStoreRead } from '../../oci/store-holds.js';
import { stateUploadSessions } from '../../registry/upload-sessions.js';

export interface PushBuildOptions extends Omit<PushImageOptions, 'to' | 'image' | 'tags' | 'layout'> {
  store: string;
  record: BuildRecord;
  /**
   * A record blob this run already read and verified (`BuildResult.previousRecordRead`): not read again there; and
   * what the line tag named when the build asked (not asked again) and what the local copy of the line's record holds.
   */
  recordRead?: RegistryPrevious['recordRead'];
  /**
   * The target this run's build asked the registry through (`BuildResult.previousTarget`): used when it is this
   * push's repository, so the push goes on with the same client (no second ping, connections and token kept).
   */
  previousTarget?: { repository: string; target: PushTarget };
  /** `host[:port]/repo`; a tag or digest in it is refused (each image has its own tag). */
  repository: string;
  /** The game's `.gamelayer/`: the local records of this build then say where it was pushed. */
  stateDir?: string;
  /**
   * Every platform of the game (the config's), and how long to wait for the others' shares. A build of one of
   * several platforms shares its media layers with the other platforms' builds, which push at the same moment
   * from other hosts (a CodeBuild batch graph): each sends its own stripe of those layers, then waits up to
   * `mediaWaitMs` for the others' before sending what is still missing (see BlobStripe). Without a wait, none.
   */
  gamePlatforms?: string[];
  mediaWaitMs?: number;
}

/** The media layers this build shares with the builds of the game's other platforms, and this build's stripe. */
export function mediaStripe(record: BuildRecord, gamePlatforms: string[] | undefined, waitMs = 0): BlobStripe | undefined {
  if (!gamePlatforms || gamePlatforms.length < 2 || record.platforms.length !== 1 || waitMs <= 0) return undefined;
  const index = gamePlatforms.indexOf(record.platforms[0]!);
  if (index < 0) return undefined;
  const shared = new Set(record.layers.filter((l) => (MEDIA_TREES as readonly string[]).includes(l.tree)).map((l) => l.digest));
  return shared.size ? { shared, index, of: gamePlatforms.length, waitMs } : undefined;
}

/** How old the build's answers for tags may be for the push to take them instead of asking again. */
const TAG_ANSWER_MAX_AGE_MS = 30_000;

export interface PushBuildResult {
  repository: string;
  images: PushResult[];
  record: PushBuildRecordResult;
  bytesSent: number;
  blobs: PushResult['blobs'];
}

/**
 * The repositories of the target's registry to mount base layers from: a base image in this registry is mounted from
 * its repository, never downloaded and sent again; a base in another registry is tried under the same repository
 * name here (a studio keeps its base in each region's registry, and ECR replication keeps the name): a registry
 * that lacks it answers the mount with an upload, which goes on as one (on ECR, only blobs it says are there).
 */
export function baseMountSources(record: Pick<BuildRecord, 'bases'>, target: { registry: string; repository: string }, extra: readonly string[] = []): string[] {
  const bases = (record.bases ?? []).map((b) => parseReference(b.repository)).filter((b) => b.repository !== target.repository);
  // This registry's own first: a sure mount.
  const own = bases.filter((b) => b.registry === target.registry).map((b) => b.repository);
  const copies = bases.filter((b) => b.registry !== target.registry).map((b) => b.repository);
  // The studio's other games (`mountFrom:`) first: they hold the engine the base does not.
  return [...new Set([...extra, ...own, ...copies])].filter((r) => r !== target.repository);
}

/**
 * A build tagged `1.0.0-app` (build refuses such tags; a record of an older gamelayer may hold one) would replace
 * the app image of build 1.0.0 in the repository: refused before anything is written to it.
 */
export function refuseClashingBuildTag(record: Pick<BuildRecord, 'tags'>): void {
  const tag = record.tags[0]!;
  const clash = buildTagClash(tag);
  if (clash) {
    throw new GamelayerError('push.reserved-tag', `push of the build ${tag}: ${clash}`, 'build it again under a tag that does not end in -engine, -engine-media, -app or -app-media');
  }
}

/**
 * An older gamelayer could push a build tagged `1.0-app`, the form of build 1.0's app image tag: pushing build 1.0
 * would move that tag off the older build's server image (a spec pinning `REPO:1.0-app` would run a tree image).
 * Asked only for a tree tag the push would move (an unchanged tree asks nothing more), before any write.
 */
async function refuseReplacingOlderBuild(target: PushTarget, repo: string, serverTag: string, treeTags: string[], current: Map<string, ManifestInfo | undefined>, layout: LayoutReader): Promise<void> {
  const local = (tag: string) => layout.entries.find((d) => d.annotations?.[REF_NAME] === tag)?.digest;
  const moving = treeTags.filter((t) => current.get(t) && current.get(t)!.digest !== local(t));
  const records = await Promise.all(moving.map((t) => target.client.headManifest(repo, recordTag(t), 'push')));
  const taken = moving.find((_, i) => records[i]);
  if (taken) {
    throw new GamelayerError(
      'push.reserved-tag',
      `push of the build ${serverTag}: its image tag ${taken} is the image of the build ${taken} in ${repo} (its record ${recordTag(taken)}), which an older gamelayer pushed; this push would replace it`,
      `remove the build ${taken} first (gamelayer prune, or delete its tags) if nothing runs it, or build under another tag`,
    );
  }
}

/** Pushes holding the store as a reader: a gc waits instead of deleting the blobs being sent. */
export function pushBuild(opts: PushBuildOptions): Promise<PushBuildResult> {
  return abortable(opts.signal, 'push', opts.repository, () => withStoreRead(opts.store, () => pushBuildHeld(opts)));
}

async function pushBuildHeld(opts: PushBuildOptions): Promise<PushBuildResult> {
  const { store, repository, stateDir, gamePlatforms, mediaWaitMs, recordRead, previousTarget, ...rest } = opts;
  refuseClashingBuildTag(opts.record);
  const record = recordForRegistry(opts.record);
  const ref = parseReference(repository);
  if (ref.tag || ref.digest) {
    throw new GamelayerError(
      'push.repository-only',
      `${repository}: expected a repository without tag or digest`,
      `the build's images are tagged ${record.tags[0]} and ${record.tags[0]}-<tree>; use --tag to choose the tag`,
    );
  }
  const repo = `${ref.scheme ? `${ref.scheme}://` : ''}${ref.registry}/${ref.repository}`;
  // A prepared target (a multi-target push opened it already), else this repository's.
  const target = rest.target ?? (previousTarget && sameRepository(previousTarget.repository, ref) ? previousTarget.target : await pushTargetFor(ref, rest));
  const mountFrom = baseMountSources(record, ref, rest.mountFrom);
  const stripe = rest.stripe ?? mediaStripe(record, gamePlatforms, mediaWaitMs);
  const [serverTag, ...treeTags] = record.tags;
  // Every tag this push sets (images, record, line) is asked once, all at once: a no-op push is then one round of
  // HEADs (and one read of the record blob), not a sequence of checks image after image.
  // The line tag's answer from this run's lookup of the previous build, when it asked the same repository.
  const read = recordRead && sameRepository(recordRead.repository, ref) ? recordRead : undefined;
  const line = record.line ? lineTag(record.line) : undefined;
  // Only fresh answers: a tag is a moving name, and a long build gives another host time to move it.
  const fresh = (at: number) => Date.now() - at <= TAG_ANSWER_MAX_AGE_MS;
  const known = new Map<string, ManifestInfo | undefined>();
  if (read?.tagsNamed && fresh(read.tagsNamed.at)) for (const [t, named] of read.tagsNamed.answers) known.set(t, named);
  if (line && read?.lineTag && read.lineTag.tag === line && fresh(read.lineTag.at)) known.set(line, read.lineTag.named);
  const current = await currentTags(target, ref.repository, [...record.tags, recordTag(serverTag!), ...(line ? [line] : [])], known);
  // The layout read once for every image of the build (and the record's subject below).
  const layout = await openLayout(store);
  await refuseReplacingOlderBuild(target, ref.repository, serverTag!, treeTags, current, layout);
  // The server image's manifest and config, read (once) before anything is sent: a store missing them fails here,
  // with no tag of this build moved yet.
  const localSubject = await localManifest(layout, serverTag!);
  // The tree images' own blobs (their markers and configs; their layers are the server image's) are asked at once
  // and announced before the server image's uploads start: the push bar's total is then whole before its first
  // upload, with a stripe too (the stripes split the server image's media layers, which the tree images share).
  const treesMissing = await treeBlobsMissing(layout, target, ref.repository, serverTag!, treeTags, current);
  rest.reporter?.pushPlanned?.(treesMissing.bytes);
  // Layers the lookup found gone from this repository: the images holding them are pushed through even where their
  // tags name them already (a no-op after the registry lost a blob would otherwise leave manifests naming it).
  const lost = read?.lost?.length ? new Set(read.lost) : undefined;
  // Chunked uploads keep their sessions beside the records, so a push killed part-way is continued by the next.
  const uploadSessions = rest.uploadSessions ?? stateUploadSessions(stateDir);
  const push = (tag: string) =>
    pushImage({ ...rest, uploadSessions, stripe, game: rest.game ?? record.game, mountFrom, target, layout: store, layoutReader: layout, to: `${repo}:${tag}`, image: tag, current, ...(lost ? { lost } : {}), ...(tag !== serverTag ? { knownMissing: treesMissing.digests } : {}) });
  const server = await push(serverTag!);
  // Every push settles before an error is raised: none keeps running behind a failed command.
  const trees = await Promise.allSettled(treeTags.map(push));
  const failed = trees.find((t): t is PromiseRejectedResult => t.status === 'rejected');
  if (failed) throw failed.reason;
  const images = [server, ...trees.map((t) => (t as PromiseFulfilledResult<PushResult>).value)];
  // The record (and the line tag) name a build whose images are all there: not put once the caller stopped.
  stopIfAborted(opts.signal, 'push', repo);
  const recordResult = await pushBuildRecord({
    ...rest,
    target,
    to: repo,
    record,
    subject: { mediaType: server.mediaType, digest: server.digest, size: server.size },
    tags: [record.tags[0]!],
    line: record.line,
    current,
    localSubject,
    ...(read ? { verifiedRecordBlob: read.blob, recordBlobBytes: read.blobBytes } : {}),
    ...(stateDir ? { lineCopy: { dir: lineCopyDir(stateDir), holds: read?.copied } } : {}),
  });
  if (recordResult.repaired) {
    rest.reporter?.warn(`${repo}: the registry served damaged bytes for the build record blob ${recordResult.repaired.damaged}; the record went up again as ${recordResult.repaired.now} (same content)`);
  }
  if (stateDir) {
    // Only now, with every image and the record there: a deploy command trusts this entry.
    // With its region when known: k8s/ecs --region pick the copy by it (a host that does not name one, --ecr).
    await markPushed(stateDir, record, {
      repository: `${ref.registry}/${ref.repository}`,
      ...(target.region ? { region: target.region } : {}),
      images: record.tags.map((tag, i) => ({ name: i === 0 ? 'server' : tag.slice(record.tags[0]!.length + 1), digest: images[i]!.digest })),
      at: new Date().toISOString(),
    });
  }
  const blobs = { total: 0, skipped: 0, mounted: 0, uploaded: 0 };
  for (const r of images) for (const k of Object.keys(blobs) as (keyof typeof blobs)[]) blobs[k] += r.blobs[k];
  return {
    repository: server.repository,
    images,
    record: recordResult,
    // The record's blob too: what the registry received, not only the images' layers.
    bytesSent: images.reduce((n, r) => n + r.bytesSent, 0) + recordResult.bytesSent,
    blobs,
  };
}

function sameRepository(repository: string, ref: ReturnType<typeof parseReference>): boolean {
  const r = parseReference(repository);
  return r.registry === ref.registry && r.repository === ref.repository;
}

/** What each tag names in the repository now (undefined: no such tag), asked concurrently; `known` is not asked again. */
async function currentTags(target: PushTarget, repo: string, tags: string[], known?: ReadonlyMap<string, ManifestInfo | undefined>): Promise<Map<string, ManifestInfo | undefined>> {
  // First the ping (once per client): the auth learns the registry's scheme before the HEADs go out side by side.
  await target.client.ping();
  const asked = tags.filter((t) => !known?.has(t));
  const answers = await Promise.all(asked.map((t) => target.client.headManifest(repo, t, 'push')));
  return new Map([...tags.filter((t) => known?.has(t)).map((t): [string, ManifestInfo | undefined] => [t, known!.get(t)]), ...asked.map((t, i): [string, ManifestInfo | undefined] => [t, answers[i]])]);
}

/**
 * The image `tag` of the local store as its manifest bytes and its config, each read once (verified); a config
 * missing from the store is named (image, digest, file), not a bare ENOENT.
 */
async function localManifest(layout: LayoutReader, tag: string): Promise<LocalManifest> {
  const top = layout.entries.find((d) => d.annotations?.[REF_NAME] === tag);
  if (!top) throw new GamelayerError('layout.not-found', `${path.join(layout.dir, 'index.json')}: no image ${tag}`, 'build the image first (gamelayer build)');
  const { file, bytes } = await layout.document(top, `manifest of image ${tag}`, 'layout.missing-blob');
  const manifest = parseLayoutDocument<{ config?: Descriptor; manifests?: unknown }>(file, bytes, `manifest of image ${tag}`);
  const config = manifest.config && !manifest.manifests ? { digest: manifest.config.digest, bytes: (await layout.document(manifest.config, `config of image ${tag}`, 'layout.missing-blob')).bytes } : undefined;
  return {
    bytes,
    blob: async (digest) => {
      if (config?.digest !== digest) throw new GamelayerError('record.invalid', `${layout.dir}: ${tag} names no config ${digest}`);
      return config.bytes;
    },
  };
}

/**
 * The blobs of the tree images that are not the server image's and that the repository lacks, with their bytes: one
 * round of checks for all of them (none for an image its tag names already). The server image's blobs are there once
 * its push is done, so nothing else of a tree image needs asking.
 */
async function treeBlobsMissing(
  layout: LayoutReader,
  target: PushTarget,
  repo: string,
  serverTag: string,
  treeTags: string[],
  current: ReadonlyMap<string, ManifestInfo | undefined>,
): Promise<{ digests: ReadonlySet<string>; bytes: number }> {
  const blobsOf = async (tag: string) => {
    const image = await layout.image(tag, { allowMissing: true });
    return { digest: image.descriptor.digest, blobs: platformImages(image).flatMap((m) => [...m.layers, m.config]) };
  };
  // A tree image its tag already names in the registry is not pushed: not read here either (its push reads it), and
  // when every tree's tag is in place (a no-op) neither is the server image. What the layout's index names is what
  // a read by tag would give.
  const named = (tag: string) => layout.entries.find((d) => d.annotations?.[REF_NAME] === tag)?.digest;
  const pending = treeTags.filter((tag) => !(named(tag) !== undefined && current.get(tag)?.digest === named(tag)));
  const server = pending.length ? new Set((await blobsOf(serverTag)).blobs.map((b) => b.digest)) : new Set<string>();
  const extra = new Map<string, number>();
  for (const tag of pending) {
    const tree = await blobsOf(tag);
    if (current.get(tag)?.digest === tree.digest) continue;
    for (const b of tree.blobs) if (!server.has(b.digest)) extra.set(b.digest, b.size);
  }
  const missing = extra.size ? await target.availability.missing(repo, [...extra.keys()], extra) : new Set<string>();
  return { digests: missing, bytes: [...missing].reduce((n, d) => n + extra.get(d)!, 0) };
}
