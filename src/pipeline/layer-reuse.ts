// Where a layer of this build comes from without being built: the layers a registry previous build keeps (present
// in the repository, never downloaded), else the local layer cache, whose blob must be in the store and check out.
import type { OciStore } from '../oci/store.js';
import type { Reporter } from '../report/reporter.js';
import type { BuiltLayer } from '../types.js';
import { LayerCache } from '../oci/layer-cache.js';

export interface LayerReuse {
  cache: LayerCache;
  /** A registry previous build's layers present in the repository, by inputKey (set when that build is built on). */
  kept?: Map<string, BuiltLayer>;
  /** The cached layer of these inputs, its blob proven in the store; a damaged blob is removed and reported. */
  cached(inputKey: string): Promise<BuiltLayer | undefined>;
}

export interface LayerReuseInput {
  cache: LayerCache;
  kept?: Map<string, BuiltLayer>;
  reporter: Reporter;
  store: OciStore;
  kind: 'gzip' | 'zstd';
  mtime: number;
  compressor: string;
}

/** The layer cache of `.gamelayer/`; a corrupt one is reported and starts empty. */
export async function openLayerCache(stateDir: string, reporter: Reporter): Promise<LayerCache> {
  const cache = await LayerCache.open(stateDir);
  if (cache.rejected) reporter.warn(`layer cache ignored (${cache.rejected}); layers found in the store are still reused`);
  return cache;
}

export function layerReuse(i: LayerReuseInput): LayerReuse {
  const { cache, reporter, store, kind, mtime, compressor } = i;
  // A reused blob that fails its check was removed by the store: say which file, and build the layer again.
  const onDamaged = (file: string, problem: string) => reporter.warn(`${file}: damaged blob in the store (${problem}); it was removed and its layer is built again`);
  return { cache, kept: i.kept, cached: (inputKey) => cache.find(inputKey, kind, mtime, compressor, store, onDamaged) };
}
