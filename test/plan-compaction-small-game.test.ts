// A small game (docs/compaction.md, "Thirteenth round"): one file is a large share of a tree that is one layer, so
// a relative dead-byte allowance alone made a rename compact the whole tree. A day's change must cost a day's bytes,
// and the dead bytes must still be removed once they are worth it (the allowance's floor, minDeadBytes).
import { describe, expect, it } from 'vitest';
import { planIncremental, stateOf, type IncrementalOptions } from '../src/plan/incremental.js';
import { compareBytewise, makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { TREE_NAMES, type FileEntry, type PlannedLayer, type TreeManifest, type TreeName } from '../src/types.js';
import { previousOf } from './support/previous-trees.js';

const MiB = 1 << 20;
const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
// The CLI's default layer target: a small game's tree is one layer.
const opts: IncrementalOptions = { targetSize: 512 * MiB, maxLayers: 100, mounts };
let serial = 0;
const file = (path: string, size: number, xxh64 = (++serial).toString(16).padStart(16, '0')): FileEntry => ({ path, type: 'file', mode: 0o644, size, xxh64 });
const manifests = (g: Record<TreeName, FileEntry[]>): TreeManifest[] => TREE_NAMES.map((t) => makeManifest(t, { kind: 'dir', path: `/${t}` }, withParentDirs(g[t])));
const sent = (before: PlannedLayer[], after: PlannedLayer[]) => {
  const had = new Set(before.map((l) => l.inputKey));
  return after.filter((l) => !had.has(l.inputKey)).reduce((n, l) => n + l.bytes, 0);
};
const unpacked = (layers: PlannedLayer[], t: TreeName) =>
  [...stateOf(layers.filter((l) => l.tree === t)).values()].map((o) => o.entry).sort((a, b) => compareBytewise(a.path, b.path));
const bytes = (xs: { bytes?: number; size?: number }[]) => xs.reduce((n, x) => n + (x.bytes ?? x.size ?? 0), 0);

/** bench/small-rename.sh's game: the sample game grown to about 45 MiB of incompressible files. */
function smallGame(): Record<TreeName, FileEntry[]> {
  return {
    engine: [file('start.sh', 900), ...Array.from({ length: 6 }, (_, i) => file(`lib/l${i}.so`, 9_000))],
    'engine-media': [file('Engine/big.pak', 6 * MiB), file('Shaders/sh.pak', 2 * MiB), ...Array.from({ length: 6 }, (_, i) => file(`Shaders/s${i}.bin`, 4_000))],
    app: [file('bin/libBig.so', 3 * MiB), file('bin/libSampleGame.so', 16_384), file('checksums.sha256', 3_000), ...Array.from({ length: 5 }, (_, i) => file(`config/c${i}.cfg`, 2_000))],
    'app-media': [
      ...Array.from({ length: 6 }, (_, i) => file(`levels/big${i}.pak`, 5 * MiB)),
      file('audio/music.ogg', 3 * MiB),
      ...Array.from({ length: 12 }, (_, i) => file(`levels/l${i}/level.pak`, 16_000 + 1_000 * i)),
    ],
  };
}

describe('compaction on a small game', () => {
  it('a renamed 5 MiB file sends about its own bytes, not the tree it was in', () => {
    const g = smallGame();
    const day0 = manifests(g);
    const v0 = planIncremental(day0, {}, opts).layers;
    expect(v0.filter((l) => l.tree === 'app-media')).toHaveLength(1);
    const moved = g['app-media'].find((e) => e.path === 'levels/big3.pak')!;
    const next = {
      ...g,
      'app-media': [...g['app-media'].filter((e) => e !== moved), file('levels/forest/big3.pak', moved.size, moved.xxh64)],
      app: g.app.map((e) => (e.path === 'checksums.sha256' ? file(e.path, e.size + 60) : e)),
    };
    const day1 = manifests(next);
    const v1 = planIncremental(day1, previousOf(day0, v0), opts);
    // The old policy rewrote the app-media layer (5 MiB of 33 MiB dead, over its tree's 15 %): 33 MiB sent.
    expect(sent(v0, v1.layers)).toBeLessThanOrEqual(1.2 * 5 * MiB);
    expect(v1.decisions['app-media'].decision).toBe('patched');
    for (const m of day1) expect(unpacked(v1.layers, m.tree)).toEqual(m.entries);
  });

  it('removing its big files one a day: nothing is rewritten until the dead bytes near the floor, then one compaction removes them', () => {
    let g = smallGame();
    let ms = manifests(g);
    let layers = planIncremental(ms, {}, opts).layers;
    const rewrites: number[] = [];
    const gone = [...Array.from({ length: 6 }, (_, i) => `levels/big${i}.pak`), 'audio/music.ogg'];
    for (const path of gone) {
      g = { ...g, 'app-media': g['app-media'].filter((e) => e.path !== path), app: g.app.map((e) => (e.path === 'checksums.sha256' ? file(e.path, e.size) : e)) };
      const next = manifests(g);
      const plan = planIncremental(next, previousOf(ms, layers), opts);
      const out = sent(layers, plan.layers);
      if (/rewrote|dropped/.test(plan.decisions['app-media'].reason ?? '')) rewrites.push(out);
      else expect(out).toBeLessThan(64 * 1024); // the checksum list and the whiteout only
      for (const m of next) expect(unpacked(plan.layers, m.tree)).toEqual(m.entries);
      // The image stays within its content plus the larger of 15 % and the 32 MiB floor.
      const content = bytes(next.flatMap((m) => m.entries));
      expect(bytes(plan.layers)).toBeLessThanOrEqual(content + Math.max(0.15 * content, 32 * MiB));
      [ms, layers] = [next, plan.layers];
    }
    // One compaction in seven days, on the last (33 MiB dead, past 95 % of the floor), sending less than it removed:
    // the live small files of app media and the day's checksum list.
    expect(rewrites).toHaveLength(1);
    expect(rewrites[0]).toBeLessThan(1 * MiB);
    expect(bytes(layers)).toBeLessThan(1.15 * bytes(ms.flatMap((m) => m.entries)));
  });

  it('minDeadBytes 0 restores the relative allowance alone (the old behaviour, kept as an option)', () => {
    const g = smallGame();
    const day0 = manifests(g);
    const v0 = planIncremental(day0, {}, opts).layers;
    const next = { ...g, 'app-media': g['app-media'].filter((e) => e.path !== 'levels/big3.pak') };
    const day1 = manifests(next);
    const v1 = planIncremental(day1, previousOf(day0, v0), { ...opts, minDeadBytes: 0 });
    expect(v1.decisions['app-media'].decision).toBe('compacted');
  });
});
