// Levelled patch merges ahead of the layer limit (docs/compaction.md, "Eighth round"): runs of patches of similar size
// merge among themselves, near the top of the stack where nodes unpack little again, within what the day carries.
import { describe, expect, it } from 'vitest';
import { planIncremental } from '../src/plan/incremental.js';
import type { FileEntry, TreeManifest } from '../src/types.js';
import { previousOf } from './support/previous-trees.js';
import { file, layer, MiB, mounts, tree, unpacked } from './support/plan-layers.js';


describe('levelled patch merges', () => {
  it('merges the newest patches among themselves ahead of the limit, not two deep ones under a big layer', () => {
    // App media: two old 1.5 MiB patches (P1, P2) under the 100 MiB engine layer (an upgrade re-planned it above them),
    // three newer 3 MiB patches (U1–U3) near the top. 9 layers and today's top, early merges from 8. By live bytes per
    // layer removed (the seventh round) P1 + P2 is cheapest (3 MiB for one layer) and re-chains the engine for every
    // node; weighing nodes' unpack too, U1–U3 (9 MiB for two layers, 4 MiB above them) merge instead.
    const P1 = [file('p1/a.dat', 1.5 * MiB)];
    const P2 = [file('p2/a.dat', 1.5 * MiB)];
    const U = ['u1', 'u2', 'u3'].map((d) => [file(`${d}/a.dat`, 3 * MiB)]);
    const m = [file('m/base.dat', 10 * MiB)];
    const engine = [file('lib/engine.so', 100 * MiB)];
    const media = [...m, ...P1, ...P2, ...U.flat()];
    const app = [file('Config/game.cfg', MiB)];
    const shaders = [file('shaders/s.bin', 10 * MiB)];
    const before = [tree('engine-media', shaders), tree('engine', engine), tree('app', app), tree('app-media', media)];
    const stack = [
      layer('engine-media', shaders),
      layer('app-media', m),
      layer('app-media', P1, true),
      layer('app-media', P2, true),
      layer('engine', engine),
      ...U.map((fs) => layer('app-media', fs, true)),
      layer('app', app),
    ];
    // Today: twelve 1 MiB files (one patch), a budget of about 9.6 MiB.
    const today = Array.from({ length: 12 }, (_, i) => file(`new/f${String(i).padStart(2, '0')}.dat`, MiB));
    const after = [before[0]!, before[1]!, before[2]!, tree('app-media', [...media, ...today])];
    const inc = planIncremental(after, previousOf(before, stack), { targetSize: 64 * MiB, maxLayers: 18, mounts });
    for (const t of after) expect(unpacked(inc.layers, t.tree), t.tree).toEqual(t.entries);
    expect(inc.decisions['app-media'].reason).toMatch(/merged patch layers/);
    // Nothing up to the engine layer changed: nodes do not unpack the engine (or P1, P2) again.
    expect(inc.layers.slice(0, 5).map((l) => l.inputKey)).toEqual(stack.slice(0, 5).map((l) => l.inputKey));
    // U1–U3 are one layer now.
    const merged = inc.layers.filter((l) => l.entries.some((e) => e.path.startsWith('u1/')));
    expect(merged).toHaveLength(1);
    expect(merged[0]!.entries.filter((e) => e.type === 'file').map((e) => e.path)).toEqual(['u1/a.dat', 'u2/a.dat', 'u3/a.dat']);
  });

  it('lets a day that rewrites a big chunked file in part carry merges by its changed file, not its few new chunks', () => {
    // App media chunked: a 40 MiB pak as 160 chunks (a layer of their own), two 2 MiB patches above. Today one chunk of
    // the pak is rewritten: 0.25 MiB of new bytes for a 40 MiB changed file (issue 16's reference for the day). 8
    // layers with today's top, early merges from 7. Within the day's new bytes (the seventh round) merging the two
    // patches (4 MiB) never fits on such a day; within 0.8 of its changed files it does.
    const chunk = (i: number) => file(`.gamelayer-chunks/c/${String(i % 256).padStart(2, '0')}/${String(i).padStart(8, '0')}`, MiB / 4);
    const chunks = Array.from({ length: 160 }, (_, i) => chunk(i));
    const recipe = (n: number) => file('.gamelayer-chunks/r/paks/big.pak', 120 + 74 * n);
    const chunked = (fs: FileEntry[]): TreeManifest => ({
      ...tree('app-media', fs),
      chunks: { minFileSize: 16 * MiB, avgChunkSize: MiB / 4 },
      recipes: [{ path: 'paks/big.pak', size: 40 * MiB, xxh64: '', sha256: '', chunks: '' }],
    });
    const m = [file('m/base.dat', 10 * MiB), recipe(160)];
    const U = ['u1', 'u2'].map((d) => [file(`${d}/a.dat`, 2 * MiB)]);
    const engine = [file('lib/engine.so', 10 * MiB)];
    const app = [file('Config/game.cfg', MiB)];
    const shaders = [file('shaders/s.bin', 10 * MiB)];
    const before = [tree('engine-media', shaders), tree('engine', engine), tree('app', app), chunked([...m, ...chunks, ...U.flat()])];
    const stack = [
      layer('engine-media', shaders),
      layer('engine', engine),
      layer('app-media', chunks),
      layer('app-media', m),
      ...U.map((fs) => layer('app-media', fs, true)),
      layer('app', app),
    ];
    const rewritten = chunks.map((c, i) => (i === 5 ? chunk(1000) : c));
    const after = [before[0]!, before[1]!, before[2]!, chunked([m[0]!, recipe(160), ...rewritten, ...U.flat()])];
    const inc = planIncremental(after, previousOf(before, stack), { targetSize: 64 * MiB, maxLayers: 17, mounts });
    for (const t of after) expect(unpacked(inc.layers, t.tree), t.tree).toEqual(t.entries);
    expect(inc.decisions['app-media'].reason).toMatch(/merged patch layers/);
    const merged = inc.layers.filter((l) => l.entries.some((e) => e.path.startsWith('u1/')));
    expect(merged[0]!.entries.filter((e) => e.type === 'file').map((e) => e.path)).toEqual(['u1/a.dat', 'u2/a.dat']);
    // The chunks, the pak's recipe layer and everything below stay as they were.
    expect(inc.layers.slice(0, 4).map((l) => l.inputKey)).toEqual(stack.slice(0, 4).map((l) => l.inputKey));
  });

  it('does not merge a small new patch into a big old one: runs of similar size only', () => {
    // App media: a 6 MiB patch B and a 2 MiB patch S above it; 7 layers with today's top, early merges from 6. Merging
    // them rewrites B (8 MiB sent) to remove one layer: within the day's 10 MiB the seventh round did it; B is more than
    // S together, so the levelled merges wait until patches of B's size stand beside it.
    const B = [file('b/a.dat', 6 * MiB)];
    const S = [file('s/a.dat', 2 * MiB)];
    const m = [file('m/base.dat', 10 * MiB)];
    const engine = [file('lib/engine.so', 10 * MiB)];
    const app = [file('Config/game.cfg', MiB)];
    const shaders = [file('shaders/s.bin', 10 * MiB)];
    const before = [tree('engine-media', shaders), tree('engine', engine), tree('app', app), tree('app-media', [...m, ...B, ...S])];
    const stack = [layer('engine-media', shaders), layer('engine', engine), layer('app-media', m), layer('app-media', B, true), layer('app-media', S, true), layer('app', app)];
    const today = Array.from({ length: 10 }, (_, i) => file(`new/f${i}.dat`, MiB));
    const after = [before[0]!, before[1]!, before[2]!, tree('app-media', [...m, ...B, ...S, ...today])];
    const inc = planIncremental(after, previousOf(before, stack), { targetSize: 64 * MiB, maxLayers: 16, mounts });
    for (const t of after) expect(unpacked(inc.layers, t.tree), t.tree).toEqual(t.entries);
    expect(inc.decisions['app-media'].reason ?? '').not.toMatch(/merged/);
    expect(inc.layers.map((l) => l.inputKey).slice(0, 6)).toEqual(stack.map((l) => l.inputKey));
  });

  it("counts the day's fold in what its early merges may send", () => {
    // App media: three 4 MiB patches (U1–U3) near the top; the app: a base and a 3 MiB patch on top of the stack.
    // Today 12 MiB of new assets and the app's config edited: a budget of about 0.8 × 13 MiB = 10.4 MiB. The app's
    // patch folds into its new top (3 MiB sent again, within a quarter of the day), which leaves 7.4 MiB: no run of
    // U1–U3 fits (two of them send 8 MiB), so the day folds and leaves the merge for a day that carries it.
    const U = ['u1', 'u2', 'u3'].map((d) => [file(`${d}/a.dat`, 4 * MiB)]);
    const m = [file('m/base.dat', 10 * MiB)];
    const engine = [file('lib/engine.so', 100 * MiB)];
    const media = [...m, ...U.flat()];
    const appBase = [file('Config/game.cfg', MiB), file('bin/game.so', 20 * MiB)];
    const appPatch = [file('Scripts/a.lua', 1.5 * MiB), file('Scripts/b.lua', 1.5 * MiB)];
    const shaders = [file('shaders/s.bin', 10 * MiB)];
    const before = [tree('engine-media', shaders), tree('engine', engine), tree('app', [...appBase, ...appPatch]), tree('app-media', media)];
    const stack = [
      layer('engine-media', shaders),
      layer('engine', engine),
      layer('app-media', m),
      ...U.map((fs) => layer('app-media', fs, true)),
      layer('app', appBase),
      layer('app', appPatch, true),
    ];
    const today = Array.from({ length: 12 }, (_, i) => file(`new/f${String(i).padStart(2, '0')}.dat`, MiB));
    const after = [before[0]!, before[1]!, tree('app', [file('Config/game.cfg', MiB), appBase[1]!, ...appPatch]), tree('app-media', [...media, ...today])];
    const inc = planIncremental(after, previousOf(before, stack), { targetSize: 64 * MiB, maxLayers: 17, mounts });
    for (const t of after) expect(unpacked(inc.layers, t.tree), t.tree).toEqual(t.entries);
    expect(inc.decisions.app.reason).toMatch(/folded patch layer/);
    expect(inc.decisions['app-media'].reason ?? '').not.toMatch(/merged patch layers/);
    // The same day without the app's edit has no fold, and its budget carries the merge.
    const noFold = planIncremental([before[0]!, before[1]!, before[2]!, after[3]!], previousOf(before, stack), { targetSize: 64 * MiB, maxLayers: 17, mounts });
    expect(noFold.decisions['app-media'].reason).toMatch(/merged patch layers/);
  });
});
