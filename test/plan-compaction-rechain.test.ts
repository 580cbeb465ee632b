// Early patch merges bounded by what they make nodes unpack again (docs/compaction.md, "Ninth round"): in an image
// with a chunked tree, a merge ahead of the layer limit may not re-chain more than the day's changed files beyond
// what the day re-chains anyway, so old patches deep in the stack are not merged on a small day.
import { describe, expect, it } from 'vitest';
import { planIncremental } from '../src/plan/incremental.js';
import { previousOf } from './support/previous-trees.js';
import { bigPakMedia, file, layer, MiB, mounts, tree, unpacked, whiteout } from './support/plan-layers.js';


/**
 * App media chunked (a 200 MiB pak as 400 chunks, a layer of their own at the bottom), three old patches P1–P3 that
 * later removals left mostly dead (0.5 MiB live of 4 MiB each) under the 100 MiB engine layer (an upgrade re-planned
 * it above them), two new 2 MiB patches U1, U2 and the app on top. 9 layers and today's top: early merges from 8.
 */
function month(chunked: boolean) {
  const { chunks, m, media } = bigPakMedia(chunked);
  const P = ['p1', 'p2', 'p3'].map((d) => [file(`${d}/live.dat`, MiB / 2), file(`${d}/old.dat`, 3.5 * MiB)]);
  const U = [
    [file('u1/a.dat', 2 * MiB), ...['p1', 'p2', 'p3'].map((d) => whiteout(`${d}/.wh.old.dat`))],
    [file('u2/a.dat', 2 * MiB)],
  ];
  const live = [...m, ...chunks, ...P.map((fs) => fs[0]!), ...U.map((fs) => fs[0]!)];
  const engine = [file('lib/engine.so', 100 * MiB)];
  const app = [file('Config/game.cfg', MiB)];
  const shaders = [file('shaders/s.bin', 10 * MiB)];
  const before = [tree('engine-media', shaders), tree('engine', engine), tree('app', app), media(live)];
  const stack = [
    layer('app-media', chunks),
    layer('engine-media', shaders),
    layer('app-media', m),
    ...P.map((fs) => layer('app-media', fs, true)),
    layer('engine', engine),
    ...U.map((fs) => layer('app-media', fs, true)),
    layer('app', app),
  ];
  // Today: six 1 MiB files (one patch): the merges' budget is 0.8 × 6 MiB, and nodes may unpack 6 MiB again for them.
  const today = Array.from({ length: 6 }, (_, i) => file(`new/f${i}.dat`, MiB));
  const after = [before[0]!, before[1]!, before[2]!, media([...live, ...today])];
  const inc = planIncremental(after, previousOf(before, stack), { targetSize: 512 * MiB, maxLayers: 18, mounts });
  for (const t of after) expect(unpacked(inc.layers, t.tree), t.tree).toEqual(t.entries);
  return { inc, stack };
}

describe('early merges and what nodes unpack again', () => {
  it('does not merge old patches under a big layer on a small day when the image has a chunked tree', () => {
    // By live bytes and 0.05 × the bytes above (the eighth round), P1–P3 cost (1.5 + 0.05 × 113) / 2 ≈ 3.6 MiB per
    // layer removed and U1 + U2 (4 + 0.05 × 3) ≈ 4.2: the old planner merges P1–P3 and every node unpacks the engine,
    // 113 MiB, again for a 6 MiB day. Bounded by the day's changed files, the merge is U1 + U2 (5 MiB re-chained).
    const { inc, stack } = month(true);
    expect(inc.decisions['app-media'].reason).toMatch(/merged patch layers/);
    // Everything up to the engine layer is as it was: nodes unpack none of it again.
    expect(inc.layers.slice(0, 7).map((l) => l.inputKey)).toEqual(stack.slice(0, 7).map((l) => l.inputKey));
    const merged = inc.layers.filter((l) => l.entries.some((e) => e.path.startsWith('u1/')));
    expect(merged).toHaveLength(1);
    expect(merged[0]!.entries.filter((e) => e.type === 'file' && !e.path.includes('.wh.')).map((e) => e.path)).toEqual(['u1/a.dat', 'u2/a.dat']);
  });

  it('keeps the merges of a whole-file image as they were', () => {
    // With whole files the bound would bring the image to its limit, where the forced merges re-chain as deep on
    // whatever day crosses it: the same day merges P1–P3 as the eighth round did.
    const { inc, stack } = month(false);
    expect(inc.decisions['app-media'].reason).toMatch(/merged patch layers/);
    expect(inc.layers.slice(0, 3).map((l) => l.inputKey)).toEqual(stack.slice(0, 3).map((l) => l.inputKey));
    expect(inc.layers.filter((l) => l.entries.some((e) => e.path === 'p1/live.dat' || e.path === 'p3/live.dat'))).toHaveLength(1);
  });
});
