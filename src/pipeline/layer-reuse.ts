// Where a layer of this build comes from without being built: the layers a registry previous build keeps (present
// in the repository, never downloaded), else the local layer cache, whose blob must be in the store and check out,
// and be the tar of these inputs: a build record says so, or with none the blob is read back (oci/layer-proof.ts).
import path from 'node:path';
import { OciStore } from '../oci/store.js';
import type { MountParents } from '../plan/mount-parents.js';
import type { Reporter } from '../report/reporter.js';
import type { BuildRecord, BuiltLayer, PlannedLayer, TreeName } from '../types.js';
import { LayerCache } from '../oci/layer-cache.js';
import { LAYER_MEDIA_TYPE } from '../oci/layer-kinds.js';
import { recordedLayers, type RecordedLayers } from './recorded-layers.js';
import type { StudioLayers } from './studio-layers.js';

export interface LayerReuse {
  cache: LayerCache;
  /** A registry previous build's layers present in the repository, by inputKey (set when that build is built on). */
  kept?: Map<string, BuiltLayer>;
  /** The studio's other games' layers (`mountFrom:`), asked for a layer neither kept nor cached. */
  studio?: StudioLayers;
  /**
   * The cached layer of these inputs, its blob proven in the store; a damaged blob is removed and reported. A row no
   * build record vouches for is used only when its blob is proven the tar of `planned`'s entries: without `planned`
   * (asked while planning) it is not used, and kept for the layers step to prove.
   */
  cached(inputKey: string, planned?: Pick<PlannedLayer, 'entries' | 'tree'> & { parents?: MountParents }): Promise<BuiltLayer | undefined>;
}

export interface LayerReuseInput {
  cache: LayerCache;
  kept?: Map<string, BuiltLayer>;
  studio?: StudioLayers;
  /** The previous build's record (its settings this build's): a cached layer must have its layers' diffIDs. */
  record?: Pick<BuildRecord, 'layers'>;
  reporter: Reporter;
  store: OciStore;
  kind: 'gzip' | 'zstd';
  mtime: number;
  compressor: string;
  /** Where each tree is in the image: a layer's tar holds its entries below it. */
  mounts: Record<TreeName, string>;
  /** Where the other local build records are, and the settings they must have been built with to vouch for a row. */
  config: { stateDir: string };
  settingsKey: string;
}

/**
 * The layer cache of `.gamelayer/`; a corrupt one is reported and starts empty (`seedFromRecord` then refills it from
 * the last build's record, so what the warning says holds).
 */
export async function openLayerCache(stateDir: string, reporter: Reporter): Promise<LayerCache> {
  const cache = await LayerCache.open(stateDir);
  if (cache.rejected) reporter.warn(`layer cache ignored (${cache.rejected}); the last build's layers found in the store are still reused`);
  return cache;
}

/** What a row seeded from a record says of its compressor: unknown, so the exact-compressor rows come first. */
const FROM_RECORD = 'unknown (from a build record)';

/**
 * A rejected cache is refilled from the previous build's record (same layer settings, so its kind and mtime are
 * this build's): without it the cache is the only map from a layer's inputs to its blob, and every layer of the
 * game was built again although the store held them. Each row is still checked against the store when asked
 * (`LayerCache.find`: a missing blob drops it, a damaged one is removed and rebuilt), so a record is no more trusted
 * than the cache itself.
 */
export function seedFromRecord(cache: LayerCache, record: BuildRecord | undefined, kind: 'gzip' | 'zstd', mtime: number, storeDir: string): void {
  if (!cache.rejected || !record) return;
  for (const layer of record.layers) cache.remember(layer, kind, mtime, FROM_RECORD, storeDir);
}

export function layerReuse(i: LayerReuseInput): LayerReuse {
  const { cache, reporter, store, kind, mtime, compressor } = i;
  // A reused blob that fails its check was removed by the store: say which file, and build the layer again.
  const onDamaged = (file: string, problem: string) => reporter.warn(`${file}: damaged blob in the store (${problem}); it was removed and its layer is built again`);
  const onDisagrees = (file: string, problem: string) => reporter.warn(`${file}: layer cache row not used (${problem}); the layer is built again`);
  // The previous build's layers (same settings: same kind and mtime, so the same tar for the same inputs).
  const recorded = new Map<string, string>();
  for (const l of [...(i.record?.layers ?? []), ...(i.kept?.values() ?? [])]) recorded.set(l.inputKey, l.diffID);
  // Rows of inputs the previous build did not have: the newest few other local records of these settings, read
  // one at a time only as far as needed (recorded-layers.ts).
  let others: RecordedLayers | undefined;
  const vouched = async (inputKey: string): Promise<string | undefined> => {
    const previous = recorded.get(inputKey);
    if (previous !== undefined || !cache.has(inputKey, kind, mtime)) return previous;
    others ??= recordedLayers(i.config.stateDir, i.settingsKey);
    return others.diffID(inputKey);
  };
  /**
   * The layer of these inputs from the store of the local record that vouched for its row, copied into this one
   * (digest-checked): another game's config in this folder (its own `store:`) built it from the same files.
   */
  const fromOtherStore = async (inputKey: string): Promise<BuiltLayer | undefined> => {
    const found = await others?.layer(inputKey);
    if (found?.store === undefined) return undefined;
    const dir = path.resolve(i.config.stateDir, found.store);
    if (dir === path.resolve(store.dir)) return undefined;
    const { layer } = found;
    try {
      const other = await OciStore.open(dir, { create: false });
      await store.putBlob(await other.openBlob(layer.digest, layer.size), { digest: layer.digest, size: layer.size });
    } catch {
      return undefined; // gone from there, or damaged: the layer is packed
    }
    cache.remember(layer, kind, mtime, FROM_RECORD, store.dir);
    return layer;
  };
  return {
    cache,
    kept: i.kept,
    studio: i.studio,
    cached: async (inputKey, planned) => {
      const diffID = await vouched(inputKey);
      if (diffID !== undefined) return (await cache.find(inputKey, kind, mtime, compressor, store, onDamaged, diffID, onDisagrees)) ?? (await fromOtherStore(inputKey));
      // No record vouches for the row (a cold build killed part-way, a record collected): its blob, sound as it is,
      // may be any layer's. Used only once read back and found to be the tar of these very entries.
      if (!planned || !cache.has(inputKey, kind, mtime)) return undefined;
      const prove = async (layer: BuiltLayer) => {
        if (layer.mediaType !== LAYER_MEDIA_TYPE[kind]) return `its blob is ${layer.mediaType}, this build's layers ${LAYER_MEDIA_TYPE[kind]}`;
        const task = reporter.task(`${planned.tree}: proving a cached layer no build record names`, layer.size, 'bytes');
        // Loaded when a proof is due: it holds the layer writer's tar code, which a no-op build never loads (start-up time).
        const { proveLayerBlob } = await import('../oci/layer-proof.js');
        const why = await proveLayerBlob(store, layer, planned, i.mounts[planned.tree], mtime, (n) => task.tick(n));
        task.done(why === undefined ? `layer ${layer.digest.slice(7, 19)} proven` : undefined);
        return why;
      };
      return cache.find(inputKey, kind, mtime, compressor, store, onDamaged, undefined, onDisagrees, prove);
    },
  };
}
