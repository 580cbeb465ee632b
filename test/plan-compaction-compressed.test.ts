// The dead-byte limit is on the compressed image (issue 16: "image size ≤ 1.15× its content"): kept layers count at
// the compressed sizes the previous build recorded, so a compressible game keeps dead bytes that an incompressible
// one must compact; and ahead of the limit a day whose changed files can carry it compacts deep layers, so the forced
// compaction does not land on a small day.
import { describe, expect, it } from 'vitest';
import { planIncremental, recordedTrees, type PreviousTree } from '../src/plan/incremental.js';
import { TREE_NAMES, type BuildRecord, type PlannedLayer, type TreeManifest, type TreeName } from '../src/types.js';
import { content, file, game, manifests, opts, sizeOf, type Game } from './support/plan-game.js';
import { previousOf } from './support/previous-trees.js';


/** The previous build with every layer recorded at `ratio` of its content once compressed. */
function withPacked(prev: Partial<Record<TreeName, PreviousTree>>, ratio: number): Partial<Record<TreeName, PreviousTree>> {
  return Object.fromEntries(Object.entries(prev).map(([t, p]) => [t, { ...p!, packed: p!.layers.map((l) => Math.round(l.bytes * ratio)) }]));
}

/** Day 1: about three files in four of the lowest app-media layers rewritten (their old copies dead), under a lifted limit. */
function deadDay(dead: number) {
  const g = game();
  const ms = manifests(g);
  const layers = planIncremental(ms, {}, opts).layers;
  const victims: PlannedLayer[] = [];
  const rewritten = (l: PlannedLayer) => l.entries.filter((e) => e.type === 'file' && (e.size & 3) !== 0);
  for (const l of layers.filter((x) => x.tree === 'app-media')) if (sizeOf(victims) < dead * content(ms)) victims.push({ ...l, bytes: sizeOf([{ ...l, bytes: rewritten(l).reduce((n, e) => n + e.size, 0) }]) });
  const paths = new Set(victims.flatMap((l) => rewritten(l).map((e) => e.path)));
  const g1: Game = { ...g, 'app-media': g['app-media'].map((e) => (paths.has(e.path) ? file(e.path, e.size) : e)) };
  const ms1 = manifests(g1);
  const day1 = planIncremental(ms1, previousOf(ms, layers), { ...opts, maxDeadShare: 100, maxUnpackedDeadShare: 100, rebaseShare: 1 });
  return { g1, ms1, layers: day1.layers, victims, deadBytes: sizeOf(victims) };
}

describe('the dead-byte limit on the compressed image', () => {
  it('a compressible game whose dead bytes pass 15 % of its content keeps its layers while its compressed image stays under 1.15×', () => {
    const { g1, ms1, layers, deadBytes } = deadDay(0.2);
    expect(deadBytes / content(ms1)).toBeGreaterThan(0.15);
    // Day 2: one config edited. Compressed to half, the image is about 0.6× its content: nothing to compact.
    const g2: Game = { ...g1, app: g1.app.map((e) => (e.path === 'Config/c3.cfg' ? file(e.path, e.size + 10) : e)) };
    const ms2 = manifests(g2);
    const half = planIncremental(ms2, withPacked(previousOf(ms1, layers), 0.5), opts);
    expect(half.decisions['app-media'].decision).toBe('unchanged');
    expect(half.layers.filter((l) => l.tree === 'app-media')).toEqual(layers.filter((l) => l.tree === 'app-media'));
    // Incompressible (recorded as big as their content, or no sizes recorded): the same dead bytes are over the limit.
    for (const prev of [withPacked(previousOf(ms1, layers), 1), previousOf(ms1, layers)]) {
      const inc = planIncremental(ms2, prev, opts);
      expect(inc.decisions['app-media']).toMatchObject({ decision: 'compacted', reason: expect.stringMatching(/rewrote|dropped/) });
      expect(sizeOf(inc.layers)).toBeLessThanOrEqual(1.15 * content(ms2));
    }
  });

  it('a compressible game is still held to 1.15× compressed: past it the dead layers go, and uncompressed dead bytes stay under the content', () => {
    const { g1, ms1, layers } = deadDay(0.45);
    const g2: Game = { ...g1, app: g1.app.map((e) => (e.path === 'Config/c3.cfg' ? file(e.path, e.size + 10) : e)) };
    const ms2 = manifests(g2);
    // At 0.8 of content when compressed the image is about 1.16× its content: over the limit.
    const prev = withPacked(previousOf(ms1, layers), 0.8);
    const packedBefore = Object.values(prev).reduce((n, p) => n + p!.packed!.reduce((k, s) => k! + s!, 0)!, 0);
    expect(packedBefore / content(ms2)).toBeGreaterThan(1.15);
    const inc = planIncremental(ms2, prev, opts);
    expect(inc.decisions['app-media'].decision).toBe('compacted');
    expect((0.8 * sizeOf(inc.layers)) / content(ms2)).toBeLessThanOrEqual(1.15);
    // Compressed to a tenth the compressed image is small, but the uncompressed dead bytes are capped (a node's disk).
    const tenth = planIncremental(ms2, withPacked(previousOf(ms1, layers), 0.1), { ...opts, maxUnpackedDeadShare: 0.3 });
    expect(tenth.decisions['app-media'].decision).toBe('compacted');
    expect(sizeOf(tenth.layers) - content(ms2)).toBeLessThanOrEqual(0.3 * content(ms2));
  });

  it('ahead of the limit a day whose changed files can carry it compacts deep layers; a small day does not', () => {
    const { g1, ms1, layers } = deadDay(0.1);
    const dead = sizeOf(layers) - content(ms1);
    const prev = withPacked(previousOf(ms1, layers), 1);
    /** A limit that puts the day's dead bytes at 93 % of their allowance: past EARLY_FROM, under the forced 95 % (the server image's limit alone). */
    const at93 = (g: Game) => ({ ...opts, maxDeadShare: dead / content(manifests(g)) / 0.93, maxTreeDeadShare: 100 });
    const small: Game = { ...g1, app: g1.app.map((e) => (e.path === 'Config/c3.cfg' ? file(e.path, e.size + 10) : e)) };
    const quiet = planIncremental(manifests(small), prev, at93(small));
    expect(quiet.decisions['app-media'].decision).toBe('unchanged');
    // 1.5 MB of new files (no dead bytes added): enough to rewrite a deep, mostly dead app-media layer, whose
    // re-chain makes nodes unpack more than the day's bytes (so the soft compaction near the top may not take it).
    const big: Game = { ...g1, app: [...g1.app, file('Content/new.pak', 1_500_000)] };
    const before = new Set(layers.map((l) => l.inputKey));
    const busy = planIncremental(manifests(big), prev, at93(big));
    expect(busy.decisions['app-media']).toMatchObject({ decision: 'compacted', reason: expect.stringMatching(/rewrote layer \d+/) });
    // What it sends stays within twice the day's changed files.
    expect(sizeOf(busy.layers.filter((l) => !before.has(l.inputKey)))).toBeLessThanOrEqual(2 * 1_500_000);
  });

  it('a tree image is held to 1.15× its own content: dead bytes of a tree that barely compresses do not use the room the others leave', () => {
    // App media (about two thirds of the game) recorded incompressible, every other tree at 0.3 of its content.
    const { g1, ms1, layers } = deadDay(0.12);
    const ratioOf = (t: TreeName) => (t === 'app-media' ? 1 : 0.3);
    const prev = Object.fromEntries(Object.entries(previousOf(ms1, layers)).map(([t, p]) => [t, { ...p!, packed: p!.layers.map((l) => Math.round(l.bytes * ratioOf(t as TreeName))) }]));
    const treeContent = (ms: TreeManifest[], t: TreeName) => ms.find((m) => m.tree === t)!.entries.reduce((n, e) => n + e.size, 0);
    const media = layers.filter((l) => l.tree === 'app-media');
    // Before: the app-media tree image passes 1.15× its content, while the server image is far under 1.15× the game's.
    expect(sizeOf(media) / treeContent(ms1, 'app-media')).toBeGreaterThan(1.15);
    const serverBefore = layers.reduce((n, l) => n + l.bytes * ratioOf(l.tree), 0);
    expect(serverBefore / content(ms1)).toBeLessThan(1);
    // Day 2: one config edited. The server image alone would keep every app-media layer; its own limit compacts it.
    const g2: Game = { ...g1, app: g1.app.map((e) => (e.path === 'Config/c3.cfg' ? file(e.path, e.size + 10) : e)) };
    const ms2 = manifests(g2);
    const inc = planIncremental(ms2, prev, opts);
    expect(inc.decisions['app-media']).toMatchObject({ decision: 'compacted', reason: expect.stringMatching(/rewrote|dropped/) });
    expect(sizeOf(inc.layers.filter((l) => l.tree === 'app-media')) / treeContent(ms2, 'app-media')).toBeLessThanOrEqual(1.15);
    // The well-compressing trees keep their layers as they were.
    for (const t of ['engine', 'engine-media'] as const) expect(inc.layers.filter((l) => l.tree === t)).toEqual(layers.filter((l) => l.tree === t));
    // With the tree images' limit lifted, the server image's alone keeps app media as it was.
    const serverOnly = planIncremental(ms2, prev, { ...opts, maxTreeDeadShare: 100 });
    expect(serverOnly.decisions['app-media'].decision).toBe('unchanged');
  });

  it('a build that changes nothing never compacts, even with a tree image past its limit: a no-op sends nothing', () => {
    const { ms1, layers } = deadDay(0.12);
    const ratioOf = (t: TreeName) => (t === 'app-media' ? 1 : 0.3);
    const prev = Object.fromEntries(Object.entries(previousOf(ms1, layers)).map(([t, p]) => [t, { ...p!, packed: p!.layers.map((l) => Math.round(l.bytes * ratioOf(t as TreeName))) }]));
    // The same trees again: every tree unchanged, the layers exactly the recorded ones.
    const same = planIncremental(ms1, prev, opts);
    for (const t of TREE_NAMES) expect(same.decisions[t].decision).toBe('unchanged');
    expect(same.layers).toEqual(layers);
    // With the server image past its limit as well (every tree incompressible, a tight limit), still nothing.
    const tight = planIncremental(ms1, withPacked(previousOf(ms1, layers), 1), { ...opts, maxDeadShare: 0.01 });
    for (const t of TREE_NAMES) expect(tight.decisions[t].decision).toBe('unchanged');
    expect(tight.layers).toEqual(layers);
  });

  it('recordedTrees gives each recorded layer its compressed size from the record', () => {
    const ms = manifests(game());
    const layers = planIncremental(ms, {}, opts).layers;
    const record = {
      manifests: ms,
      plan: { layers: layers.map((l) => ({ ...l, platform: 'linux/amd64' })) },
      layers: layers.slice(1).map((l, i) => ({ tree: l.tree, index: l.index, inputKey: l.inputKey, diffID: 'sha256:x', digest: `sha256:${i}`, size: 1000 + i, mediaType: 'gzip' })),
    } as Pick<BuildRecord, 'plan' | 'manifests' | 'layers'>;
    const trees = recordedTrees(record, 'linux/amd64');
    const first = trees[layers[0]!.tree]!;
    expect(first.packed![0]).toBeUndefined(); // not in the record: counted as its content
    const all = Object.values(trees).flatMap((p) => p!.packed!.filter((s) => s !== undefined));
    expect(all.sort((a, b) => a! - b!)).toEqual(layers.slice(1).map((_l, i) => 1000 + i));
  });
});
