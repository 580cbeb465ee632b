// A day that re-chains deep anyway takes the dead bytes above that point with it (docs/compaction.md, "Tenth round"):
// in an image with a chunked tree, an engine upgrade (the engine planned afresh in its old place) makes every node
// unpack the stack above the engine again, so an old patch up there that is partly dead is rewritten the same day,
// within the day's budget, instead of bringing its own deep re-chain on a later small day.
import { describe, expect, it } from 'vitest';
import { planIncremental } from '../src/plan/incremental.js';
import type { PlannedLayer } from '../src/types.js';
import { previousOf } from './support/previous-trees.js';
import { bigPakMedia, file, layer, MiB, mounts, tree, unpacked, whiteout } from './support/plan-layers.js';

/**
 * App media (chunked or a whole 200 MiB pak) at the bottom, engine media, app media's small files, the 100 MiB engine,
 * then an app-media patch P (3 MiB live, 2 MiB that a later patch U removed: 40 % dead) and the app. The image is far
 * from its dead-byte limit (2 MiB dead of 330 MiB). Today the engine is upgraded whole: it is planned afresh in place.
 */
function upgrade(chunked: boolean) {
  const { chunks, m, media } = bigPakMedia(chunked);
  const P = [file('p/live.dat', 3 * MiB), file('p/old.dat', 2 * MiB)];
  const U = [file('u/a.dat', MiB), whiteout('p/.wh.old.dat')];
  const live = [...m, ...chunks, P[0]!, U[0]!];
  const shaders = [file('shaders/s.bin', 10 * MiB)];
  const app = [file('Config/game.cfg', MiB)];
  const before = [tree('engine-media', shaders), tree('engine', [file('lib/engine.so', 100 * MiB)]), tree('app', app), media(live)];
  const stack = [
    layer('app-media', chunks),
    layer('engine-media', shaders),
    layer('app-media', m),
    layer('engine', before[1]!.entries.filter((e) => e.type === 'file')),
    layer('app-media', P, true),
    layer('app-media', U, true),
    layer('app', app),
  ];
  const after = [before[0]!, tree('engine', [file('lib/engine.so', 100 * MiB)]), before[2]!, before[3]!];
  const inc = planIncremental(after, previousOf(before, stack), { targetSize: 512 * MiB, maxLayers: 60, mounts });
  for (const t of after) expect(unpacked(inc.layers, t.tree), t.tree).toEqual(t.entries);
  return { inc, stack };
}

const holdsOldCopy = (layers: PlannedLayer[]) => layers.some((l) => l.entries.some((e) => e.path === 'p/old.dat'));

describe('compaction on a day that re-chains deep anyway', () => {
  it('rewrites a partly dead patch above an upgraded engine when the image has a chunked tree', () => {
    const { inc, stack } = upgrade(true);
    expect(inc.decisions.engine.decision).toBe('rebased');
    expect(inc.decisions['app-media'].reason).toMatch(/rewrote layer \d+ \(40 % dead\)/);
    expect(holdsOldCopy(inc.layers)).toBe(false);
    // Below the engine nothing changed: nodes unpack none of it again.
    expect(inc.layers.slice(0, 3).map((l) => l.inputKey)).toEqual(stack.slice(0, 3).map((l) => l.inputKey));
  });

  it('leaves a whole-file image as it was planned before', () => {
    const { inc } = upgrade(false);
    expect(inc.decisions.engine.decision).toBe('rebased');
    expect(inc.decisions['app-media'].decision).toBe('unchanged');
    expect(holdsOldCopy(inc.layers)).toBe(true);
  });
});
