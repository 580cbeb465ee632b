// A many-file tree's plan, pinned: its layers' inputKeys (which name every entry, its order and the folders each
// layer carries) and the record bytes of the plan must stay as they were before the planner stopped keeping a set of
// every path and a sorted copy per layer (issue 17, memory). The pins were computed by the planner before that change.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { planLayers, withAncestors, type PlanOptions } from '../src/plan/plan.js';
import { jsonChunks } from '../src/util/json-chunks.js';
import { TREE_NAMES, type FileEntry, type TreeManifest, type TreeName } from '../src/types.js';

const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;

/** 20k entries in nested folders: unicode names (astral ones too), executables, symlinks, empty and sized files. */
function manyFiles(): FileEntry[] {
  const out: FileEntry[] = [];
  const names = ['a', 'B', 'é', 'z', '日本', '𝄞', 'a-b', 'a.b'];
  for (let i = 0; i < 20_000; i++) {
    const dir = `${names[i % 8]}/${names[(i >> 3) % 8]}${i % 13}/d${i % 29}`;
    const path = `${dir}/${names[(i * 7) % 8]}f${i}`;
    if (i % 97 === 0) out.push({ path, type: 'symlink', mode: 0o777, size: 0, linkTarget: `../${names[i % 8]}f${i + 1}` });
    else out.push({ path, type: 'file', mode: i % 11 === 0 ? 0o755 : 0o644, size: (i * 7919) % 50_000, xxh64: createHash('sha256').update(String(i)).digest('hex').slice(0, 16) });
  }
  return out;
}

function game(): TreeManifest[] {
  const tree = (t: TreeName, entries: FileEntry[]) => makeManifest(t, { kind: 'dir', path: `/src/${t}` }, withParentDirs(entries));
  return [tree('engine', [{ path: 'bin/server', type: 'file', mode: 0o755, size: 5, xxh64: '0123456789abcdef' }]), tree('engine-media', []), tree('app', []), tree('app-media', manyFiles())];
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('plan of a many-file tree', () => {
  const opts: PlanOptions = { targetSize: 4 * 1024 * 1024, maxLayers: 100, mounts };

  it('cuts it into the same layers, with the same keys and record bytes, as before', () => {
    const plan = planLayers(game(), opts);
    const media = plan.layers.filter((l) => l.tree === 'app-media');
    expect(media.length).toBeGreaterThan(20);
    expect(media.reduce((n, l) => n + l.entries.length, 0)).toBeGreaterThan(20_000); // every layer carries its folders
    expect(sha(plan.layers.map((l) => `${l.tree} ${l.index} ${l.inputKey} ${l.bytes} ${l.entries.length}`).join('\n'))).toBe(PINNED_KEYS);
    expect(sha([...jsonChunks(plan)].join(''))).toBe(PINNED_RECORD);
  });

  it('merges down to the layer limit with the same keys as before', () => {
    const plan = planLayers(game(), { ...opts, maxLayers: 9 });
    expect(plan.layers).toHaveLength(9);
    expect(sha(plan.layers.map((l) => l.inputKey).join('\n'))).toBe(PINNED_MERGED);
  });
});

describe('withAncestors', () => {
  const dir = (path: string): FileEntry => ({ path, type: 'dir', mode: 0o755, size: 0 });
  const file = (path: string): FileEntry => ({ path, type: 'file', mode: 0o644, size: 1, xxh64: '0000000000000001' });
  const dirs = new Map(['a', 'a/b', 'a/b-c', 'x', 'x/𝄞', 'x/\uffff'].map((p) => [p, { ...dir(p), mode: 0o700 }]));
  const paths = (l: FileEntry[]) => l.map((e) => `${e.type[0]} ${e.path}${e.mode === 0o700 ? ' (listed)' : ''}`);

  it('puts the folders a sorted run lacks between its entries, in byte order, taking the listed ones', () => {
    // Byte order: U+FFFF (EF BF BF) sorts before U+1D11E (F0 …), which JS's `<` puts the other way round.
    const run = [dir('a/b'), file('a/b-c/f'), file('a/b/g'), file('x/\uffff/i'), file('x/𝄞/h'), file('y/z/j')];
    expect(paths(withAncestors(run, dirs))).toEqual([
      'd a (listed)', 'd a/b', 'd a/b-c (listed)', 'f a/b-c/f', 'f a/b/g', 'd x (listed)', 'd x/\uffff (listed)', 'f x/\uffff/i', 'd x/𝄞 (listed)', 'f x/𝄞/h', 'd y', 'd y/z', 'f y/z/j',
    ]);
  });

  it('returns the list itself when nothing lacks a folder, and sorts an unsorted list whole', () => {
    const full = [dir('a'), file('a/f')];
    expect(withAncestors(full, dirs)).toBe(full);
    expect(paths(withAncestors([file('y/b'), file('a/f')], dirs))).toEqual(['d a (listed)', 'f a/f', 'd y', 'f y/b']);
  });
});

const PINNED_KEYS = '334070d121ac3b01a82ff901f75180146b0ec80a27c5216791e8651ff21a87d4';
const PINNED_RECORD = '6802abe258820ca020ed2951b91b56a091035bc33fc651346afa74562d87cff1';
const PINNED_MERGED = '155fd6f9e592dddc329e2f09c15668e5f22f34cc2a1414ad61d0b5794a72dac1';
