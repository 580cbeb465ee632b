// Which layers a build of the working trees would reuse from a recorded build, and which it would rebuild: the
// same planning a build does, so it lives with the planner. The base image's layer count comes from the caller
// (reading a base image is the image stage's job, above this one).
import { treeSourceFor, type GameConfig } from '../config/load.js';
import type { MountParents } from './mount-parents.js';
import { layerSettingsKey, settingsChanges, type LayerSettings } from './settings-key.js';
import { planIncremental, recordedTrees, SERVER_STACK_ORDER } from './incremental.js';
import { totalsOf } from '../entries/packed-list.js';
import { TREE_NAMES, type BuildRecord, type PlannedLayer, type TreeManifest, type TreeName } from '../types.js';

export interface LayerChange {
  tree: TreeName;
  index: number;
  platform: string;
  files: number;
  /** Content bytes of the layer. */
  bytes: number;
  status: 'reused' | 'rebuilt';
  /** A rebuilt layer that is a patch on the recorded build (what `build` then shows as `patch`). */
  patch?: boolean;
}

export interface LayerDiff {
  /** Set when the recorded build was made with other layer settings: the next build plans every tree afresh. */
  afresh?: string;
  layers: LayerChange[];
  reused: number;
  rebuilt: number;
  /** Content bytes of the layers to rebuild (what would be tarred, compressed and pushed). */
  bytesToBuild: number;
}

/**
 * How many layers the base image has on a platform (`os/arch[/variant]`), and per tree the folders it holds above the
 * mount with an owner or mode of their own (part of the layers' keys: mount-parents.ts), when known.
 */
export type BaseLayerCount = (platform: string) => Promise<{ layers: number; parents?: Partial<Record<TreeName, MountParents>> }>;

export async function layerDiff(
  config: GameConfig,
  current: readonly TreeManifest[],
  record: Pick<BuildRecord, 'layers' | 'plan' | 'manifests' | 'bases'> & Partial<Pick<BuildRecord, 'settingsKey'>>,
  baseLayerCount: BaseLayerCount,
  /** Given to the planner (IncrementalOptions.betweenSteps): the diff of a large game collects garbage there. */
  betweenSteps?: () => void,
  /** The next build's settings (compression, SOURCE_DATE_EPOCH: the caller's): the default the config's and 0. */
  next: Pick<LayerSettings, 'kind' | 'mtime'> = { kind: config.layers.compression, mtime: 0 },
): Promise<LayerDiff> {
  const tally = layerTally(record);
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
  // A build does not build on a record of other layer settings (a mount moved): nor does its preview here. Layers
  // whose inputs are the same (the trees that kept their mount) still count as reused, as the build reuses them.
  const settingsKey = layerSettingsKey({ targetSize: config.layers.targetSize, maxLayers: config.layers.maxLayers, mounts, ...next });
  const afresh = record.settingsKey !== undefined && record.settingsKey !== settingsKey ? settingsChanges(record.settingsKey, settingsKey) : undefined;
  for (const platform of config.platforms) {
    const { layers: baseLayers, parents } = await baseLayerCount(platform);
    const manifests = TREE_NAMES.map((t) => {
      const shared = treeSourceFor(config.trees[t], platform).shared;
      const m = current.find((x) => x.tree === t && x.platform === (shared ? undefined : platform));
      if (!m) throw new Error(`no scan of ${t} for ${platform}`);
      return m;
    });
    // The same planning a build does: the recorded build's layers, plus patches where trees changed.
    const plan = planIncremental(manifests, afresh ? {} : recordedTrees(record, platform), {
      targetSize: config.layers.targetSize,
      maxLayers: config.layers.maxLayers,
      baseLayers,
      mounts,
      ...(parents ? { parents } : {}),
      freshOrder: SERVER_STACK_ORDER,
      ...(betweenSteps ? { betweenSteps } : {}),
    });
    for (const l of plan.layers) tally.add(l, platform);
  }
  return { ...(afresh ? { afresh } : {}), ...tally.result() };
}

/**
 * Which layers of the build `newer` were already in the build `older` (by input key) and which it made: two
 * recorded builds, no working trees (`diff --against A --to B`). `rebuilt` here means made by `newer`.
 */
export function recordLayerDiff(older: Pick<BuildRecord, 'layers' | 'plan'>, newer: Pick<BuildRecord, 'plan' | 'platforms'>): LayerDiff {
  const tally = layerTally(older);
  // Records of one platform may leave a layer's platform out: it is the build's only one.
  for (const l of newer.plan.layers) tally.add(l, l.platform ?? newer.platforms[0] ?? '');
  return tally.result();
}

/** Layers counted against a recorded build: reused when it has their input key; a new layer's bytes counted once. */
function layerTally(record: Pick<BuildRecord, 'layers' | 'plan'>) {
  const known = new Set([...record.layers.map((l) => l.inputKey), ...record.plan.layers.map((l) => l.inputKey)]);
  const layers: LayerChange[] = [];
  const counted = new Set<string>();
  let bytesToBuild = 0;
  return {
    add(l: PlannedLayer, platform: string): void {
      const status = known.has(l.inputKey) ? 'reused' : 'rebuilt';
      if (status === 'rebuilt' && !counted.has(l.inputKey)) {
        counted.add(l.inputKey);
        bytesToBuild += l.bytes;
      }
      layers.push({ tree: l.tree, index: l.index, platform, files: totalsOf(l.entries).files, bytes: l.bytes, status, ...(status === 'rebuilt' && l.patch ? { patch: true } : {}) });
    },
    result: (): LayerDiff => ({
      layers,
      reused: layers.filter((l) => l.status === 'reused').length,
      rebuilt: layers.filter((l) => l.status === 'rebuilt').length,
      bytesToBuild,
    }),
  };
}
