// Build stage: scan → plan → layers (cached by inputKey) → images in the local OCI layout → BuildRecord.
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { treeSourceFor, type GameConfig } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { loadBaseImage, type BaseImage } from '../oci/base-image.js';
import { ArchiveCacheCorrupt, contentSourceFor, type ContentSource } from '../oci/content.js';
import { parsePlatform } from '../oci/image.js';
import { buildLayer, compressorId, type LayerCompression } from '../oci/layer.js';
import { holdStoreForBuild } from '../oci/store-holds.js';
import { OciStore } from '../oci/store.js';
import { sourceDateEpoch } from '../oci/tar.js';
import { isWhiteout, planIncremental, recordedTrees, type IncrementalPlan, type PreviousTree, type TreeDecision } from '../plan/incremental.js';
import { ECR_MAX_LAYER_BYTES, LAYER_FORMAT, layerInputKey, oversizedLayers } from '../plan/plan.js';
import { formatBytes, silentReporter, type Reporter } from '../report/reporter.js';
import { scanGame, type TreeScan } from '../scan/scan.js';
import { LAST_BUILD, readRecord, recordsDir, writeRecord, type AnyRecord } from '../state/records.js';
import { TREE_NAMES, type BuildRecord, type BuiltLayer, type LayerPlan, type PlannedLayer, type TreeManifest, type TreeName } from '../types.js';
import { SERVER_IMAGE, storeImages, topLevel, type PlatformLayers } from './images.js';
import { LayerCache } from './layer-cache.js';
import { exists } from '../util/exists.js';
import type { TargetOptions } from '../registry/push.js';

/** The file every tree image carries at its mount path: proof that a mounted volume really holds the tree. */
export const TREE_SENTINEL = '.gamelayer-tree';

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
   * Build on the image `host/repo:tag` as the previous build (its record is fetched from the registry and the
   * layers this build keeps are downloaded when missing): for machines without local state.
   */
  from?: string;
  /** Registry options for `from`. */
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
  /** Layers and bytes downloaded from the registry (build --from). */
  downloaded?: { layers: number; bytes: number };
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
  const store = await OciStore.open(opts.out ?? config.store);

  const scanned = await scanGame(config, { reporter, platforms });
  const scanMs = Date.now() - started;
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
  const cache = await LayerCache.open(config.stateDir);
  if (cache.rejected) reporter.warn(`layer cache ignored (${cache.rejected}); layers found in the store are still reused`);

  // Plan per platform; media trees are shared, so their layers (same inputKey) are built once.
  const settingsKey = JSON.stringify({ format: LAYER_FORMAT, targetSize: config.layers.targetSize, maxLayers: config.layers.maxLayers, mounts, kind, mtime });
  const remote = opts.from && !opts.rebase ? await (await import('./remote-previous.js')).remotePrevious(opts.from, opts.registry ?? {}, store) : undefined;
  if (remote && remote.record.settingsKey !== settingsKey) {
    reporter.warn(`${opts.from} was built with other layer settings (target size, layer limit, mounts, compression or SOURCE_DATE_EPOCH); planning every tree afresh`);
  }
  const previous = opts.rebase
    ? undefined
    : remote
      ? remote.record.settingsKey === settingsKey
        ? remote.record
        : undefined
      : await previousBuild(config.stateDir, settingsKey, reporter);
  const findLayer = async (inputKey: string): Promise<BuiltLayer | undefined> => {
    const local = await cache.find(inputKey, kind, mtime, compressor, store);
    if (local || !remote) return local;
    const fetched = await remote.fetchLayer(inputKey);
    if (fetched) cache.remember(fetched, kind, mtime, `downloaded from ${remote.ref}`);
    return fetched;
  };
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
  for (const name of platforms) {
    const base = await loadBaseImage(config.baseImage, { baseDir: config.dir, platform: parsePlatform(name) });
    const manifests = TREE_NAMES.map((t) => manifestFor(scanned.trees, t, treeSourceFor(config.trees[t], name).shared ? undefined : name));
    const prevTrees = previous ? await reusableTrees(previous, name, findLayer) : {};
    const inc = planIncremental(manifests, prevTrees, {
      targetSize: config.layers.targetSize,
      maxLayers: config.layers.maxLayers,
      baseLayers: base.layers.length,
      mounts,
    });
    const plan: LayerPlan = { layers: inc.layers.map((l) => ({ ...l, platform: name })) };
    const limit = config.layers.maxLayerSize ?? ECR_MAX_LAYER_BYTES;
    const tooBig = oversizedLayers(plan, limit);
    if (tooBig.length) {
      const l = tooBig[0]!;
      throw new GamelayerError(
        'build.layer-too-big',
        `${l.tree} layer ${l.index} holds ${formatBytes(l.bytes)}, over the registry layer limit of ${formatBytes(limit)} (layers.maxLayerSize)`,
        `the biggest file in it is ${l.entries.reduce((a, e) => (e.size > a.size ? e : a)).path}; split such files before packaging, ` +
          'or raise layers.maxLayerSize if your registry takes bigger layers',
      );
    }
    await base.copyLayersInto(store);
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
  for (const [key, item] of distinct) {
    const hit = await cache.find(key, kind, mtime, compressor, store);
    if (hit) built.set(key, { layer: { ...hit, tree: item.layer.tree, index: item.layer.index }, reused: true });
    else toBuild.push(item);
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
  await store.tag(tag, topLevel(images, SERVER_IMAGE));
  for (const t of TREE_NAMES) await store.tag(`${tag}-${t}`, topLevel(images, t));

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
  };
  // A build that changed nothing has the same record, byte for byte: nothing new to push beside the image,
  // and nothing to write (records of a 100k-file game are tens of MB).
  const unchanged = previous !== undefined && sameBuild(previous, record);
  if (unchanged) record.createdAt = previous.createdAt;
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
      downloaded: remote?.downloaded,
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
  return { open: async (e) => (isWhiteout(e) && e.size === 0 ? Readable.from([]) : inner.open(e)) };
}

function manifestFor(scans: TreeScan[], tree: TreeName, platform: string | undefined): TreeManifest {
  const s = scans.find((x) => x.manifest.tree === tree && x.manifest.platform === platform);
  if (!s) throw new Error(`no scan of ${tree}${platform ? ` for ${platform}` : ''}`);
  return s.manifest;
}

/** Content of a tree image's `.gamelayer-tree` (exported: the docker path writes the same bytes). */
export function sentinelBytes(m: Pick<TreeManifest, 'tree' | 'digest'>): Buffer {
  return Buffer.from(`${JSON.stringify({ tree: m.tree, digest: m.digest })}\n`);
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

