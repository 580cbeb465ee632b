// Layers and trees built by hand for the compaction planner's tests (planner input only; nothing is written).
import { EMPTY_XXH64, stateOf } from '../../src/plan/incremental.js';
import { layerInputKey } from '../../src/plan/plan.js';
import { compareBytewise, makeManifest, withParentDirs } from '../../src/scan/manifest.js';
import type { FileEntry, PlannedLayer, TreeManifest, TreeName } from '../../src/types.js';
import { MiB, mounts } from './plan-game.js';

export { file, MiB, mounts } from './plan-game.js';

/** A removed path as a patch layer carries it. */
export const whiteout = (path: string): FileEntry => ({ path, type: 'file', mode: 0o644, size: 0, xxh64: EMPTY_XXH64 });

/** A tree's manifest of `fs` (their folders added); `chunked`: its big files as chunks of 256 KiB from 16 MiB. */
export const tree = (t: TreeName, fs: FileEntry[], chunked = false): TreeManifest => ({
  ...makeManifest(t, { kind: 'dir', path: `/${t}` }, withParentDirs(fs)),
  ...(chunked ? { chunks: { minFileSize: 16 * MiB, avgChunkSize: 256 * 1024 } } : {}),
});

/** A recorded layer of `fs` (their folders added, in path order), a patch when `patch`. */
export const layer = (t: TreeName, fs: FileEntry[], patch = false): PlannedLayer => {
  const entries = withParentDirs(fs).sort((a, b) => compareBytewise(a.path, b.path));
  return { tree: t, index: 0, entries, inputKey: layerInputKey(mounts[t], entries), bytes: entries.reduce((n, e) => n + e.size, 0), ...(patch ? { patch: true } : {}) };
};

/** What a tree's layers unpack to (each path's topmost entry, whiteouts applied), in path order. */
export const unpacked = (layers: PlannedLayer[], t: TreeName) =>
  [...stateOf(layers.filter((l) => l.tree === t)).values()].map((o) => o.entry).sort((a, b) => compareBytewise(a.path, b.path));
