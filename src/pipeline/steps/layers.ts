// Step layers: every distinct layer of the plans (media trees shared by platforms are one layer) reused or built.
// Skipped where its inputs are cached: a layer kept from the registry's previous build, or found in the layer cache
// with its blob in the store, is never tarred or compressed again. The rest is built a few at a time, each saved to
// the cache as it finishes; a damaged copy in the archive content cache is dropped and the layer built once more.
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import { GamelayerError } from '../../errors.js';
import { ASSEMBLER_PATH, assemblerBytes } from '../../oci/assembler.js';
import { chunkedContentSource } from '../../oci/chunk-content.js';
import { ArchiveCacheCorrupt, contentSourceFor, type ContentSource } from '../../oci/content.js';
import { packHashingSource } from '../../oci/pack-hash.js';
import { layerInputKey } from '../../plan/plan.js';
import type { MountParents } from '../../plan/mount-parents.js';
import type { PendingHashes } from '../../scan/pending.js';
import { cacheFile } from '../../scan/scan.js';
import { entrySourceOf } from '../../entries/packed-list.js';
import { sentinelBytes, TREE_SENTINEL } from '../../oci/sentinel.js';
import { isWhiteout } from '../../plan/incremental.js';
import type { ChunkSources } from '../../scan/chunk-tree.js';
import { hex64, xxhashApi } from '../../scan/hash.js';
import type { BuiltLayer, PlannedLayer, TreeManifest } from '../../types.js';
import type { LayerReuse } from '../layer-reuse.js';
import { layerSlots } from '../layer-slots.js';
import type { BuildInputs } from './inputs.js';
import { layerTooBig, sentinelLayer, type PlatformPlan } from './plan.js';
import { count } from '../../report/plural.js';

export type LayersInput = Pick<
  BuildInputs,
  'config' | 'reporter' | 'store' | 'compression' | 'kind' | 'mtime' | 'compressor' | 'mounts' | 'layerLimit' | 'concurrency'
> & {
  plans: PlatformPlan[];
  reuse: LayerReuse;
  /** Chunked trees by manifest digest: where their chunk and recipe entries' bytes come from. */
  chunkSources?: Map<string, ChunkSources>;
  /** Trees whose hashes the scan left to the layer writer (ScanOptions.packHashes); finished here. */
  pending?: PendingHashes[];
  /** The caller's cancel: no layer starts after it, and one being written stops at its next tar chunk. */
  signal?: AbortSignal;
};

export interface LayersOutput {
  /** Every layer of the build by inputKey, and whether it was reused rather than built. */
  built: Map<string, { layer: BuiltLayer; reused: boolean }>;
  /** Layers this build uses without holding them: they are in the registry, the local layout is partial. */
  inRegistryOnly: Set<string>;
  /** The studio's other games' repositories some of those are in (`mountFrom:`, studio-layers.ts), with what each gave. */
  studioSources: StudioSource[];
}

export async function buildLayers(i: LayersInput): Promise<LayersOutput> {
  const { config, reporter, store, compression, mounts, layerLimit, plans, reuse } = i;
  const pendingOf = new Map((i.pending ?? []).map((p) => [p.manifest, p] as const));
  const distinct = new Map<string, Item>();
  /** Every plan's copy of a layer with pending hashes, by its placeholder key: keyed again once it is built. */
  const copies = new Map<string, PlannedLayer[]>();
  for (const p of plans) {
    for (const l of p.plan.layers) {
      const source = p.manifests.find((m) => m.tree === l.tree)!;
      distinct.set(l.inputKey, { layer: l, source, parents: p.parents[l.tree] });
      if (pendingOf.has(source)) copies.set(l.inputKey, [...(copies.get(l.inputKey) ?? []), l]);
    }
    // A pending tree's marker names its digest, known once its layers are written: planned again and built then.
    for (const m of p.manifests) if (!pendingOf.has(m)) distinct.set(p.sentinels.get(m.tree)!.inputKey, { layer: p.sentinels.get(m.tree)!, source: m, marker: markerContent(m, p.name), parents: p.parents[m.tree] });
  }
  const built = new Map<string, { layer: BuiltLayer; reused: boolean }>();
  const toBuild: Item[] = [];
  const inRegistryOnly = new Set<string>();
  const studioSources = new Map<string, { layers: number; markers: number }>();
  // The lookups a few at a time: a cache row no build record vouches for (a cold build killed part-way) is proven
  // by reading its blob back (oci/layer-proof.ts), a decompression each, which one at a time left the other cores
  // idle. Each proof streams its blob: memory grows with the limit (a decompressor and its buffers), not the layers.
  const lookups = pLimit(Math.max(1, Math.min(8, availableParallelism())));
  const found = await Promise.allSettled(
    [...distinct].map(([key, item]) =>
      lookups(async (): Promise<Lookup> => {
        // A placeholder key is in no cache and no record: not looked up.
        if (copies.has(key)) return {};
        const kept = reuse.kept?.get(key);
        const hit = kept ?? (await reuse.cached(key, { ...(item.marker ? await markerProof(item) : item.layer), parents: item.parents }));
        if (hit) return { hit, registryOnly: kept && !(await store.hasBlob(kept.digest, kept.size)) ? kept.digest : undefined };
        // Another game of the studio built this very layer (same inputs): its blob is in that game's repository.
        const other = await reuse.studio?.(key);
        return other ? { hit: other.layer, registryOnly: other.layer.digest, from: other.repository } : {};
      }),
    ),
  );
  // Every lookup settled before an error is raised: none goes on (removing a damaged blob) after the build failed.
  const lookupFailed = found.find((f): f is PromiseRejectedResult => f.status === 'rejected');
  if (lookupFailed) throw lookupFailed.reason;
  // In the plans' order, as one at a time.
  for (const [n, [key, item]] of [...distinct].entries()) {
    const { hit, registryOnly, from } = (found[n] as PromiseFulfilledResult<Lookup>).value;
    if (hit) built.set(key, { layer: { ...hit, tree: item.layer.tree, index: item.layer.index }, reused: true });
    else toBuild.push(item);
    if (registryOnly) inRegistryOnly.add(registryOnly);
    if (from) {
      const n = studioSources.get(from) ?? { layers: 0, markers: 0 };
      studioSources.set(from, item.marker ? { ...n, markers: n.markers + 1 } : { ...n, layers: n.layers + 1 });
    }
  }
  for (const [from, n] of studioSources) {
    const what = [...(n.layers ? [count(n.layers, 'layer')] : []), ...(n.markers ? [count(n.markers, 'tree marker')] : [])].join(' and ');
    reporter.info(`${what} of this build ${n.layers + n.markers === 1 ? 'is' : 'are'} ${from}'s (same inputs): taken from there, not packed again`);
  }
  // Biggest first: the longest layer starts at once and the small ones fill the other slots around it, so all
  // cores stay busy to the end rather than one big layer running alone at the finish.
  toBuild.sort((a, b) => b.layer.bytes - a.layer.bytes);
  const markersLater = plans.reduce((n, p) => n + p.manifests.filter((m) => pendingOf.has(m)).length, 0);
  const totalBytes = toBuild.reduce((n, x) => n + x.layer.bytes, 0);
  // The tree markers (one .gamelayer-tree file per tree image) are not rows of the layer table: say them apart.
  const markers = toBuild.filter(({ marker }) => marker).length + markersLater;
  const what = `build ${count(toBuild.length + markersLater - markers, 'layer')}${markers ? ` + ${count(markers, 'tree marker')}` : ''}`;
  const task = toBuild.length ? reporter.task(what, totalBytes, 'bytes', { progressLines: true }) : undefined;
  // `concurrency` layers make their tar at once, and one more may be finishing (compressor tail, hash, fsync, rename)
  // meanwhile: each running layer holds a compressor and its buffers (a zstd layer a feed thread: 10-15 MiB of RSS).
  const slots = layerSlots(i.concurrency, 1);
  const contentSources = new Map<string, Promise<ContentSource>>();
  // Archive trees with a damaged cached copy found: their next content source hashes every cached copy first.
  const recheck = new Set<string>();
  const contentFor = (m: TreeManifest) => {
    let c = contentSources.get(m.root);
    if (!c) {
      c = contentSourceFor(m.source, { cacheDir: path.join(config.stateDir, 'cache', 'archive-content'), entries: m.entries, verify: recheck.has(m.root) });
      contentSources.set(m.root, c);
    }
    const chunked = i.chunkSources?.get(m.digest);
    if (chunked) {
      const key = `chunks:${m.digest}`;
      const plain = c;
      c = contentSources.get(key) ?? Promise.all([plain, xxhashApi()]).then(([inner, api]) => chunkedContentSource(inner, chunked, api));
      contentSources.set(key, c);
    }
    const pending = pendingOf.get(m);
    if (pending) {
      const plain = c;
      c = plain.then((inner) => packHashingSource(inner, m.root, pending));
    }
    return c;
  };
  /** A layer whose files were pending gets its real key once they are hashed, in every plan that holds it. */
  const keyAgain = (layer: PlannedLayer, parents: MountParents, result: BuiltLayer): BuiltLayer => {
    const all = copies.get(layer.inputKey);
    if (!all) return result;
    if (entrySourceOf(layer.entries).hasPending()) throw new Error(`${layer.tree} layer ${layer.index}: a file of it was not hashed while it was packed`);
    const inputKey = layerInputKey(mounts[layer.tree], layer.entries, parents);
    for (const l of all) l.inputKey = inputKey;
    distinct.set(inputKey, distinct.get(result.inputKey)!);
    return { ...result, inputKey };
  };
  // Once a layer failed, the layers still queued are not started, and the build fails only after those running
  // ended: no layer goes on writing (into the store, the archive content cache) after the build said it failed.
  let failed: { error: unknown } | undefined;
  const buildAll = async (items: Item[]) => {
    await Promise.allSettled(items.map((item) => slots.run((inputDone) => (failed ? Promise.resolve() : buildOne(item, inputDone).catch((error: unknown) => void (failed ??= { error }))))));
    if (failed) throw failed.error;
  };
  const buildOne = async ({ layer, source, marker, parents }: Item, inputDone: () => void) => {
    i.signal?.throwIfAborted();
    let last = 0;
    // The layer writer (tar, the gzip pool, zstd) loads with the first layer to build: a no-op never loads it.
    const { buildLayer } = await import('../../oci/layer.js');
    const attempt = async () =>
      buildLayer(layer, {
        content: marker ?? withWhiteouts(await contentFor(source)),
        mount: mounts[layer.tree],
        parents,
        store,
        compression,
        mtime: i.mtime,
        maxBytes: layerLimit,
        tooBig: () => layerTooBig(layer, layerLimit),
        inputDone,
        signal: i.signal,
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
      if (e instanceof GamelayerError && e.code === 'content.changed') {
        // The tree's bytes are not what its scan said. A file written since the scan shows in its stat next time,
        // but a scan cache row that is wrong for an unchanged file (damaged, edited) would say the same again and
        // fail every build: the tree's scan caches go, so the next scan hashes it afresh.
        await Promise.all(['stat', 'archive'].map((kind) => rm(cacheFile(config.stateDir, kind, source.source.path), { force: true })));
        throw e;
      }
      if (!(e instanceof ArchiveCacheCorrupt)) throw e;
      // A damaged copy in the archive content cache: drop it, check every other copy of the tree, take the damaged
      // ones from the archive again, and build the layer once more.
      reporter.warn(e.message);
      await rm(e.file, { force: true });
      if (!recheck.has(source.root)) {
        recheck.add(source.root);
        contentSources.delete(source.root);
      }
      result = await attempt();
    }
    result = keyAgain(layer, parents, result);
    reuse.cache.remember(result, i.kind, i.mtime, i.compressor, store.dir);
    built.set(result.inputKey, { layer: result, reused: false });
    // Saved after every layer: an interrupted build's next run reuses what this one finished.
    await reuse.cache.save();
  };
  await buildAll(toBuild);
  if (pendingOf.size > 0) {
    // Every pending file is in a layer now: the trees get their digests (and their stat caches), then their markers.
    for (const pending of pendingOf.values()) await pending.finish();
    const markerItems: Item[] = [];
    for (const p of plans) {
      for (const m of p.manifests) {
        if (!pendingOf.has(m)) continue;
        const old = p.sentinels.get(m.tree)!;
        const sentinel = sentinelLayer(m, mounts[m.tree], old.index, undefined, p.parents[m.tree]);
        p.sentinels.set(m.tree, sentinel);
        if (!markerItems.some((x) => x.layer.inputKey === sentinel.inputKey)) markerItems.push({ layer: sentinel, source: m, marker: markerContent(m, p.name), parents: p.parents[m.tree] });
        distinct.set(sentinel.inputKey, markerItems.find((x) => x.layer.inputKey === sentinel.inputKey)!);
      }
    }
    await buildAll(markerItems);
  }
  task?.done(`${count(toBuild.length + markersLater, 'layer')} built`);
  await reuse.cache.save();
  // A reused layer was measured when it was built, perhaps under a higher limit.
  for (const [key, b] of built) {
    if (b.layer.size > layerLimit) throw layerTooBig(distinct.get(key)!.layer, layerLimit);
  }
  return { built, inRegistryOnly, studioSources: [...studioSources].map(([repository, n]) => ({ repository, ...n })) };
}

/** A studio game's repository (`mountFrom:`) and how many layers and tree markers of this build were taken from it. */
export interface StudioSource {
  repository: string;
  layers: number;
  markers: number;
}

/** Where a layer comes from without being built; `from`: the studio's other game whose repository holds it. */
interface Lookup {
  hit?: BuiltLayer;
  registryOnly?: string;
  from?: string;
}

interface Item {
  layer: PlannedLayer;
  source: TreeManifest;
  marker?: ContentSource;
  /** The folders above the tree's mount as this platform's base holds them. */
  parents: MountParents;
}

/**
 * A tree marker's layer as its blob is proven against: the sentinel's entry carries the tree's digest where a file's
 * content hash goes (plan.ts sentinelLayer), so it is given the hash of the bytes the marker holds.
 */
async function markerProof({ layer, source }: Item): Promise<Pick<PlannedLayer, 'entries' | 'tree'>> {
  const hash = hex64((await xxhashApi()).h64Raw(sentinelBytes(source)));
  return { tree: layer.tree, entries: layer.entries.map((e) => (e.path === TREE_SENTINEL ? { ...e, xxh64: hash } : e)) };
}

/** Whiteouts of patch layers are empty files that exist in no tree: serve them without touching the disk. */
function withWhiteouts(inner: ContentSource): ContentSource {
  const skip = (e: Parameters<ContentSource['open']>[0]) => isWhiteout(e) && e.size === 0;
  const readInto = inner.readInto?.bind(inner);
  return {
    open: async (e) => (skip(e) ? Readable.from([]) : inner.open(e)),
    // The fast path for small files (read in place into the tar's chunk) goes through too.
    ...(readInto ? { readInto: (e: Parameters<ContentSource['open']>[0], buf: Buffer, off: number) => (skip(e) ? undefined : readInto(e, buf, off)) } : {}),
    // Big files read straight into the layer writer's chunks (whiteouts are empty: never asked for this way).
    ...(inner.reader ? { reader: inner.reader.bind(inner) } : {}),
  };
}

/** The marker layer's files: the tree sentinel, and in a chunked tree the platform's native assembler. */
function markerContent(m: TreeManifest, platform: string): ContentSource {
  return {
    open: async (e) => {
      if (e.path === TREE_SENTINEL) return Readable.from([sentinelBytes(m)]);
      const helper = e.path === ASSEMBLER_PATH ? assemblerBytes(platform) : undefined;
      if (!helper) throw new Error(`the marker layer of ${m.tree} has no file ${e.path}`);
      return Readable.from([await helper]);
    },
  };
}
