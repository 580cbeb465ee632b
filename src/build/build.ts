// Build stage: scan → plan → layers (cached by inputKey) → images in the local OCI layout → BuildRecord.
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { treeSourceFor, type GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import type { BaseImage } from '../oci/base-image.js';
import { ArchiveCacheCorrupt, contentSourceFor, type ContentSource } from '../oci/content.js';
import { parsePlatform } from '../oci/image.js';
import { buildLayer, compressedLowerBound, compressorId, MAX_COMPRESSION_RATIO, type LayerCompression } from '../oci/layer.js';
import { holdStoreForBuild } from '../oci/store-holds.js';
import { OciStore } from '../oci/store.js';
import { assertStoreOfGame, GAME_ANNOTATION } from '../oci/store-game.js';
import { sourceDateEpoch } from '../oci/tar.js';
import { sentinelBytes, TREE_SENTINEL } from '../oci/sentinel.js';
import { isWhiteout, planIncremental, recordedTreeProblem, recordedTrees, SERVER_STACK_ORDER, type IncrementalPlan, type PreviousTree, type TreeDecision } from '../plan/incremental.js';
import { ECR_MAX_LAYER_BYTES, LAYER_FORMAT, layerInputKey } from '../plan/plan.js';
import { formatBytes, silentReporter, type Reporter } from '../report/reporter.js';
import { scanGame, type TreeScan } from '../scan/scan.js';
import { LAST_BUILD, readRecord, recordsDir, writeRecord, type AnyRecord } from '../state/records.js';
import { TREE_NAMES, type BuildRecord, type BuiltLayer, type LayerPlan, type PlannedLayer, type TreeManifest, type TreeName } from '../types.js';
import { SERVER_IMAGE, storeImages, topLevel, type PlatformLayers } from './images.js';
import { LayerCache } from './layer-cache.js';
import { exists } from '../util/exists.js';
import type { TargetOptions } from '../registry/push.js';
import { assertWritableFolder } from '../util/fs-access.js';
import { markPartial } from '../registry/partial-layout.js';
import { baseLoader, movedBases, type BaseMove } from './base-source.js';

// The sentinel lives in the image stage (the Dockerfile path writes the same bytes); re-exported for callers.
export { TREE_SENTINEL, sentinelBytes };

export interface BuildOptions {
  config: GameConfig;
  /** Tag of the server image; tree images get `<tag>-<tree>`. Default: config.version, else `latest`. */
  tag?: string;
  /** Subset of config.platforms to build. */
  platforms?: string[];
  compression?: 'gzip' | 'zstd';
  /** OCI layout directory; default config.store. */
  out?: string;
  reporter?: Reporter;
  /** Layers tarred and compressed at once; default 2. */
  concurrency?: number;
  /** Recorded in the BuildRecord when the build runs in AWS CodeBuild. */
  codebuildArn?: string;
  /** Extra labels on every image. Keep them stable for the same sources, or every build makes new images. */
  labels?: Record<string, string>;
  /** Ignore the previous build: plan every tree afresh (no patch layers). */
  rebase?: boolean;
  /**
   * The previous build: `host/repo:tag` (that image's record, read from the registry), or `none` (no previous build
   * from the registry; the local one when there is one). Default with `push`: the newest record of `line` in it.
   */
  from?: string;
  /**
   * The repository the images go to. Its newest record of `line` is the previous build (unless `from`), and the
   * layers kept from a registry record must be there: they are never downloaded, and one that is gone is rebuilt.
   */
  push?: string;
  /** The line of work (branch) whose previous build to use; default `default`. */
  line?: string;
  /** Registry options for `from` and `push`. */
  registry?: TargetOptions;
}

export interface LayerOutcome {
  layer: BuiltLayer;
  platform: string;
  patch: boolean;
  files: number;
  bytes: number;
  reused: boolean;
}

export interface BuildSummary {
  layers: LayerOutcome[];
  /** Per platform and tree: kept as it was, patched, rebased or planned fresh, and why. */
  trees: { platform: string; tree: TreeName; decision: TreeDecision; reason?: string }[];
  built: number;
  reused: number;
  /** Where the previous build came from (`registry`: a record read from the repository, `local`: .gamelayer/). */
  previous: { source: 'registry' | 'local' | 'none'; ref?: string; line?: string; createdAt?: string; reason?: string };
  /** Registry base images whose digest moved since the previous build: new images on the same layers of ours. */
  baseMoved?: BaseMove[];
  /** Kept layers found in the registry (never downloaded), and record layers gone from it (their trees rebuilt). */
  remoteLayers?: { kept: number; gone: number };
  /** Compressed bytes written this build, and compressed bytes of every layer of the images. */
  bytesNew: number;
  bytesTotal: number;
  scanMs: number;
  ms: number;
}

export interface BuildResult {
  record: BuildRecord;
  recordFile: string;
  store: string;
  scans: TreeScan[];
  summary: BuildSummary;
}

const TAG = /^[\w][\w.-]{0,127}$/;

export async function build(opts: BuildOptions): Promise<BuildResult> {
  // Held for the whole build, so gamelayer gc never removes a blob this build is about to reuse.
  const release = await holdStoreForBuild(opts.out ?? opts.config.store);
  try {
    return await buildHeld(opts);
  } finally {
    await release();
  }
}

async function buildHeld(opts: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const { config } = opts;
  const reporter = opts.reporter ?? silentReporter;
  const tag = opts.tag ?? config.version ?? 'latest';
  if (!TAG.test(tag) || !TAG.test(`${tag}-engine-media`)) {
    throw new GamelayerError('build.bad-tag', `--tag ${JSON.stringify(tag)}: expected letters, digits, "_", "." or "-" (at most 115 characters, leaving room for tree suffixes)`);
  }
  const platforms = opts.platforms ?? config.platforms;
  for (const p of platforms) {
    if (!config.platforms.includes(p)) {
      throw new GamelayerError('build.platform', `--platform ${p}: not in the platforms of ${config.file} (${config.platforms.join(', ')})`);
    }
  }
  const kind = opts.compression ?? config.layers.compression;
  const compression: LayerCompression = { kind };
  const compressor = await compressorId(compression);
  const mtime = sourceDateEpoch();
  await assertWritableFolder(config.stateDir);
  await assertWritableFolder(opts.out ?? config.store);
  const store = await OciStore.open(opts.out ?? config.store, { markers: path.join(config.stateDir, 'cache', 'verified-blobs') });
  await assertStoreOfGame(store, config.game, config.file);

  // The registry's limit applies to compressed layers: a file is refused from its size alone only when no
  // compression could bring it under the limit; everything else is measured while it is compressed.
  const layerLimit = config.layers.maxLayerSize ?? ECR_MAX_LAYER_BYTES;
  const scanned = await scanGame(config, { reporter, platforms, maxFileBytes: layerLimit * MAX_COMPRESSION_RATIO[kind] });
  const scanMs = Date.now() - started;
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
  const cache = await LayerCache.open(config.stateDir);
  if (cache.rejected) reporter.warn(`layer cache ignored (${cache.rejected}); layers found in the store are still reused`);

  // Plan per platform; media trees are shared, so their layers (same inputKey) are built once.
  const settingsKey = JSON.stringify({ format: LAYER_FORMAT, targetSize: config.layers.targetSize, maxLayers: config.layers.maxLayers, mounts, kind, mtime });
  // The registry is the build state: with --push (or --from) the previous build is a record read from it, the same
  // on every host of this line of work; .gamelayer/ only speeds up what is built. Without, the local last build.
  const line = opts.line ?? 'default';
  const fromNone = opts.from === 'none';
  const useRegistry = !opts.rebase && !fromNone && !!(opts.from || opts.push);
  const remote = useRegistry
    ? await (await import('./previous.js')).findRegistryPrevious({ from: opts.from, push: opts.push, line, registry: opts.registry ?? {} })
    : undefined;
  let previousInfo: BuildSummary['previous'];
  let previous: BuildRecord | undefined;
  if (opts.rebase) previousInfo = { source: 'none', reason: '--rebase' };
  else if (useRegistry) {
    if (!remote) previousInfo = { source: 'none', line, reason: `no build of line "${line}" in ${opts.from ?? opts.push} yet` };
    else if (remote.record.settingsKey !== settingsKey) {
      previousInfo = { source: 'none', ref: remote.ref, line, reason: `${remote.ref} was built with other layer settings (target size, layer limit, mounts, compression or SOURCE_DATE_EPOCH)` };
    } else {
      previous = remote.record;
      previousInfo = { source: 'registry', ref: remote.ref, line, createdAt: remote.record.createdAt };
    }
  } else {
    previous = await previousBuild(config.stateDir, settingsKey, reporter);
    previousInfo = previous
      ? { source: 'local', ref: path.join(recordsDir(config.stateDir), LAST_BUILD), createdAt: previous.createdAt }
      : { source: 'none', reason: fromNone ? '--from none, and no earlier build in .gamelayer/' : 'no earlier build in .gamelayer/' };
  }
  // A reused blob that fails its check was removed by the store: say which file, and build the layer again.
  const onDamaged = (file: string, problem: string) => reporter.warn(`${file}: damaged blob in the store (${problem}); it was removed and its layer is built again`);
  if (remote?.gone.length && previous) {
    reporter.warn(`${remote.gone.length} layers of ${remote.ref} are gone from ${remote.repository}: their trees are rebuilt from the sources`);
  }
  // A kept layer of a registry record is the record's own layer (same digest on every host), never a local variant.
  const remoteKept = previous && remote ? remote.present : undefined;
  const findLayer = async (inputKey: string): Promise<BuiltLayer | undefined> =>
    remoteKept ? remoteKept.get(inputKey) : cache.find(inputKey, kind, mtime, compressor, store, onDamaged);
  interface PlatformPlan {
    name: string;
    base: BaseImage;
    manifests: TreeManifest[];
    plan: LayerPlan;
    /** Each tree image's one-file sentinel layer, after the tree's own layers. */
    sentinels: Map<TreeName, PlannedLayer>;
    decisions: IncrementalPlan['decisions'];
  }
  const plans: PlatformPlan[] = [];
  const baseSource = await baseLoader(config, opts);
  /** Base layers this build names without holding them: in the target's registry, mounted at push. */
  const baseInRegistry = new Set<string>();
  for (const name of platforms) {
    const base = await baseSource.load(name);
    const manifests = TREE_NAMES.map((t) => manifestFor(scanned.trees, t, treeSourceFor(config.trees[t], name).shared ? undefined : name));
    let prevTrees = previous ? await reusableTrees(previous, name, findLayer) : {};
    // The record is not trusted: a layer that does not hold what it says would make the image differ from the sources.
    const damaged = (Object.entries(prevTrees) as [TreeName, PreviousTree][]).map(([t, p]) => recordedTreeProblem(t, p, mounts[t])).find(Boolean);
    if (damaged) {
      reporter.warn(`the previous build record (${opts.from ?? path.join(recordsDir(config.stateDir), LAST_BUILD)}) is damaged: ${damaged}; planning every tree afresh`);
      prevTrees = {};
    }
    const inc = planIncremental(manifests, prevTrees, {
      targetSize: config.layers.targetSize,
      maxLayers: config.layers.maxLayers,
      baseLayers: base.layers.length,
      mounts,
      freshOrder: SERVER_STACK_ORDER,
    });
    const plan: LayerPlan = { layers: inc.layers.map((l) => ({ ...l, platform: name })) };
    const tooBig = plan.layers.find((l) => compressedLowerBound(l.bytes, kind) > layerLimit);
    if (tooBig) throw layerTooBig(tooBig, layerLimit);
    if (baseSource.sameRegistry) {
      for (const l of base.layers) if (!(await store.hasBlob(l.digest, l.size))) baseInRegistry.add(l.digest);
    } else await base.copyLayersInto(store);
    const sentinels = new Map(
      manifests.map((m) => [m.tree, sentinelLayer(m, mounts[m.tree], plan.layers.filter((l) => l.tree === m.tree).length)] as const),
    );
    plans.push({ name, base, manifests, plan, sentinels, decisions: inc.decisions });
  }

  // Build (or reuse) every distinct layer.
  const distinct = new Map<string, { layer: PlannedLayer; source: TreeManifest }>();
  for (const p of plans) {
    for (const l of p.plan.layers) distinct.set(l.inputKey, { layer: l, source: p.manifests.find((m) => m.tree === l.tree)! });
    for (const m of p.manifests) distinct.set(p.sentinels.get(m.tree)!.inputKey, { layer: p.sentinels.get(m.tree)!, source: m });
  }
  const built = new Map<string, { layer: BuiltLayer; reused: boolean }>();
  const toBuild: { layer: PlannedLayer; source: TreeManifest }[] = [];
  /** Layers this build uses without holding them: they are in the registry, the local layout is partial. */
  const inRegistryOnly = new Set<string>();
  for (const [key, item] of distinct) {
    const kept = remoteKept?.get(key);
    const hit = kept ?? (await cache.find(key, kind, mtime, compressor, store, onDamaged));
    if (hit) built.set(key, { layer: { ...hit, tree: item.layer.tree, index: item.layer.index }, reused: true });
    else toBuild.push(item);
    if (kept && !(await store.hasBlob(kept.digest, kept.size))) inRegistryOnly.add(kept.digest);
  }
  const totalBytes = toBuild.reduce((n, i) => n + i.layer.bytes, 0);
  // The tree markers (one .gamelayer-tree file per tree image) are not rows of the layer table: say them apart.
  const markers = toBuild.filter(({ layer }) => layer.entries.length === 1 && layer.entries[0]!.path === TREE_SENTINEL).length;
  const what = `build ${toBuild.length - markers} layers${markers ? ` + ${markers} tree markers` : ''}`;
  const task = toBuild.length ? reporter.task(what, totalBytes, 'bytes') : undefined;
  const limit = pLimit(opts.concurrency ?? 2);
  const contentSources = new Map<string, Promise<ContentSource>>();
  const contentFor = (m: TreeManifest) => {
    let c = contentSources.get(m.root);
    if (!c) {
      c = contentSourceFor(m.source, { cacheDir: path.join(config.stateDir, 'cache', 'archive-content'), entries: m.entries });
      contentSources.set(m.root, c);
    }
    return c;
  };
  await Promise.all(
    toBuild.map(({ layer, source }) =>
      limit(async () => {
        let last = 0;
        const attempt = async () =>
          buildLayer(layer, {
            content: layer.entries.some((e) => e.path === TREE_SENTINEL && layer.entries.length === 1)
              ? sentinelContent(source)
              : withWhiteouts(await contentFor(source)),
            mount: mounts[layer.tree],
            store,
            compression,
            mtime,
            maxBytes: layerLimit,
            tooBig: () => layerTooBig(layer, layerLimit),
            onBytes: (n) => {
              // Progress in content bytes: tar headers and padding are not part of the total.
              const add = Math.min(n, Math.max(0, layer.bytes - last));
              last += add;
              task?.tick(add);
            },
          });
        let result: BuiltLayer;
        try {
          result = await attempt();
        } catch (e) {
          if (!(e instanceof ArchiveCacheCorrupt)) throw e;
          // A damaged copy in the archive content cache: drop it, take the file from the archive again, once.
          reporter.warn(e.message);
          await rm(e.file, { force: true });
          contentSources.delete(source.root);
          result = await attempt();
        }
        cache.remember(result, kind, mtime, compressor);
        built.set(layer.inputKey, { layer: result, reused: false });
        // Saved after every layer: an interrupted build's next run reuses what this one finished.
        await cache.save();
      }),
    ),
  );
  task?.done(`${toBuild.length} layers built`);
  await cache.save();
  // A reused layer was measured when it was built, perhaps under a higher limit.
  for (const [key, b] of built) {
    if (b.layer.size > layerLimit) throw layerTooBig(distinct.get(key)!.layer, layerLimit);
  }

  // Images, tags, record.
  const treeDigests: Record<string, string> = {};
  for (const p of plans) for (const m of p.manifests) treeDigests[m.platform ? `${m.tree}@${m.platform}` : m.tree] = m.digest;
  const perPlatform: PlatformLayers[] = plans.map((p) => ({
    platform: parsePlatform(p.name),
    platformName: p.name,
    base: p.base,
    layers: p.plan.layers.map((l) => ({ ...built.get(l.inputKey)!.layer, tree: l.tree, index: l.index })),
    sentinels: Object.fromEntries([...p.sentinels].map(([tree, s]) => [tree, built.get(s.inputKey)!.layer])) as Record<TreeName, BuiltLayer>,
  }));
  const meta = { game: config.game, version: config.version, start: config.start, treeDigests, labels: opts.labels };
  const images = await storeImages(store, perPlatform, TREE_NAMES, meta);
  const tags = [tag, ...TREE_NAMES.map((t) => `${tag}-${t}`)];
  const owner = { [GAME_ANNOTATION]: config.game };
  await store.tag(tag, topLevel(images, SERVER_IMAGE), owner);
  for (const t of TREE_NAMES) await store.tag(`${tag}-${t}`, topLevel(images, t), owner);
  if ((inRegistryOnly.size && remote) || baseInRegistry.size) {
    const sources = [...(inRegistryOnly.size && remote ? [remote.repository] : []), ...(baseInRegistry.size ? plans.map((p) => p.base.pinned!.repository) : [])];
    await markPartial(store, [SERVER_IMAGE, ...TREE_NAMES].map((n) => topLevel(images, n).digest), sources);
  }

  const manifests = uniqueManifests(plans.flatMap((p) => p.manifests));
  const allLayers = uniqueLayers(perPlatform.flatMap((p) => [...p.layers, ...Object.values(p.sentinels)]));
  const record: BuildRecord = {
    schemaVersion: 1,
    game: config.game,
    version: config.version,
    createdAt: new Date().toISOString(),
    tags,
    platforms,
    manifests,
    plan: { layers: plans.flatMap((p) => p.plan.layers) },
    layers: allLayers,
    images: images.map((i) => ({ name: i.name, platform: i.platform, digest: i.descriptor.digest, mediaType: i.descriptor.mediaType, layers: i.layers })),
    index: plans.length > 1 ? topLevel(images, SERVER_IMAGE).digest : undefined,
    codebuildArn: opts.codebuildArn,
    settingsKey,
    ...(plans.some((p) => p.base.pinned)
      ? { bases: plans.map((p) => ({ platform: p.name, ref: config.baseImage, digest: p.base.pinned!.digest, repository: p.base.pinned!.repository, layers: p.base.layers.length })) }
      : {}),
    // A pushed build moves its line's tag to its record, whatever it was planned on (--from none too).
    ...(opts.push ? { line } : {}),
    ...(previousInfo.source === 'registry' ? { previous: { ref: previousInfo.ref!, createdAt: previousInfo.createdAt! } } : {}),
  };
  const moved = movedBases(previous, record);
  for (const m of moved) reporter.warn(`base image ${m.ref} (${m.platform}) moved since the previous build: ${m.from} → ${m.to}; every image gets the new base, no layer of ours is rebuilt`);
  // A build that changed nothing has the same record, byte for byte: nothing new to push beside the image,
  // and nothing to write (records of a 100k-file game are tens of MB).
  const unchanged = previous !== undefined && sameBuild(previous, record);
  if (unchanged && previous) {
    record.createdAt = previous.createdAt;
    if (previous.previous) record.previous = previous.previous;
    else delete record.previous;
  }
  const dir = recordsDir(config.stateDir);
  const recordFile = path.join(dir, `build-${tag}.json`);
  if (!unchanged || !(await exists(recordFile))) {
    await writeRecord(recordFile, { kind: 'build', ...record });
    await writeRecord(path.join(dir, LAST_BUILD), { kind: 'build', ...record });
  }

  const outcomes: LayerOutcome[] = perPlatform.flatMap((p) =>
    p.layers.map((l) => {
      const planned = plans.find((x) => x.name === p.platformName)!.plan.layers.find((x) => x.inputKey === l.inputKey)!;
      return { layer: l, platform: p.platformName, patch: !!planned.patch, files: planned.entries.filter((e) => e.type === 'file').length, bytes: planned.bytes, reused: built.get(l.inputKey)!.reused };
    }),
  );
  const newLayers = [...built.values()].filter((b) => !b.reused);
  return {
    record,
    recordFile,
    store: store.dir,
    scans: scanned.trees,
    summary: {
      layers: outcomes,
      trees: plans.flatMap((p) => TREE_NAMES.map((tree) => ({ platform: p.name, tree, ...p.decisions[tree] }))),
      previous: previousInfo,
      ...(moved.length ? { baseMoved: moved } : {}),
      ...(remoteKept ? { remoteLayers: { kept: [...built.values()].filter((b) => remoteKept.has(b.layer.inputKey) && b.reused).length, gone: remote!.gone.length } } : {}),
      built: newLayers.length,
      reused: built.size - newLayers.length,
      bytesNew: newLayers.reduce((n, b) => n + b.layer.size, 0),
      bytesTotal: allLayers.reduce((n, l) => n + l.size, 0),
      scanMs,
      ms: Date.now() - started,
    },
  };
}

/** The last build's record, when its settings match this build's; a corrupt record is reported and ignored. */
async function previousBuild(stateDir: string, settingsKey: string, reporter: Reporter): Promise<BuildRecord | undefined> {
  let record: AnyRecord;
  try {
    record = await readRecord(path.join(recordsDir(stateDir), LAST_BUILD));
  } catch (e) {
    if (e instanceof GamelayerError && e.code === 'record.missing') return undefined;
    if (e instanceof GamelayerError) {
      reporter.warn(`${e.message}; planning every tree afresh`);
      return undefined;
    }
    throw e;
  }
  if (record.kind !== 'build' || record.settingsKey !== settingsKey) return undefined;
  return record;
}

function sameBuild(a: BuildRecord, b: BuildRecord): boolean {
  const key = (r: BuildRecord) => JSON.stringify([r.tags, r.images, r.layers, r.manifests.map((m) => m.digest), r.version, r.codebuildArn]);
  return key(a) === key(b);
}

/** The previous build's trees for one platform whose every layer is still in the store. */
async function reusableTrees(
  record: BuildRecord,
  platform: string,
  find: (inputKey: string) => Promise<BuiltLayer | undefined>,
): Promise<Partial<Record<TreeName, PreviousTree>>> {
  const out: Partial<Record<TreeName, PreviousTree>> = {};
  for (const [tree, prev] of Object.entries(recordedTrees(record, platform)) as [TreeName, PreviousTree][]) {
    let all = true;
    for (const l of prev.layers) if (!(await find(l.inputKey))) all = false;
    if (all) out[tree] = prev;
  }
  return out;
}

/** Whiteouts of patch layers are empty files that exist in no tree: serve them without touching the disk. */
function withWhiteouts(inner: ContentSource): ContentSource {
  const skip = (e: Parameters<ContentSource['open']>[0]) => isWhiteout(e) && e.size === 0;
  const readInto = inner.readInto?.bind(inner);
  return {
    open: async (e) => (skip(e) ? Readable.from([]) : inner.open(e)),
    ...(readInto ? { readInto: (e: Parameters<ContentSource['open']>[0], buf: Buffer, off: number) => (skip(e) ? undefined : readInto(e, buf, off)) } : {}),
  };
}

function manifestFor(scans: TreeScan[], tree: TreeName, platform: string | undefined): TreeManifest {
  const s = scans.find((x) => x.manifest.tree === tree && x.manifest.platform === platform);
  if (!s) throw new Error(`no scan of ${tree}${platform ? ` for ${platform}` : ''}`);
  return s.manifest;
}

/** The one-file layer `<mount>/.gamelayer-tree` naming the tree and its digest. */
function sentinelLayer(m: TreeManifest, mount: string, index: number): PlannedLayer {
  const bytes = sentinelBytes(m);
  // The xxh64 is informational here (the content source below is ours); the digest inside makes the key unique.
  const entries = [{ path: TREE_SENTINEL, type: 'file' as const, mode: 0o644, size: bytes.length, xxh64: m.digest.slice(7, 23) }];
  return { tree: m.tree, index, entries, inputKey: layerInputKey(mount, entries), bytes: bytes.length };
}

function sentinelContent(m: TreeManifest): ContentSource {
  return { open: async () => Readable.from([sentinelBytes(m)]) };
}

function uniqueManifests(ms: TreeManifest[]): TreeManifest[] {
  const seen = new Map<string, TreeManifest>();
  for (const m of ms) seen.set(`${m.tree}|${m.platform ?? ''}`, m);
  return [...seen.values()];
}

function uniqueLayers(ls: BuiltLayer[]): BuiltLayer[] {
  const seen = new Map<string, BuiltLayer>();
  for (const l of ls) if (!seen.has(l.digest)) seen.set(l.digest, l);
  return [...seen.values()];
}


/** A layer over the registry's limit once compressed (or certain to be, from its size): named with its biggest file. */
function layerTooBig(l: PlannedLayer, limit: number): GamelayerError {
  const biggest = l.entries.reduce((a, e) => (e.size > a.size ? e : a), l.entries[0]!);
  return new GamelayerError(
    'build.layer-too-big',
    `${l.tree} layer ${l.index} holds ${formatBytes(l.bytes)}, over the registry layer limit of ${formatBytes(limit)} (layers.maxLayerSize)`,
    `the biggest file in it is ${biggest.path}; split such files before packaging, ` + 'or raise layers.maxLayerSize if your registry takes bigger layers',
  );
}
