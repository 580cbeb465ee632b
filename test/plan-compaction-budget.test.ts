// What compaction may add to a day's push (issue 16: worst update ≤ 2× its changed files): budgets counted
// compressed, as what they send; a forced compaction takes what fits in the day's budget first; a fully dead layer
// of one file goes free from the forced threshold on; a tree image's early compaction waits for 90 % of its
// allowance (docs/compaction.md, "Sixth round").
import { describe, expect, it } from 'vitest';
import { planIncremental, type IncrementalOptions, type PreviousTree } from '../src/plan/incremental.js';
import { TREE_NAMES, type PlannedLayer, type TreeManifest, type TreeName } from '../src/types.js';
import { content, file, game, manifests, opts, sizeOf, type Game } from './support/plan-game.js';
import { previousOf } from './support/previous-trees.js';

/** No dead-byte limit at all: days that only prepare the stack. */
const lifted: IncrementalOptions = { ...opts, maxDeadShare: 100, maxTreeDeadShare: 100, maxUnpackedDeadShare: 100, rebaseShare: 1 };
const filesOf = (l: PlannedLayer) => l.entries.filter((e) => e.type === 'file');

/** Files of `g` whose path is in `paths` written again (new content, same size). */
const rewrite = (g: Game, t: TreeName, paths: Set<string>): Game => ({ ...g, [t]: g[t].map((e) => (paths.has(e.path) ? file(e.path, e.size) : e)) });

/** One build: the next manifests planned on the previous ones. */
function build(prevMs: TreeManifest[], layers: PlannedLayer[], g: Game, o: IncrementalOptions, packed?: (l: PlannedLayer) => number) {
  const ms = manifests(g);
  const prev = previousOf(prevMs, layers);
  const withSizes = packed ? (Object.fromEntries(Object.entries(prev).map(([t, p]) => [t, { ...p!, packed: p!.layers.map(packed) }])) as Partial<Record<TreeName, PreviousTree>>) : prev;
  return { ms, inc: planIncremental(ms, withSizes, o) };
}

/**
 * Day 0 and day 1: three quarters of the files of the `count` lowest app-media layers rewritten, under no limit, so
 * those layers ("victims", deep in the stack) are about 75 % dead and their live bytes small.
 */
function victimsDay(count: number) {
  const g = game();
  const ms = manifests(g);
  const layers = planIncremental(ms, {}, opts).layers;
  const victims = layers.filter((l) => l.tree === 'app-media').slice(0, count);
  const paths = new Set(victims.flatMap((l) => filesOf(l).filter((_e, i) => i % 4 !== 0).map((e) => e.path)));
  const g1 = rewrite(g, 'app-media', paths);
  const { ms: ms1, inc } = build(ms, layers, g1, lifted);
  const liveOf = (l: PlannedLayer) => filesOf(l).filter((e) => !paths.has(e.path)).reduce((n, e) => n + e.size, 0);
  return { g1, ms1, layers: inc.layers, victims, liveOf };
}

/** The compressed bytes a day sends: the layers not in the previous build, each at its tree's ratio. */
const sentPacked = (before: PlannedLayer[], after: PlannedLayer[], ratio: (t: TreeName) => number) => {
  const had = new Set(before.map((l) => l.inputKey));
  return after.filter((l) => !had.has(l.inputKey)).reduce((n, l) => n + l.bytes * ratio(l.tree), 0);
};
/** The server image's uncompressed dead bytes at `share` of their cap on this day: a limit the test sets exactly. */
const atShare = (dead: number, ms: TreeManifest[], share: number): IncrementalOptions => ({
  ...opts,
  maxDeadShare: 100,
  maxTreeDeadShare: 100,
  maxUnpackedDeadShare: dead / content(ms) / share,
});

describe('compaction budgets', () => {
  it('early compaction spends 0.6 of the day\'s changed files counted compressed: compressible changes do not pay for incompressible rewrites', () => {
    const { g1, ms1, layers, victims, liveOf } = victimsDay(3);
    const dead = sizeOf(layers) - content(ms1);
    const biggest = Math.max(...victims.map(liveOf));
    // Day 2: a new file in the app tree twice as big as a victim's live bytes, the app's layers recorded at a
    // quarter of their content (text that compresses), app media incompressible. 93 % of the allowance: early.
    const ratio = (t: TreeName) => (t === 'app' ? 0.25 : 1);
    const g2: Game = { ...g1, app: [...g1.app, file('Content/new.pak', 2 * biggest)] };
    const { inc } = build(ms1, layers, g2, atShare(dead, manifests(g2), 0.93), (l) => Math.round(l.bytes * ratio(l.tree)));
    const changed = 0.25 * 2 * biggest;
    // Counted uncompressed, the day's 2 × `biggest` bytes rewrote victims on the old policy (3× the day's push).
    expect(sentPacked(layers, inc.layers, ratio)).toBeLessThanOrEqual(1.6 * changed);
    // The victims whose live bytes pass 0.6 of the day's compressed bytes stay as they were.
    for (const v of victims.filter((x) => liveOf(x) > 0.6 * changed)) expect(inc.layers).toContain(v);
  });

  it('early compaction counts a kept layer\'s live bytes compressed: a compressible deep layer fits a day its content would not', () => {
    const { g1, ms1, layers, victims, liveOf } = victimsDay(3);
    const dead = sizeOf(layers) - content(ms1);
    const smallest = Math.min(...victims.map(liveOf));
    // App media recorded at a fifth of its content, the app incompressible; the day's new file is 0.8 of the
    // smallest victim's live bytes: too small for its content, enough for its compressed bytes (0.2 ≤ 0.6 × 0.8).
    const ratio = (t: TreeName) => (t === 'app-media' ? 0.2 : 1);
    const g2: Game = { ...g1, app: [...g1.app, file('Content/new.pak', Math.round(0.8 * smallest))] };
    const { inc } = build(ms1, layers, g2, atShare(dead, manifests(g2), 0.93), (l) => Math.round(l.bytes * ratio(l.tree)));
    expect(inc.decisions['app-media']).toMatchObject({ decision: 'compacted', reason: expect.stringMatching(/rewrote layer \d+/) });
    expect(sentPacked(layers, inc.layers, ratio)).toBeLessThanOrEqual(1.6 * 0.8 * smallest + 1000);
  });

  it('a forced compaction takes the layers that fit in the day\'s budget first, not the best-scored one that does not', () => {
    // Victims deep (small live bytes); then a patch P near the top made half dead: its score (dead bytes per byte of
    // cost) beats every victim's, but its live bytes do not fit a small day's budget.
    const { g1, ms1, layers, victims, liveOf } = victimsDay(2);
    const batch = Array.from({ length: 40 }, (_, i) => file(`new/b${String(i).padStart(2, '0')}.dat`, 40_000 + 13 * i));
    const g2: Game = { ...g1, 'app-media': [...g1['app-media'], ...batch] };
    const { ms: ms2, inc: day2 } = build(ms1, layers, g2, lifted);
    const patch = day2.layers.at(-1)!;
    expect(filesOf(patch).map((e) => e.path)).toContain('new/b00.dat');
    const g3 = rewrite(g2, 'app-media', new Set(batch.filter((_e, i) => i % 2 === 0).map((e) => e.path)));
    const { ms: ms3, inc: day3 } = build(ms2, day2.layers, g3, lifted);
    const dead = sizeOf(day3.layers) - content(ms3);
    // Day 4: one small new file (a victim's live bytes fit in 0.6 of it, the patch's do not), at 97 % of the cap.
    const smallest = Math.min(...victims.map(liveOf));
    const fresh = Math.ceil(smallest / 0.6) + 1000;
    const g4: Game = { ...g3, app: [...g3.app, file('Content/new.pak', fresh)] };
    const ms4 = manifests(g4);
    const o = atShare(dead, ms4, 0.97);
    const { inc } = build(ms3, day3.layers, g4, o, (l) => l.bytes);
    expect(inc.layers).toContain(patch);
    expect(inc.decisions['app-media'].reason).toMatch(/rewrote layer \d+, 7\d % dead/);
    expect(sentPacked(day3.layers, inc.layers, () => 1)).toBeLessThanOrEqual(1.6 * fresh);
    // The limit holds: the dead bytes left are under the forced threshold (95 % of the cap).
    expect(sizeOf(inc.layers) - content(ms4)).toBeLessThanOrEqual(0.95 * o.maxUnpackedDeadShare! * content(ms4));
  });

  it('a fully dead layer of one file goes from 95 % of the allowance on, deep or not, before anything is rewritten', () => {
    // Day 1: the app binary (a layer of its own) rewritten, and a batch of new app-media files (a patch P above it).
    const g = game();
    const ms = manifests(g);
    const layers = planIncremental(ms, {}, opts).layers;
    const binLayer = layers.find((l) => l.entries.some((e) => e.path === 'bin/game.so'))!;
    expect(filesOf(binLayer).map((e) => e.path)).toEqual(['bin/game.so']);
    const batch = Array.from({ length: 40 }, (_, i) => file(`new/b${String(i).padStart(2, '0')}.dat`, 40_000 + 13 * i));
    const g1: Game = { ...rewrite(g, 'app', new Set(['bin/game.so'])), 'app-media': [...g['app-media'], ...batch] };
    const { ms: ms1, inc: day1 } = build(ms, layers, g1, lifted);
    const patch = day1.layers.find((l) => l.entries.some((e) => e.path === 'new/b00.dat'))!;
    // Day 2: half of P's files rewritten: P is half dead, near the top (its score beats the deep binary layer's).
    const g2 = rewrite(g1, 'app-media', new Set(batch.filter((_e, i) => i % 2 === 0).map((e) => e.path)));
    const { ms: ms2, inc: day2 } = build(ms1, day1.layers, g2, lifted);
    expect(day2.layers).toContain(binLayer);
    const dead = sizeOf(day2.layers) - content(ms2);
    // Day 3: one config edited, at 96 % of the cap. Dropping the binary's old layer (nothing to push) is enough.
    const g3: Game = { ...g2, app: g2.app.map((e) => (e.path === 'Config/c3.cfg' ? file(e.path, e.size + 10) : e)) };
    const { inc } = build(ms2, day2.layers, g3, atShare(dead, manifests(g3), 0.96), (l) => l.bytes);
    expect(inc.layers).not.toContain(binLayer);
    expect(inc.decisions.app.reason).toMatch(/dropped layer \d+, 100 % dead/);
    expect(inc.layers).toContain(patch);
    expect(inc.decisions['app-media'].decision).toBe('unchanged');
  });

  it('a build that changes nothing compacts nothing, even a fully dead deep layer between the early and the forced threshold', () => {
    // Day 1: every file of the lowest app-media layer rewritten, under no limit: that layer, deep, is all dead.
    const g = game();
    const ms = manifests(g);
    const layers = planIncremental(ms, {}, opts).layers;
    const victim = layers.find((l) => l.tree === 'app-media')!;
    const g1 = rewrite(g, 'app-media', new Set(filesOf(victim).map((e) => e.path)));
    const { ms: ms1, inc: day1 } = build(ms, layers, g1, lifted);
    expect(day1.layers).toContain(victim);
    const dead = sizeOf(day1.layers) - content(ms1);
    // Day 2: the same files, at 92 % of the cap (past the early compaction's 90 %, short of the forced 95 %).
    const { inc } = build(ms1, day1.layers, g1, atShare(dead, ms1, 0.92), (l) => l.bytes);
    expect(inc.layers.map((l) => l.inputKey)).toEqual(day1.layers.map((l) => l.inputKey));
    for (const t of TREE_NAMES) expect(inc.decisions[t].decision).toBe('unchanged');
  });

  it('a tree image\'s early compaction starts at 90 % of its allowance, not 80 %', () => {
    const { g1, ms1, layers, victims, liveOf } = victimsDay(3);
    const mediaOf = (ms: TreeManifest[]) => ms.find((m) => m.tree === 'app-media')!.entries.reduce((n, e) => n + e.size, 0);
    const dead = sizeOf(layers.filter((l) => l.tree === 'app-media')) - mediaOf(ms1);
    // Day 2: a new app file big enough for the early budget to rewrite any victim (0.6 × it ≥ the biggest's live bytes).
    const g2: Game = { ...g1, app: [...g1.app, file('Content/new.pak', Math.ceil(Math.max(...victims.map(liveOf)) / 0.6) + 1000)] };
    // The app-media tree image's own limit set so that its dead bytes are at `share` of their allowance (every layer
    // recorded as big as its content: the allowance is maxTreeDeadShare × the tree's content); the server's lifted.
    const at = (share: number) => build(ms1, layers, g2, { ...opts, maxDeadShare: 100, maxTreeDeadShare: dead / mediaOf(ms1) / share }, (l) => l.bytes).inc;
    expect(at(0.85).decisions['app-media'].decision).toBe('unchanged');
    expect(at(0.92).decisions['app-media']).toMatchObject({ decision: 'compacted', reason: expect.stringMatching(/rewrote layer \d+/) });
  });
});
