// An engine upgrade is not a compaction (docs/compaction.md, "Tenth round" and "Eleventh round"): a tree planned
// afresh re-chains the server image above its old place, but the tenth round's piggyback on that day re-sent twelve
// app-media layers that no limit needed (the real 30-day month: 1.36× its written bytes, over issue 20's ≤ 1.3×), and
// the pods of app media's own image, which the upgrade does not re-chain, unpacked them again. A partly dead patch
// above an upgraded engine therefore stays until a limit needs it. (The eleventh round's piggyback on compaction days
// only was measured and not kept either: the 30-day months sent up to 0.14× their written bytes more.)
import { describe, expect, it } from 'vitest';
import { planIncremental } from '../src/plan/incremental.js';
import type { FileEntry, TreeManifest } from '../src/types.js';
import { previousOf } from './support/previous-trees.js';
import { file, layer, MiB, mounts, tree, unpacked } from './support/plan-layers.js';

const files = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => file(`${prefix}/f${String(i).padStart(2, '0')}.dat`, MiB));
const newest = (fs: FileEntry[], updates: FileEntry[]) => fs.map((f) => updates.find((u) => u.path === f.path) ?? f);

/** The engine upgraded whole (planned afresh in its old place), an app-media patch above it 40 % dead, no pressure. */
function upgrade() {
  const m = files('m', 40);
  const p = [file('p/live.dat', 3 * MiB), file('p/old.dat', 2 * MiB)];
  const u = [file('p/old.dat', 2 * MiB)];
  const app = [file('Config/game.cfg', MiB)];
  const before = (engine: FileEntry[]): TreeManifest[] => [
    tree('engine-media', [file('shaders/s.bin', 10 * MiB)]),
    tree('engine', engine),
    tree('app', app),
    tree('app-media', newest([...m, ...p], u), true),
  ];
  const old = before([file('lib/engine.so', 100 * MiB)]);
  const P = layer('app-media', p, true);
  const stack = [layer('engine-media', old[0]!.entries.filter((e) => e.type === 'file')), layer('app-media', m), layer('engine', old[1]!.entries.filter((e) => e.type === 'file')), P, layer('app-media', u, true), layer('app', app)];
  const after = before([file('lib/engine.so', 100 * MiB)]);
  const inc = planIncremental(after, previousOf(old, stack), { targetSize: 512 * MiB, maxLayers: 60, mounts });
  for (const t of after) expect(unpacked(inc.layers, t.tree), t.tree).toEqual(t.entries);
  return { inc, kept: inc.layers.some((l) => l.inputKey === P.inputKey) };
}

describe('in an image with a chunked tree, an engine upgrade', () => {
  it('does not rewrite the partly dead layers above the engine (a tree planned afresh is not a compaction)', () => {
    const { inc, kept } = upgrade();
    expect(inc.decisions.engine.decision).toBe('rebased');
    expect(kept).toBe(true);
    expect(inc.decisions['app-media'].decision).toBe('unchanged');
  });
});
