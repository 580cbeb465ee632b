// A day that already compacts deep takes its tree's partly dead layers above that point with it, and nothing else
// (docs/compaction.md, "Eleventh round"): in an image with a chunked tree, an early or forced compaction of a layer
// makes every node, and every pod of that tree's image, unpack the tree's layers above it again, so an old patch up
// there that is partly dead is rewritten the same day (within the day's budget) instead of bringing its own deep
// re-chain on a later small day. A tree planned afresh (an engine upgrade) brings no such rewrite: the tenth round's
// piggyback on it re-sent twelve app-media layers that no limit needed (the real month: 1.36× its written bytes).
import { describe, expect, it } from 'vitest';
import { planIncremental, type IncrementalOptions } from '../src/plan/incremental.js';
import type { FileEntry, PlannedLayer, TreeManifest } from '../src/types.js';
import { previousOf } from './support/previous-trees.js';
import { file, layer, MiB, mounts, tree, unpacked } from './support/plan-layers.js';

const files = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => file(`${prefix}/f${String(i).padStart(2, '0')}.dat`, MiB));
/** New versions (same path and size) of the first `n` files. */
const renew = (fs: FileEntry[], n: number) => fs.slice(0, n).map((f) => file(f.path, f.size));
const newest = (fs: FileEntry[], updates: FileEntry[]) => fs.map((f) => updates.find((u) => u.path === f.path) ?? f);
const contentOf = (ms: TreeManifest[]) => ms.reduce((n, m) => n + m.entries.reduce((k, e) => k + e.size, 0), 0);

/**
 * Engine media (10 MiB, plus `shaders` files in a layer of their own above Y), the engine (10 MiB), app-media layers
 * Y (deep: 10 files) and P (above it: 10 files), a patch N with new versions of `yDead` of Y's files, `pDead` of P's
 * and `sDead` of the shaders, and the app (a 40 MiB binary: the soft phase cannot take Y or P, whose re-chain is more
 * than the day's bytes). Today the app gets a new 30 MiB file; the server image's dead bytes are at `pressure` of their
 * allowance, app media chunked.
 */
function day(yDead: number, pDead: number, pressure: number, sDead = 0) {
  const y = files('y', 10);
  const p = files('p', 10);
  const s = files('shaders', 10);
  const media = [...renew(y, yDead), ...renew(p, pDead)];
  const shaderUpdates = renew(s, sDead);
  const app = [file('Config/game.cfg', MiB), file('bin/game.so', 40 * MiB)];
  const engineMedia = [file('shaders/base.bin', 10 * MiB)];
  const before = [
    tree('engine-media', [...engineMedia, ...newest(s, shaderUpdates)]),
    tree('engine', [file('lib/engine.so', 10 * MiB)]),
    tree('app', app),
    tree('app-media', newest([...y, ...p], media), true),
  ];
  const Y = layer('app-media', y);
  const S = layer('engine-media', s);
  const P = layer('app-media', p);
  const stack = [
    layer('engine-media', engineMedia),
    layer('engine', [file('lib/engine.so', 10 * MiB)]),
    Y,
    S,
    P,
    layer('app-media', media, true),
    ...(shaderUpdates.length ? [layer('engine-media', shaderUpdates, true)] : []),
    layer('app', app),
  ];
  const after = [before[0]!, before[1]!, tree('app', [...app, file('Config/new.pak', 30 * MiB)]), before[3]!];
  const dead = (yDead + pDead + sDead) * MiB;
  const opts: IncrementalOptions = { targetSize: 64 * MiB, maxLayers: 100, mounts, maxTreeDeadShare: 100, maxDeadShare: dead / (pressure * contentOf(after)) };
  const inc = planIncremental(after, previousOf(before, stack), opts);
  for (const m of after) expect(unpacked(inc.layers, m.tree), m.tree).toEqual(m.entries);
  const kept = (l: PlannedLayer) => inc.layers.some((x) => x.inputKey === l.inputKey);
  return { Y, S, P, inc, kept };
}

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

describe('in an image with a chunked tree, a day that compacts deep', () => {
  it('rewrites its tree\'s partly dead layers above the compacted one, within the day\'s budget', () => {
    // Y: 6 of 10 files dead, P: 4 of 10 (40 %). At 92 % of the allowance the early compaction takes Y (alone enough,
    // the least sent: 4 MiB); nodes unpack P again anyway, so P's live 6 MiB go too (0.6 × 30 MiB − 4 MiB left).
    // The ninth round took only layers half dead there, within half the day's new bytes less what was spent.
    const { Y, P, inc, kept } = day(6, 4, 0.92);
    expect(kept(Y)).toBe(false);
    expect(kept(P)).toBe(false);
    expect(inc.decisions['app-media'].reason).toMatch(/rewrote layer \d+ \(60 % dead\); rewrote layer \d+ \(40 % dead\)/);
  });

  it('leaves the partly dead layers of other trees above it (their images are not re-chained)', () => {
    // The same day with a shader layer S between Y and P, 4 of 10 files dead: the server image re-chains above Y,
    // but engine media's own image does not, and its pods would unpack S again for it.
    const { S, P, kept } = day(6, 4, 0.92, 4);
    expect(kept(S)).toBe(true);
    expect(kept(P)).toBe(false);
  });

  it('does not rewrite what a tree planned afresh re-chains (an engine upgrade is not a compaction)', () => {
    const { inc, kept } = upgrade();
    expect(inc.decisions.engine.decision).toBe('rebased');
    expect(kept).toBe(true);
    expect(inc.decisions['app-media'].decision).toBe('unchanged');
  });
});
