// Per-platform builds that merge: each platform's host builds and pushes its images under `<tag>-<os>-<arch>`
// (with its record), and one last step assembles the multi-platform indexes (`<tag>`, `<tag>-<tree>`) and a merged
// build record from what they pushed. Nothing is put before every platform build is found, their shared media
// trees agree and every child manifest is confirmed in the repository; the indexes go up before the record, the
// record (which moves the line's tag) last.
import { GamelayerError } from '../errors.js';
import { formatPlatform, imageIndex, parsePlatform } from '../oci/image.js';
import { lastBuildFile, localRecord, markPushed, readBuildRecord } from '../state/records.js';
import { recordLastBuild } from '../state/last-build-point.js';
import { dropLegacyRecord, moveOtherStoresRecord, storeRecordFile } from '../state/record-name.js';
import { MEDIA_TREES, SERVER_IMAGE, TREE_NAMES, type BuildRecord, type BuiltLayer, type Descriptor, type TreeManifest } from '../types.js';
import { fetchBuildRecordFor, pushBuildRecord, type PushBuildRecordResult } from './artifact.js';
import { MEDIA_TYPES } from './client.js';
import { putManifestSettled } from './manifest-put.js';
import { buildTagClash } from './reserved-tags.js';
import { pushTargetFor, type TargetOptions } from './connect.js';
import type { PushTarget } from './target.js';
import { parseReference } from './reference.js';
import { getSizedBlob } from './small-blob.js';
import type { RegistryClient } from './client.js';
import path from 'node:path';
import { sha256Digest } from '../oci/layout.js';
import { olderFirst } from '../util/instant.js';

/** The tag a build of one platform pushes its server image under: `<tag>-linux-arm64` (its trees add `-<tree>`). */
export function platformTag(tag: string, platform: string): string {
  return `${tag}-${platform.split('/').join('-')}`;
}

export interface MergeIndexOptions extends TargetOptions {
  /** `host[:port]/repo`, as given to `build --push`. */
  repository: string;
  /** The tag the platform builds were given (each pushed `platformTag(tag, p)`); the indexes get it. */
  tag: string;
  /** Every platform the merged image must hold (the config's `platforms:`), in index order. */
  platforms: string[];
  /** The line of work whose tag moves to the merged record (as `build --push` would). */
  line?: string;
  /** The config's game: every platform build must be a build of it (its record goes into this game's state). */
  game?: string;
  /** The game's `.gamelayer/`: the merged record is written there too (with where it was pushed). */
  stateDir?: string;
  /** The config's store: the merged build becomes its last build (state/last-build.ts); default .gamelayer/oci. */
  store?: string;
  /** The run's target of `repository` (one client: what it learnt of the registry, one token); default a new one. */
  target?: PushTarget;
}

export interface MergeIndexResult {
  repository: string;
  tag: string;
  /** Image name (server or tree) → its index. */
  indexes: { name: string; tag: string; digest: string; platforms: string[]; upToDate: boolean }[];
  /** The platform builds merged: platform → the record's server tag and createdAt. */
  sources: { platform: string; tag: string; createdAt: string }[];
  record: PushBuildRecordResult;
  recordFile?: string;
}

export async function mergePlatformBuilds(opts: MergeIndexOptions): Promise<MergeIndexResult> {
  const ref = parseReference(opts.repository);
  if (ref.tag || ref.digest) {
    throw new GamelayerError('push.repository-only', `${opts.repository}: expected a repository without tag or digest`, 'give the tag with --tag');
  }
  // Not a tag any build could have made: it was asked of the registry, and the missing-build message suggested
  // `gamelayer build … --tag <it>` unquoted (`a;$(id)` would run a command when pasted).
  if (!/^[\w][\w.-]{0,127}$/.test(opts.tag)) {
    throw new GamelayerError('build.bad-tag', `index --tag ${JSON.stringify(opts.tag)}: expected letters, digits, "_", "." or "-", as build --tag`, 'give the tag the platform builds were given');
  }
  // The merged indexes take <tag> and <tag>-<tree>: 1.0.0-app would replace build 1.0.0's app image.
  const clash = buildTagClash(opts.tag);
  if (clash) throw new GamelayerError('push.reserved-tag', `index --tag ${opts.tag}: ${clash}`, 'merge platform builds of a tag that does not end in -engine, -engine-media, -app or -app-media');
  if (opts.platforms.length < 2) {
    throw new GamelayerError('index.platforms', `${opts.platforms.length ? opts.platforms[0] : 'no platform'}: an index merges two platforms or more`, 'list them in the config\'s platforms:, or with --platform');
  }
  // The same platform twice made an index listing one manifest twice, called multi-platform (and moved the line).
  const seen = new Set<string>();
  for (const platform of opts.platforms) {
    const key = formatPlatform(parsePlatform(platform));
    if (seen.has(key)) throw new GamelayerError('index.platforms', `${platform}: given twice; an index merges two platforms or more, each once`, 'list each platform once in the config\'s platforms:, or with --platform');
    seen.add(key);
  }
  const repo = ref.repository;
  const where = `${ref.registry}/${repo}`;
  const target = opts.target ?? (await pushTargetFor(ref, opts));
  const { client } = target;

  // 1. Every platform build, its record read and checked; nothing is written before all are here.
  const builds: { platform: string; tag: string; record: BuildRecord }[] = [];
  for (const platform of opts.platforms) {
    parsePlatform(platform);
    const tag = platformTag(opts.tag, platform);
    if (!(await client.headManifest(repo, tag))) {
      throw new GamelayerError(
        'index.platform-missing',
        `${where}:${tag}: no build of ${platform} (expected from gamelayer build --platform ${platform} --tag ${opts.tag} --push ${opts.repository})`,
        'run every platform build first; the merge step waits for none',
      );
    }
    const { record } = await fetchBuildRecordFor(`${opts.repository}:${tag}`, { ...opts, target });
    if (record.platforms.length !== 1 || record.platforms[0] !== platform || record.tags[0] !== tag) {
      throw new GamelayerError('index.platform-record', `${where}:${tag}: its record is a build of ${record.platforms.join(', ')} tagged ${record.tags[0]}, not of ${platform} alone`, `rebuild with gamelayer build --platform ${platform} --push`);
    }
    builds.push({ platform, tag, record });
  }
  const first = builds[0]!;
  for (const b of builds) {
    if (opts.game !== undefined && b.record.game !== opts.game) {
      throw new GamelayerError('index.game-differs', `${where}:${b.tag}: a build of ${b.record.game}, not of ${opts.game} (the config's game)`, 'merge the builds of this game: check the repository');
    }
  }
  for (const b of builds.slice(1)) {
    if (b.record.game !== first.record.game) {
      throw new GamelayerError('index.game-differs', `${where}: ${first.tag} is a build of ${first.record.game}, ${b.tag} of ${b.record.game}`);
    }
  }

  // 2. Shared media trees: the same tree digest and the same layers on every platform.
  for (const tree of MEDIA_TREES) {
    const want = mediaTree(first, tree);
    for (const b of builds.slice(1)) {
      const got = mediaTree(b, tree);
      if (want.digest !== got.digest) {
        throw new GamelayerError(
          'index.media-differs',
          `${tree}: the ${first.platform} build (${first.tag}) has tree ${want.digest}, the ${b.platform} build (${b.tag}) has ${got.digest}`,
          'the platform builds were made from different media sources; build every platform from the same commit',
        );
      }
      if (want.layers.join() !== got.layers.join()) {
        throw new GamelayerError(
          'index.media-differs',
          `${tree}: the ${first.platform} build (${first.tag}) and the ${b.platform} build (${b.tag}) have the same files in other layers (${want.layers.length} against ${got.layers.length})`,
          'the platform builds were planned on different previous builds; build every platform on the same line (--line) and merge before the next build',
        );
      }
    }
  }

  // 3. Every child manifest confirmed in the repository, by digest, before any index is put.
  const children = new Map<string, Descriptor[]>();
  /** Image name → the union of its platform manifests' annotations (what the index carries). */
  const annotationsOf = new Map<string, Record<string, string>>();
  for (const name of [SERVER_IMAGE, ...TREE_NAMES]) {
    const list: Descriptor[] = [];
    const annotations: Record<string, string> = {};
    for (const b of builds) {
      const image = b.record.images.find((i) => i.name === name && (i.platform === b.platform || i.platform === undefined));
      const label = `${where}:${name === SERVER_IMAGE ? b.tag : `${b.tag}-${name}`}`;
      if (!image) throw new GamelayerError('index.platform-record', `${label}: the record of the ${b.platform} build lists no ${name} image`);
      // One GET (a 404 says it is missing): a HEAD before it was 10 of a no-op merge's 57 requests on the sample.
      const m = await client.getManifestIfExists(repo, image.digest);
      if (!m) {
        throw new GamelayerError('index.platform-missing', `${label}: the ${name} image of the ${b.platform} build (${image.digest}) is not in the repository`, `push the ${b.platform} build again`);
      }
      if (m.digest !== image.digest) throw new GamelayerError('registry.digest', `${where}@${image.digest}: the manifest the registry sent hashes to ${m.digest}`);
      await checkChildPlatform(client, repo, m.bytes, b.platform, `${label}: the ${name} image of the ${b.platform} build (${image.digest})`);
      list.push({ mediaType: image.mediaType, digest: image.digest, size: m.size, platform: parsePlatform(b.platform) });
      Object.assign(annotations, manifestAnnotations(m.bytes));
    }
    children.set(name, list);
    annotationsOf.set(name, sorted(annotations));
  }

  // 4. The indexes: tree images first, the server image last (what deploy specs and the record point at).
  const indexes: MergeIndexResult['indexes'] = [];
  const indexDescriptors = new Map<string, Descriptor>();
  for (const name of [...TREE_NAMES, SERVER_IMAGE]) {
    const doc = imageIndex(children.get(name)!, annotationsOf.get(name));
    const tag = name === SERVER_IMAGE ? opts.tag : `${opts.tag}-${name}`;
    const current = await client.headManifest(repo, tag, 'push');
    const upToDate = current?.digest === doc.descriptor.digest;
    if (!upToDate) await putManifestSettled(client, repo, tag, doc.bytes, MEDIA_TYPES.ociIndex);
    indexDescriptors.set(name, doc.descriptor);
    indexes.push({ name, tag, digest: doc.descriptor.digest, platforms: builds.map((b) => b.platform), upToDate });
  }

  // 5. The merged record, last: it moves the line's tag, so the next builds plan on every platform.
  const record = mergedRecord(builds.map((b) => b.record), opts.tag, opts.platforms, indexDescriptors, opts.line);
  const server = indexDescriptors.get(SERVER_IMAGE)!;
  const pushed = await pushBuildRecord({ ...opts, target, to: opts.repository, record, subject: server, tags: [opts.tag], line: opts.line });

  let recordFile: string | undefined;
  if (opts.stateDir) {
    // The store's own record of the tag (record-name.ts), naming its store as a build's does.
    const of = { stateDir: opts.stateDir, store: opts.store ?? path.join(opts.stateDir, 'oci') };
    recordFile = storeRecordFile(of, opts.tag);
    await moveOtherStoresRecord(of, recordFile);
    // The same builds merged in another repository before (a batch pushing to several regions merges in each): the
    // record is the same, and keeps the repositories it lists as pushed to, for each region's deploy specs.
    const earlier = await readBuildRecord(recordFile).catch(() => undefined);
    const kept = earlier && earlier.index === record.index ? { pushed: earlier.pushed } : {};
    // Also the host's last build: k8s, ecs and codebuild imagedefinitions read it (the merge job of a batch).
    const local = localRecord({ ...record, ...kept }, of);
    // Under the records lock (state/last-build-point.ts): a concurrent build's push noting itself in the pointer put
    // its own copy back over this one. The note of a no-op before goes: the merge is the last build.
    await recordLastBuild(opts.stateDir, { file: recordFile, record: local }, lastBuildFile(of), 'drop');
    await dropLegacyRecord(of, opts.tag);
    await markPushed(opts.stateDir, record, {
      repository: where,
      images: record.tags.map((t, i) => ({ name: i === 0 ? SERVER_IMAGE : TREE_NAMES[i - 1]!, digest: indexDescriptors.get(i === 0 ? SERVER_IMAGE : TREE_NAMES[i - 1]!)!.digest })),
      at: new Date().toISOString(),
    });
  }
  return {
    repository: where,
    tag: opts.tag,
    indexes,
    sources: builds.map((b) => ({ platform: b.platform, tag: b.tag, createdAt: b.record.createdAt })),
    record: pushed,
    recordFile,
  };
}

/**
 * The index says which platform each child runs on; the record that named the child is the registry's word, so the
 * child itself must say it: an image manifest (not an index) whose config names that os/architecture/variant.
 */
async function checkChildPlatform(client: RegistryClient, repo: string, manifest: Buffer, platform: string, what: string): Promise<void> {
  const json = parseJson(manifest) as { config?: { digest?: unknown; size?: unknown } } | undefined;
  const digest = json?.config?.digest;
  const size = json?.config?.size;
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest) || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new GamelayerError('index.platform-record', `${what} is not an image manifest`, 'push the platform build again');
  }
  const bytes = await getSizedBlob(client, repo, { digest, size }, `get config ${digest} from ${repo}`);
  if (!bytes || sha256Digest(bytes) !== digest) {
    throw new GamelayerError('registry.digest', `${what}: its config ${digest} from the registry does not match its digest`);
  }
  const config = parseJson(bytes) as { os?: unknown; architecture?: unknown; variant?: unknown } | undefined;
  const want = parsePlatform(platform);
  const got = { os: String(config?.os), architecture: String(config?.architecture), ...(typeof config?.variant === 'string' ? { variant: config.variant } : {}) };
  // linux/arm64 and linux/arm64/v8 are one platform.
  const variant = (p: { architecture: string; variant?: string }) => p.variant ?? (p.architecture === 'arm64' ? 'v8' : '');
  if (got.os !== want.os || got.architecture !== want.architecture || variant(got) !== variant(want)) {
    throw new GamelayerError('index.platform-record', `${what} is an image of ${formatPlatform(got)}, not of ${platform}`, `push the ${platform} build again`);
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A media tree of one platform build: its tree digest and the digests of its layers, in order. */
function mediaTree(b: { platform: string; tag: string; record: BuildRecord }, tree: string): { digest: string; layers: string[] } {
  const m = b.record.manifests.find((x) => x.tree === tree && x.platform === undefined);
  if (!m) throw new GamelayerError('index.platform-record', `${b.tag}: the record of the ${b.platform} build has no ${tree} tree`);
  const byKey = new Map(b.record.layers.map((l) => [l.inputKey, l.digest]));
  const layers = b.record.plan.layers.filter((l) => l.tree === tree && (l.platform === undefined || l.platform === b.platform)).map((l) => byKey.get(l.inputKey) ?? `?${l.inputKey}`);
  return { digest: m.digest, layers };
}

function manifestAnnotations(bytes: Buffer): Record<string, string> {
  try {
    const json = JSON.parse(bytes.toString('utf8')) as { annotations?: Record<string, string> };
    return json.annotations && typeof json.annotations === 'object' ? json.annotations : {};
  } catch {
    return {};
  }
}

function sorted(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What a build of every platform on one host would record, from the platform builds' records. */
export function mergedRecord(records: BuildRecord[], tag: string, platforms: string[], indexes: Map<string, Descriptor>, line: string | undefined): BuildRecord {
  const first = records[0]!;
  const manifests = new Map<string, TreeManifest>();
  const layers = new Map<string, BuiltLayer>();
  for (const r of records) {
    for (const m of r.manifests) manifests.set(`${m.tree}|${m.platform ?? ''}`, m);
    for (const l of r.layers) if (!layers.has(l.digest)) layers.set(l.digest, l);
  }
  // The newest platform build's time: merging the same builds again gives the same record. Newest by the instant
  // (hosts may write other zones or precisions), the text as it was written; equal instants by text, for one answer.
  const createdAt = records.map((r) => r.createdAt).sort((a, b) => olderFirst(a, b) || (a < b ? -1 : a > b ? 1 : 0)).at(-1)!;
  const images = [SERVER_IMAGE, ...TREE_NAMES].flatMap((name) => [
    ...records.flatMap((r) => r.images.filter((i) => i.name === name)),
    { name, digest: indexes.get(name)!.digest, mediaType: MEDIA_TYPES.ociIndex },
  ]);
  const bases = records.flatMap((r) => r.bases ?? []);
  return {
    schemaVersion: 1,
    game: first.game,
    ...(first.version !== undefined ? { version: first.version } : {}),
    createdAt,
    tags: [tag, ...TREE_NAMES.map((t) => `${tag}-${t}`)],
    platforms,
    manifests: [...manifests.values()],
    plan: { layers: records.flatMap((r) => r.plan.layers) },
    layers: [...layers.values()],
    images,
    index: indexes.get(SERVER_IMAGE)!.digest,
    ...(first.settingsKey !== undefined ? { settingsKey: first.settingsKey } : {}),
    ...(first.codebuildArn !== undefined ? { codebuildArn: first.codebuildArn } : {}),
    ...(first.revision !== undefined ? { revision: first.revision } : {}),
    ...(first.sourceUrl !== undefined ? { sourceUrl: first.sourceUrl } : {}),
    ...(line !== undefined ? { line } : {}),
    ...(first.previous ? { previous: first.previous } : {}),
    ...(bases.length ? { bases } : {}),
  };
}
