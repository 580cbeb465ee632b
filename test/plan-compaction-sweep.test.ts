// Where compaction's cost falls on nodes (docs/compaction.md, "Node unpack"): a forced compaction sweeps the dead
// layers above its lowest one, and a chunked tree's chunks lie below its small files and below the other trees.
import { describe, expect, it } from 'vitest';
import { planIncremental, stateOf, type IncrementalOptions } from '../src/plan/incremental.js';
import { layerInputKey } from '../src/plan/plan.js';
import { compareBytewise, makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { TREE_NAMES, type FileEntry, type PlannedLayer, type TreeManifest, type TreeName } from '../src/types.js';
import { previousOf } from './support/previous-trees.js';

const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
const MiB = 1 << 20;
let serial = 0;
const file = (path: string, size: number): FileEntry => ({ path, type: 'file', mode: 0o644, size, xxh64: (++serial).toString(16).padStart(16, '0') });
const tree = (t: TreeName, files: FileEntry[], chunked = false): TreeManifest => ({
  ...makeManifest(t, { kind: 'dir', path: `/${t}` }, withParentDirs(files)),
  ...(chunked ? { chunks: { minFileSize: 4 * MiB, avgChunkSize: 256 * 1024 } } : {}),
});
const layer = (t: TreeName, files: FileEntry[]): PlannedLayer => {
  const entries = withParentDirs(files).sort((a, b) => compareBytewise(a.path, b.path));
  return { tree: t, index: 0, entries, inputKey: layerInputKey(mounts[t], entries), bytes: entries.reduce((n, e) => n + e.size, 0) };
};


const unpacked = (layers: PlannedLayer[], t: TreeName) =>
  [...stateOf(layers.filter((l) => l.tree === t)).values()].map((o) => o.entry).sort((a, b) => compareBytewise(a.path, b.path));
const expectExact = (layers: PlannedLayer[], ms: TreeManifest[]) => {
  for (const m of ms) expect(unpacked(layers, m.tree), m.tree).toEqual(m.entries);
};

/**
 * Engine media, engine, app media in three layers A, B, C, the app; then new versions of 60 % of A, 30 % of B and
 * 30 % of C: 12 MiB dead of 51 MiB, past the 15 % limit. App media chunked or not (its files here are whole either
 * way: what matters is whether the image has a chunked tree).
 */
function sweepCase(chunked: boolean) {
  const opts: IncrementalOptions = { targetSize: 64 * MiB, maxLayers: 100, mounts };
  const files = (prefix: string) => Array.from({ length: 10 }, (_, i) => file(`${prefix}/f${i}.dat`, MiB));
  const [a, b, c] = [files('a'), files('b'), files('c')];
  const game = {
    'engine-media': [file('shaders/s.bin', 10 * MiB)],
    engine: [file('lib/engine.so', 10 * MiB)],
    app: [file('Config/game.cfg', MiB)],
  };
  const before = [tree('engine-media', game['engine-media']), tree('engine', game.engine), tree('app', game.app), tree('app-media', [...a, ...b, ...c], chunked)];
  const [A, B, C] = [layer('app-media', a), layer('app-media', b), layer('app-media', c)];
  const stack = [layer('engine-media', game['engine-media']), layer('engine', game.engine), A, B, C, layer('app', game.app)];
  const modify = (fs: FileEntry[], n: number) => fs.map((f, i) => (i < n ? file(f.path, f.size) : f));
  const after = [before[0]!, before[1]!, before[2]!, tree('app-media', [...modify(a, 6), ...modify(b, 3), ...modify(c, 3)], chunked)];
  return { A, B, C, after, inc: planIncremental(after, previousOf(before, stack), opts) };
}

describe('a forced compaction', () => {
  it('also rewrites the layers above its lowest one that are a quarter dead, whatever the day budget', () => {
    const { A, B, C, after, inc } = sweepCase(true);
    const keys = new Set(inc.layers.map((l) => l.inputKey));
    // C (best dead bytes per cost) and A (to get under the goal) are forced; B, between them and 30 % dead, was left
    // before (under the 50 % piggyback share, and the day's budget spent) and is now rewritten in the same build.
    expect(keys.has(A.inputKey)).toBe(false);
    expect(keys.has(C.inputKey)).toBe(false);
    expect(keys.has(B.inputKey)).toBe(false);
    expect(inc.decisions['app-media'].reason).toMatch(/^rewrote layer \d, 60 % dead; rewrote layer \d, 30 % dead; rewrote layer \d, 30 % dead$/);
    // Every old copy is gone: the image holds its content only, and unpacks to exactly the sources.
    const content = after.reduce((n, m) => n + m.entries.reduce((k, e) => k + e.size, 0), 0);
    expect(inc.layers.reduce((n, l) => n + l.bytes, 0)).toBe(content);
    expectExact(inc.layers, after);
  });

  it('does not sweep in an image of whole files only: B, 30 % dead, stays until it pays on its own', () => {
    // With whole files the dead old copies of partly rewritten paks force the next compaction within days whatever
    // was swept; the sweep re-sent live bytes for little (the bench's month: 1.21× the changed files with it, 1.16× without).
    const { A, B, C, after, inc } = sweepCase(false);
    const keys = new Set(inc.layers.map((l) => l.inputKey));
    expect(keys.has(A.inputKey)).toBe(false);
    expect(keys.has(C.inputKey)).toBe(false);
    expect(keys.has(B.inputKey)).toBe(true);
    expect(inc.decisions['app-media'].reason).toMatch(/^rewrote layer \d, 60 % dead; rewrote layer \d, 30 % dead$/);
    // B's 3 MiB of old copies stay (about 6 % of the content: under the limit); the image unpacks to exactly the sources.
    const content = after.reduce((n, m) => n + m.entries.reduce((k, e) => k + e.size, 0), 0);
    expect(inc.layers.reduce((n, l) => n + l.bytes, 0)).toBe(content + 3 * MiB);
    expectExact(inc.layers, after);
  });
});

describe('a chunked tree', () => {
  const opts: IncrementalOptions = { targetSize: 4 * MiB, maxLayers: 100, mounts };
  const chunks = Array.from({ length: 48 }, (_, i) => file(`.gamelayer-chunks/c/${(i % 16).toString(16).padStart(2, '0')}/${(1000 + i).toString(16)}`, 256 * 1024));
  const recipes = [file('.gamelayer-chunks/r/paks/a.pak', 2000), file('.gamelayer-chunks/r/paks/b.pak', 2000)];
  const small = Array.from({ length: 120 }, (_, i) => file(`levels/l${i % 7}/p${i}.dat`, 40_000 + 500 * i));
  const game = () => [
    tree('engine-media', Array.from({ length: 30 }, (_, i) => file(`shaders/x${i}.bin`, 200_000))),
    tree('engine', Array.from({ length: 20 }, (_, i) => file(`lib/l${i}.so`, 300_000))),
    tree('app', [file('bin/game.so', MiB), file('Config/game.cfg', 2000)]),
    tree('app-media', [...chunks, ...recipes, ...small], true),
  ];
  const isChunk = (e: FileEntry) => e.type === 'file' && e.path.startsWith('.gamelayer-chunks/c/');
  const holdsChunks = (l: PlannedLayer) => l.entries.some(isChunk);
  const holdsOther = (l: PlannedLayer) => l.entries.some((e) => e.type !== 'dir' && !isChunk(e));

  it('is planned with its chunks in layers of their own, below its other files and below every other tree', () => {
    const ms = game();
    const { layers } = planIncremental(ms, {}, { ...opts, freshOrder: ['engine-media', 'engine', 'app-media', 'app'] });
    expectExact(layers, ms);
    const media = layers.filter((l) => l.tree === 'app-media');
    expect(media.some(holdsChunks) && media.some(holdsOther)).toBe(true);
    // No layer mixes chunks (which die only where a file is rewritten) with small files (which die whole every day).
    expect(media.filter((l) => holdsChunks(l) && holdsOther(l))).toEqual([]);
    const lastChunk = Math.max(...layers.map((l, i) => (holdsChunks(l) ? i : -1)));
    const firstOther = layers.findIndex((l) => !holdsChunks(l));
    expect(lastChunk).toBeLessThan(firstOther);
    // The same content planned again is the same layers (digests follow content and record), and nothing changes.
    expect(planIncremental(ms, {}, { ...opts, freshOrder: ['engine-media', 'engine', 'app-media', 'app'] }).layers).toEqual(layers);
    const again = planIncremental(ms, previousOf(ms, layers), opts);
    expect(again.layers).toEqual(layers);
    expect(again.decisions['app-media'].decision).toBe('unchanged');
  });

  it('planned afresh in place keeps its chunks where its chunks were and its other files where they were', () => {
    const ms = game();
    const { layers } = planIncremental(ms, {}, { ...opts, freshOrder: ['engine-media', 'engine', 'app-media', 'app'] });
    const prev = previousOf(ms, layers);
    // Its recorded layers are gone (a store cleaned): the tree is planned afresh where it was.
    prev['app-media'] = { ...prev['app-media']!, unavailable: 'its recorded layers are gone or damaged' };
    const inc = planIncremental(ms, prev, opts);
    expect(inc.decisions['app-media'].decision).toBe('fresh');
    expect(inc.layers.map((l) => l.inputKey)).toEqual(layers.map((l) => l.inputKey));
    expectExact(inc.layers, ms);
  });
});
