// A small four-tree game for the compaction planner's tests: its files, manifests and sizes (planner input only;
// nothing is written to disk).
import type { IncrementalOptions } from '../../src/plan/incremental.js';
import { makeManifest, withParentDirs } from '../../src/scan/manifest.js';
import { TREE_NAMES, type FileEntry, type PlannedLayer, type TreeManifest, type TreeName } from '../../src/types.js';

export const MiB = 1 << 20;
export const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
/** The planner's settings of these tests: layers of 1 MiB, the default limits. */
export const opts: IncrementalOptions = { targetSize: MiB, maxLayers: 100, mounts };

let serial = 0;
/** A file with content of its own (a fresh hash each call): calling it again for a path is writing that file anew. */
export const file = (path: string, size: number): FileEntry => ({ path, type: 'file', mode: 0o644, size, xxh64: (++serial).toString(16).padStart(16, '0') });

export type Game = Record<TreeName, FileEntry[]>;
export const manifests = (g: Game): TreeManifest[] => TREE_NAMES.map((t) => makeManifest(t, { kind: 'dir', path: `/${t}` }, withParentDirs(g[t])));
/** The game's content bytes. */
export const content = (ms: TreeManifest[]) => ms.reduce((n, m) => n + m.entries.reduce((k, e) => k + e.size, 0), 0);
/** The layers' bytes (uncompressed). */
export const sizeOf = (ls: PlannedLayer[]) => ls.reduce((n, l) => n + l.bytes, 0);

/** About 3 MB in 550 files: engine libraries, shaders, an app binary and configs, 400 app-media files. */
export function game(): Game {
  return {
    engine: [file('start.sh', 900), ...Array.from({ length: 40 }, (_, i) => file(`lib/l${i}.so`, 50_000 + 1000 * i))],
    'engine-media': Array.from({ length: 60 }, (_, i) => file(`shaders/x${i}.bin`, 20_000 + 300 * i)),
    app: [file('bin/game.so', 1_500_000), ...Array.from({ length: 50 }, (_, i) => file(`Config/c${i}.cfg`, 30_000 + 100 * i))],
    'app-media': Array.from({ length: 400 }, (_, i) => file(`levels/l${i % 9}/p${String(i).padStart(3, '0')}.dat`, 20_000 + 97 * i)),
  };
}
