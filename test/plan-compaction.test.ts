// Compaction of the incremental plan over many builds: the layers always unpack to exactly the manifest, dead
// bytes and layer counts stay under their limits, and what each build adds follows what changed, not the trees.
import { describe, expect, it } from 'vitest';
import { planIncremental, SERVER_STACK_ORDER, stateOf, type IncrementalOptions } from '../src/plan/incremental.js';
import { planLayers } from '../src/plan/plan.js';
import { compareBytewise, makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { TREE_NAMES, type FileEntry, type PlannedLayer, type TreeManifest, type TreeName } from '../src/types.js';
import { previousOf } from './support/previous-trees.js';

const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
const MiB = 1 << 20;
const opts: IncrementalOptions = { targetSize: MiB, maxLayers: 100, mounts };
/** The server image's dead-byte limit alone: the tree images' own limit lifted (tests of the server image's). */
const serverLimitOnly: IncrementalOptions = { ...opts, maxTreeDeadShare: 100 };
let serial = 0;
const file = (path: string, size: number): FileEntry => ({ path, type: 'file', mode: 0o644, size, xxh64: (++serial).toString(16).padStart(16, '0') });
const tree = (t: TreeName, files: FileEntry[]): TreeManifest => makeManifest(t, { kind: 'dir', path: `/${t}` }, withParentDirs(files));

/** A small PRNG (mulberry32): the same seed gives the same sequence of updates. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}

type Game = Record<TreeName, FileEntry[]>;
const manifests = (g: Game) => TREE_NAMES.map((t) => tree(t, g[t]));


/** The entries a tree's layers unpack to, sorted like a manifest. */
function unpacked(layers: PlannedLayer[], t: TreeName): FileEntry[] {
  return [...stateOf(layers.filter((l) => l.tree === t)).values()].map((o) => o.entry).sort((a, b) => compareBytewise(a.path, b.path));
}

const bytes = (ls: PlannedLayer[]) => ls.reduce((n, l) => n + l.bytes, 0);
const content = (ms: TreeManifest[]) => ms.reduce((n, m) => n + m.entries.reduce((k, e) => k + e.size, 0), 0);

function seedGame(): Game {
  const r = rng(7);
  return {
    engine: [file('start.sh', 900), ...Array.from({ length: 40 }, (_, i) => file(`lib/l${i}.so`, r.int(10_000, 120_000)))],
    'engine-media': Array.from({ length: 60 }, (_, i) => file(`shaders/s${i % 5}/x${i}.bin`, r.int(5_000, 60_000))),
    app: [file('bin/game.so', 1_000_000), ...Array.from({ length: 50 }, (_, i) => file(`Config/c${i}.cfg`, r.int(20_000, 60_000)))],
    'app-media': [
      file('big.pak', 3 * MiB),
      file('levels/forest/level.pak', 1_200_000),
      ...Array.from({ length: 400 }, (_, i) => file(`levels/l${i % 9}/d${i % 4}/p${i}.dat`, r.int(2_000, 60_000))),
    ],
  };
}

describe('compaction over many builds', () => {
  it('after a long seeded sequence of changes every tree unpacks to its manifest, under the layer and dead-byte limits, at a cost that follows the changes', () => {
    const r = rng(42);
    let g = seedGame();
    let ms = manifests(g);
    let layers = planIncremental(ms, {}, opts).layers;
    let sent = 0;
    let changedBytes = 0;
    const stableCount = layers.length;
    for (let update = 0; update < 80; update++) {
      const next: Game = { ...g, 'app-media': [...g['app-media']], app: [...g.app] };
      let changed = 0;
      // Partial rewrites (whole files for layers), adds, removes in app-media; a config edit; the binary now and then.
      for (let k = r.int(1, 6); k > 0; k--) {
        const i = r.int(0, next['app-media'].length - 1);
        const old = next['app-media'][i]!;
        const op = r.next();
        if (op < 0.5) next['app-media'][i] = file(old.path, old.size);
        else if (op < 0.8) next['app-media'].push(file(`levels/l${r.int(0, 11)}/new/n${update}_${k}.dat`, r.int(2_000, 80_000)));
        else next['app-media'].splice(i, 1);
        changed += op < 0.8 ? (op < 0.5 ? old.size : 0) : 0;
      }
      if (update % 9 === 4) next['app-media'] = next['app-media'].map((e) => (e.path === 'big.pak' ? file(e.path, e.size) : e));
      if (update % 13 === 6) next['app-media'] = next['app-media'].filter((e) => !e.path.startsWith('levels/l3/'));
      const c = r.int(1, 49);
      next.app = next.app.map((e) => (e.path === `Config/c${c}.cfg` || (update % 5 === 0 && e.path === 'bin/game.so') ? file(e.path, e.size) : e));
      if (update === 40) next.engine = next.engine.map((e) => file(e.path, e.size)); // an engine upgrade
      const nextMs = manifests(next);
      const inc = planIncremental(nextMs, previousOf(ms, layers), opts);
      for (const t of TREE_NAMES) expect(unpacked(inc.layers, t), `update ${update} ${t}`).toEqual(nextMs.find((m) => m.tree === t)!.entries);
      expect(inc.layers.length).toBeLessThanOrEqual(stableCount + 40);
      expect(bytes(inc.layers)).toBeLessThanOrEqual(1.15 * content(nextMs) + 1);
      const before = new Set(layers.map((l) => l.inputKey));
      sent += bytes(inc.layers.filter((l) => !before.has(l.inputKey)));
      const d = nextMs.flatMap((m) => {
        const old = new Map(ms.find((x) => x.tree === m.tree)!.entries.map((e) => [e.path, e]));
        return m.entries.filter((e) => e.type === 'file' && (old.get(e.path)?.xxh64 !== e.xxh64));
      });
      changedBytes += d.reduce((n, e) => n + e.size, 0);
      if (process.env.DEBUG_COMPACTION) console.log(update, JSON.stringify(inc.decisions), bytes(inc.layers.filter((l) => !before.has(l.inputKey))), d.reduce((n, e) => n + e.size, 0), inc.layers.length);
      void changed;
      g = next;
      ms = nextMs;
      layers = inc.layers;
    }
    // Compaction re-sends live bytes only where dead ones are removed, and merges at the layer limit re-send small
    // patches: on this small game, where 80 updates rewrite about its whole content and the layer limit is reached
    // by update 20, that stays under 2.5× (the month on the 3.1 GB game: bench/README.md, steady state).
    expect(sent / changedBytes).toBeLessThan(2.5);
  });

  it('an app binary touched every build never re-plans the app tree, and each build sends about the binary', () => {
    let g = seedGame();
    let ms = manifests(g);
    let layers = planIncremental(ms, {}, opts).layers;
    for (let i = 0; i < 30; i++) {
      const next = { ...g, app: g.app.map((e) => (e.path === 'bin/game.so' ? file(e.path, e.size) : e)) };
      const nextMs = manifests(next);
      // The server image's limit alone: under the tree images' own (1.15× the app's 3 MB), the binary's dead layers
      // would go as they are left behind (test/plan-compaction-compressed.test.ts).
      const inc = planIncremental(nextMs, previousOf(ms, layers), serverLimitOnly);
      expect(inc.decisions.app.decision).not.toBe('rebased');
      const before = new Set(layers.map((l) => l.inputKey));
      const added = inc.layers.filter((l) => !before.has(l.inputKey));
      expect(bytes(added)).toBeLessThanOrEqual(2 * 1_000_000);
      // Only app layers change, and only at the top of the stack.
      expect(added.every((l) => l.tree === 'app')).toBe(true);
      const firstNew = inc.layers.findIndex((l) => !before.has(l.inputKey));
      expect(inc.layers.slice(0, firstNew).every((l) => l.tree !== 'app-media' || before.has(l.inputKey))).toBe(true);
      expect(inc.layers.slice(firstNew).filter((l) => l.tree !== 'app')).toEqual([]);
      g = next;
      ms = nextMs;
      layers = inc.layers;
    }
  });

  it('a changed file that is a layer of its own gets a new layer of its own; its dead old layer is dropped when dead bytes must go, nothing else is rewritten', () => {
    const g = seedGame();
    const ms = manifests(g);
    const layers = planIncremental(ms, {}, opts).layers;
    const oldBig = layers.find((l) => l.entries.some((e) => e.path === 'big.pak'))!;
    const next = { ...g, 'app-media': g['app-media'].map((e) => (e.path === 'big.pak' ? file(e.path, e.size) : e)) };
    const nextMs = manifests(next);
    // Deep in the stack, the dead layer stays while the image is under the dead-byte limit (nodes would unpack
    // every layer above it again)…
    const lenient = planIncremental(nextMs, previousOf(ms, layers), serverLimitOnly);
    expect(lenient.decisions['app-media'].decision).toBe('patched');
    expect(lenient.layers).toContain(oldBig);
    // …and past it, it is the first to go: it costs nothing to push.
    const inc = planIncremental(nextMs, previousOf(ms, layers), { ...opts, maxDeadShare: 0.1 });
    expect(inc.decisions['app-media'].decision).toBe('compacted');
    expect(inc.decisions['app-media'].reason).toMatch(/^dropped layer \d+, 100 % dead$/);
    const top = inc.layers.at(-1)!;
    expect(top.entries.filter((e) => e.type === 'file').map((e) => e.path)).toEqual(['big.pak']);
    expect(inc.layers).not.toContain(oldBig);
    // Every other layer is kept as it was (its index in the tree moves down by one above the dropped one), in order.
    expect(inc.layers.slice(0, -1).map((l) => l.inputKey)).toEqual(layers.filter((l) => l !== oldBig).map((l) => l.inputKey));
  });

  it('dead bytes under the limit stay; past it only the layers holding them are rewritten, in place, to their live files', () => {
    const g = seedGame();
    const ms = manifests(g);
    const layers = planIncremental(ms, {}, opts).layers;
    // Rewrite every file of one multi-file app-media layer: most of its bytes become dead.
    const victim = layers.filter((l) => l.tree === 'app-media' && l.entries.filter((e) => e.type === 'file').length > 20)[0]!;
    const victimFiles = new Set(victim.entries.filter((e) => e.type === 'file').map((e) => e.path));
    const share = bytes([victim]) / content(ms);
    const next = { ...g, 'app-media': g['app-media'].map((e) => (victimFiles.has(e.path) && (e.size & 3) !== 0 ? file(e.path, e.size) : e)) };
    const nextMs = manifests(next);
    const lenient = planIncremental(nextMs, previousOf(ms, layers), { ...serverLimitOnly, maxDeadShare: share });
    expect(lenient.decisions['app-media'].decision).toBe('patched');
    const inc = planIncremental(nextMs, previousOf(ms, layers), { ...opts, maxDeadShare: share / 4 });
    expect(inc.decisions['app-media']).toMatchObject({ decision: 'compacted', reason: expect.stringMatching(/^rewrote layer \d+, \d+ % dead$/) });
    const at = layers.indexOf(victim);
    const rewritten = inc.layers[at]!;
    expect(rewritten.inputKey).not.toBe(victim.inputKey);
    // Its files now: the ones not rewritten since (the others live in the patch on top).
    expect(rewritten.entries.filter((e) => e.type === 'file').every((e) => victimFiles.has(e.path) && (e.size & 3) === 0)).toBe(true);
    expect(inc.layers.filter((_, i) => i !== at).slice(0, -1)).toEqual(layers.filter((l) => l !== victim));
    expect(unpacked(inc.layers, 'app-media')).toEqual(nextMs.find((m) => m.tree === 'app-media')!.entries);
  });

  it('puts every tree\'s new layers on top of the server stack, other trees\' layers keeping their place', () => {
    const g = seedGame();
    const ms = manifests(g);
    const first = planIncremental(ms, {}, { ...opts, freshOrder: SERVER_STACK_ORDER });
    expect([...new Set(first.layers.map((l) => l.tree))]).toEqual(['engine-media', 'engine', 'app-media', 'app']);
    const next = { ...g, 'app-media': g['app-media'].map((e, i) => (i === 5 ? file(e.path, e.size) : e)), app: g.app.map((e, i) => (i === 3 ? file(e.path, e.size) : e)) };
    const inc = planIncremental(manifests(next), previousOf(ms, first.layers), opts);
    expect(inc.layers.slice(0, first.layers.length)).toEqual(first.layers);
    expect(inc.layers.slice(first.layers.length).map((l) => [l.tree, l.patch])).toEqual([
      ['app', true],
      ['app-media', true],
    ]);
  });
});

describe('layer count (issue 16)', () => {
  it('a config edited every day with the assets: the app keeps one small patch on top, folded into each new top; a layer a day, not two', () => {
    const o = { ...opts, freshOrder: SERVER_STACK_ORDER };
    let g = seedGame();
    let ms = manifests(g);
    let layers = planIncremental(ms, {}, o).layers;
    const start = layers.length;
    // 12 days: this small game reaches its 16 patch layers (the minimum the limit allows) after 15.
    for (let day = 1; day <= 12; day++) {
      const next: Game = {
        ...g,
        app: g.app.map((e) => (e.path === `Config/c${day % 3}.cfg` ? file(e.path, e.size) : e)),
        'app-media': [...g['app-media'], ...Array.from({ length: 10 }, (_, i) => file(`levels/new/d${day}/${i}.dat`, 100_000))],
      };
      const nextMs = manifests(next);
      const inc = planIncremental(nextMs, previousOf(ms, layers), o);
      for (const t of TREE_NAMES) expect(unpacked(inc.layers, t), `day ${day} ${t}`).toEqual(nextMs.find((m) => m.tree === t)!.entries);
      const appPatches = inc.layers.filter((l) => l.tree === 'app' && l.patch);
      expect(appPatches, `day ${day}`).toHaveLength(1);
      // The app's patch is the top of the stack, under it the day's asset patch.
      expect(inc.layers.slice(-2).map((l) => l.tree)).toEqual(['app-media', 'app']);
      if (day > 1) expect(inc.decisions.app.reason).toMatch(/^folded patch layer \d+ into the new top$/);
      // What goes up: the day's files and the configs edited so far (at most 3 of them), nothing else.
      const before = new Set(layers.map((l) => l.inputKey));
      expect(bytes(inc.layers.filter((l) => !before.has(l.inputKey)))).toBeLessThanOrEqual(1_000_000 + 3 * 60_000 + 10_000);
      expect(inc.layers.length).toBe(start + day + 1);
      g = next;
      ms = nextMs;
      layers = inc.layers;
    }
  });

});

describe('planLayers', () => {
  it('is still what a fresh incremental plan gives', () => {
    const ms = manifests(seedGame());
    expect(planIncremental(ms, {}, opts).layers).toEqual(planLayers(ms, opts).layers);
  });
});
