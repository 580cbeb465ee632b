import { describe, expect, it } from 'vitest';
import { EMPTY_XXH64, planIncremental, type PreviousTree } from '../src/plan/incremental.js';
import { planLayers, type PlanOptions } from '../src/plan/plan.js';
import { makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { createXxh64 } from '../src/scan/hash.js';
import { TREE_NAMES, type FileEntry, type TreeManifest, type TreeName } from '../src/types.js';

const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
const opts: PlanOptions = { targetSize: 1 << 20, maxLayers: 100, mounts };
const file = (path: string, size: number, h = 'aa'): FileEntry => ({ path, type: 'file', mode: 0o644, size, xxh64: h.padStart(16, '0') });
const tree = (t: TreeName, files: FileEntry[]): TreeManifest => makeManifest(t, { kind: 'dir', path: `/${t}` }, withParentDirs(files));
const media = Array.from({ length: 300 }, (_, i) => file(`levels/l${i % 7}/p${i}.pak`, 30_000 + i));
const game = (m: FileEntry[]) => [tree('engine', [file('bin/server', 100)]), tree('engine-media', []), tree('app', [file('a.cfg', 10)]), tree('app-media', m)];

function previous(manifests: TreeManifest[], layers = planLayers(manifests, opts).layers): Partial<Record<TreeName, PreviousTree>> {
  return Object.fromEntries(manifests.map((m) => [m.tree, { manifest: m, layers: layers.filter((l) => l.tree === m.tree) }]));
}

describe('incremental plan', () => {
  it('is the stable plan when there is no previous build', () => {
    expect(planIncremental(game(media), {}, opts).layers).toEqual(planLayers(game(media), opts).layers);
  });

  it('keeps unchanged trees and adds one patch layer with added, modified and whiteout entries', async () => {
    const before = game(media);
    const changed = media
      .filter((e) => e.path !== 'levels/l3/p3.pak' && !e.path.startsWith('levels/l5/'))
      .map((e) => (e.path === 'levels/l1/p1.pak' ? file(e.path, 99, 'bb') : e))
      .concat(file('levels/new/n.pak', 777));
    // Dead bytes are left alone here (a removed folder makes 17 % of this small tree dead): see the compaction tests.
    const inc = planIncremental(game(changed), previous(before), { ...opts, maxDeadShare: 1 });
    expect(inc.decisions['app-media']).toEqual({ decision: 'patched', reason: undefined });
    expect(inc.decisions.engine.decision).toBe('unchanged');
    const old = planLayers(before, opts).layers;
    expect(inc.layers.slice(0, -1)).toEqual(old);
    const patch = inc.layers.at(-1)!;
    expect(patch).toMatchObject({ tree: 'app-media', patch: true, index: old.filter((l) => l.tree === 'app-media').length, bytes: 99 + 777 });
    expect(patch.entries.map((e) => e.path)).toEqual([
      'levels',
      'levels/.wh.l5', // the removed folder, once, not each of its files
      'levels/l1',
      'levels/l1/p1.pak',
      'levels/l3',
      'levels/l3/.wh.p3.pak',
      'levels/new',
      'levels/new/n.pak',
    ]);
    const wh = patch.entries.find((e) => e.path === 'levels/.wh.l5')!;
    const h = await createXxh64();
    expect(wh).toEqual({ path: 'levels/.wh.l5', type: 'file', mode: 0o644, size: 0, xxh64: h.digest() });
    expect(EMPTY_XXH64).toBe(h.digest());
  });

  it('stacks patches, and merges the adjacent pair with the fewest live bytes past the count (never the whole tree)', () => {
    let manifests = game(media);
    let layers = planLayers(manifests, opts).layers;
    const stableCount = layers.length;
    // Each update changes one more file (earlier changes stay: a patch reverted to the base is dead and folds away).
    for (let i = 0; i < 3; i++) {
      const next = game(media.map((e, j) => (j <= i ? file(e.path, e.size, `c${j}`) : e)));
      const inc = planIncremental(next, previous(manifests, layers), { ...opts, maxPatches: 2 });
      expect(inc.decisions['app-media'].decision).toBe(i < 2 ? 'patched' : 'compacted');
      const own = planLayers(game(media), opts).layers.filter((l) => l.tree === 'app-media').length;
      if (i === 2) expect(inc.decisions['app-media'].reason).toBe(`merged patch layers ${own} and ${own + 1}`);
      expect(inc.layers.filter((l) => l.patch)).toHaveLength(Math.min(i + 1, 2));
      expect(inc.layers.slice(0, stableCount)).toEqual(planLayers(game(media), opts).layers);
      manifests = next;
      layers = inc.layers;
    }
    const big = game(media.map((e, j) => (j < 160 ? file(e.path, e.size, 'dd') : e)));
    const inc = planIncremental(big, previous(game(media)), opts);
    expect(inc.decisions['app-media']).toEqual({ decision: 'rebased', reason: "the change holds 53 % of the tree's bytes, at least the 50 % that re-plans a tree" });
    expect(inc.layers).toEqual(planLayers(big, opts).layers);
  });

  it('rebases a tree where a path changes type', () => {
    const before = game([...media, file('maps/x', 5)]);
    const after = game([...media, file('maps/x/inner.pak', 5)]);
    const inc = planIncremental(after, previous(before), opts);
    expect(inc.decisions['app-media']).toEqual({ decision: 'rebased', reason: 'maps/x changed from file to dir' });
  });

  it('rebases patched trees when patches would pass the layer limit', () => {
    const next = game(media.map((e, j) => (j === 0 ? file(e.path, e.size, 'ee') : e)));
    const stableCount = planLayers(next, opts).layers.length;
    const inc = planIncremental(next, previous(game(media)), { ...opts, maxLayers: stableCount });
    expect(inc.decisions['app-media'].decision).toBe('rebased');
    expect(inc.layers.length).toBe(stableCount);
  });
});
