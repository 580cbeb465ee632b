import { describe, expect, it } from 'vitest';
import { makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { planLayers, type PlanOptions } from '../src/plan/plan.js';
import { TREE_NAMES, type FileEntry, type TreeManifest, type TreeName } from '../src/types.js';

const MiB = 1024 * 1024;
const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
const opts: PlanOptions = { targetSize: 64 * MiB, maxLayers: 100, mounts };

function file(path: string, size: number, seed = 0): FileEntry {
  return { path, type: 'file', mode: 0o644, size, xxh64: (BigInt(size) * 7919n + BigInt(seed) + BigInt(path.length)).toString(16).padStart(16, '0') };
}

function manifest(tree: TreeName, files: FileEntry[]): TreeManifest {
  return makeManifest(tree, { kind: 'dir', path: `/src/${tree}` }, withParentDirs(files));
}

/** A media tree of `n` files of 1–4 MiB in nested folders (≈ 2.5 MiB each on average). */
function mediaFiles(n: number): FileEntry[] {
  return Array.from({ length: n }, (_, i) => file(`levels/l${i % 17}/chunk${i}.pak`, MiB + ((i * 2654435761) % (3 * MiB))));
}

function game(media: FileEntry[]): TreeManifest[] {
  return [
    manifest('engine', [file('bin/server', 20 * MiB), file('start.sh', 100)]),
    manifest('engine-media', []),
    manifest('app', [file('config/server.cfg', 300), file('game.xml', 200)]),
    manifest('app-media', media),
  ];
}

const keys = (m: TreeManifest[]) => new Set(planLayers(m, opts).layers.map((l) => l.inputKey));
const changedKeys = (a: TreeManifest[], b: TreeManifest[]) => {
  const before = keys(a);
  return [...keys(b)].filter((k) => !before.has(k)).length;
};

describe('layer plan', () => {
  it('gives small trees one layer each, in the stable tree order, empty trees included', () => {
    const plan = planLayers(game(mediaFiles(5)), opts);
    expect(plan.layers.map((l) => l.tree)).toEqual(['engine', 'engine-media', 'app', 'app-media']);
    expect(plan.layers[1]!.entries).toEqual([]);
    expect(plan.layers[3]!.entries.filter((e) => e.type === 'file')).toHaveLength(5);
  });

  it('splits a big tree into layers near the target, each file in exactly one layer, parents carried along', () => {
    const media = mediaFiles(2000); // ≈ 5 GiB → ~78 layers of 64 MiB
    const plan = planLayers(game(media), opts);
    const mediaLayers = plan.layers.filter((l) => l.tree === 'app-media');
    expect(mediaLayers.length).toBeGreaterThan(30);
    expect(plan.layers.length).toBeLessThanOrEqual(100);
    const files = mediaLayers.flatMap((l) => l.entries.filter((e) => e.type === 'file').map((e) => e.path));
    expect(files.sort()).toEqual(media.map((e) => e.path).sort());
    for (const l of mediaLayers) {
      const paths = new Set(l.entries.map((e) => e.path));
      for (const e of l.entries) {
        const slash = e.path.lastIndexOf('/');
        if (slash > 0) expect(paths.has(e.path.slice(0, slash))).toBe(true);
      }
    }
    expect(mediaLayers.map((l) => l.index)).toEqual(mediaLayers.map((_, i) => i));
  });

  it('is a pure function of the manifests', () => {
    const a = planLayers(game(mediaFiles(500)), opts);
    const b = planLayers(game(mediaFiles(500)), opts);
    expect(b).toEqual(a);
  });

  it('changes exactly one layer when one file is edited, even when its size changes', () => {
    const media = mediaFiles(1000);
    for (const i of [0, 137, 999]) {
      const edited = media.map((e, j) => (j === i ? file(e.path, e.size + 12345, 1) : e));
      expect(changedKeys(game(media), game(edited))).toBe(1);
    }
  });

  it('changes at most two layers when a file is added or removed', () => {
    const media = mediaFiles(1000);
    for (let i = 0; i < 40; i++) {
      const added = [...media, file(`levels/l${i % 17}/new-${i}.pak`, 2 * MiB)];
      expect(changedKeys(game(media), game(added))).toBeLessThanOrEqual(2);
      const removed = media.filter((_, j) => j !== i * 23);
      expect(changedKeys(game(media), game(removed))).toBeLessThanOrEqual(2);
    }
  });

  it('keeps every boundary through hundreds of seeded random edits, adds and removes: boundaries depend on paths only', () => {
    // mulberry32: a small seeded generator, so a failure replays exactly.
    let seed = 0x5eed1234;
    const rnd = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const sizeOf = () => MiB + Math.floor(rnd() * 3 * MiB);
    // A fixed last file: the end of the tree never moves, so every layer end but the last is a path boundary.
    const last = file('zzz/last.pak', MiB);
    let media = [...mediaFiles(1000), last];
    let plan = planLayers(game(media), opts).layers.filter((l) => l.tree === 'app-media');
    const ends = (layers: typeof plan) => new Set(layers.slice(0, -1).map((l) => l.entries.filter((e) => e.type === 'file').at(-1)!.path));
    const counts = { edit: 0, add: 0, remove: 0 };
    for (let step = 0; step < 600; step++) {
      const op = rnd() < 0.5 ? 'edit' : rnd() < 0.5 ? 'add' : 'remove';
      const pick = Math.floor(rnd() * (media.length - 1)); // never the fixed last file
      let touched: string;
      let next: FileEntry[];
      if (op === 'edit') {
        touched = media[pick]!.path;
        next = media.map((e, j) => (j === pick ? file(e.path, sizeOf(), step + 1) : e));
      } else if (op === 'add') {
        touched = `levels/l${Math.floor(rnd() * 17)}/added-${step}.pak`;
        next = [...media, file(touched, sizeOf(), step)];
      } else {
        touched = media[pick]!.path;
        next = media.filter((_, j) => j !== pick);
      }
      const after = planLayers(game(next), opts).layers.filter((l) => l.tree === 'app-media');
      const before = new Set(plan.map((l) => l.inputKey));
      const changed = after.filter((l) => !before.has(l.inputKey)).length;
      const a = ends(plan);
      const b = ends(after);
      const moved = [...a].filter((p) => !b.has(p)).concat([...b].filter((p) => !a.has(p)));
      if (op === 'edit') {
        expect({ step, op, moved, changed }).toEqual({ step, op, moved: [], changed: 1 });
      } else {
        // Only the added or removed path itself can start or stop being a boundary; at most its layer splits or joins.
        expect({ step, op, moved: moved.filter((p) => p !== touched) }).toEqual({ step, op, moved: [] });
        expect(changed).toBeLessThanOrEqual(2);
      }
      counts[op]++;
      media = next;
      plan = after;
    }
    expect(Math.min(counts.edit, counts.add, counts.remove)).toBeGreaterThan(100);
    expect(plan.length).toBeGreaterThan(20);
  });

  it('puts a file at or above the target in a layer of its own', () => {
    const media = [...mediaFiles(100), file('paks/huge.pak', 300 * MiB)];
    const plan = planLayers(game(media), opts);
    const own = plan.layers.find((l) => l.entries.some((e) => e.path === 'paks/huge.pak'))!;
    expect(own.entries.map((e) => e.path)).toEqual(['paks', 'paks/huge.pak']);
  });

  it('merges deterministically to stay under the layer limit, counting base layers', () => {
    const media = mediaFiles(20_000); // ≈ 50 GiB → ~780 layers before merging
    const plan = planLayers(game(media), { ...opts, maxLayers: 60, baseLayers: 3 });
    expect(plan.layers.length).toBeLessThanOrEqual(57);
    expect(plan.layers.length).toBeGreaterThan(20);
    const again = planLayers(game(media), { ...opts, maxLayers: 60, baseLayers: 3 });
    expect(again.layers.map((l) => l.inputKey)).toEqual(plan.layers.map((l) => l.inputKey));
  });

  it('lets many big files join other layers when they alone exceed the limit', () => {
    const bigs = Array.from({ length: 150 }, (_, i) => file(`paks/p${i}.pak`, 70 * MiB + i));
    const plan = planLayers(game(bigs), opts);
    expect(plan.layers.length).toBeLessThanOrEqual(100);
  });

  it('keys layers by mount path too', () => {
    const a = planLayers(game(mediaFiles(3)), opts);
    const b = planLayers(game(mediaFiles(3)), { ...opts, mounts: { ...mounts, 'app-media': '/srv/media' } });
    expect(b.layers[3]!.inputKey).not.toBe(a.layers[3]!.inputKey);
    expect(b.layers[0]!.inputKey).toBe(a.layers[0]!.inputKey);
  });
});
