// Layers and trees built by hand for the compaction planner's tests (planner input only; nothing is written).
import { EMPTY_XXH64, stateOf } from '../../src/plan/incremental.js';
import { layerInputKey } from '../../src/plan/plan.js';
import { compareBytewise, makeManifest, withParentDirs } from '../../src/scan/manifest.js';
import type { FileEntry, PlannedLayer, TreeManifest, TreeName } from '../../src/types.js';
import { file, MiB, mounts } from './plan-game.js';

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

/**
 * App media around a 200 MiB pak: `chunks`, the layer at the bottom of the stack (400 chunks of 0.5 MiB when
 * `chunked`, else the whole pak); `m`, its small files (10 MiB, and the pak's recipe when chunked); `media(fs)`,
 * app media's manifest of `fs` (chunked: its chunk settings and the pak's recipe).
 */
export function bigPakMedia(chunked: boolean) {
  const chunk = (i: number) => file(`.gamelayer-chunks/c/${String(i % 256).padStart(2, '0')}/${String(i).padStart(8, '0')}`, MiB / 2);
  const chunks = chunked ? Array.from({ length: 400 }, (_, i) => chunk(i)) : [file('paks/big.pak', 200 * MiB)];
  const media = (fs: FileEntry[]): TreeManifest =>
    chunked
      ? {
          ...tree('app-media', fs),
          chunks: { minFileSize: 16 * MiB, avgChunkSize: MiB / 2 },
          recipes: [{ path: 'paks/big.pak', size: 200 * MiB, xxh64: '', sha256: '', chunks: '' }],
        }
      : tree('app-media', fs);
  const m = [file('m/base.dat', 10 * MiB), ...(chunked ? [file('.gamelayer-chunks/r/paks/big.pak', 120 + 74 * 400)] : [])];
  return { chunks, m, media };
}
