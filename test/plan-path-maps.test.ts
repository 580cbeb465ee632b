// Planning on a previous build whose trees were planned in one go (every file once, in path order, each layer with
// its folders) walks their layers beside the manifests: no map of every path for the live entries, nor for checking
// the recorded layers against the recorded manifest (on a 1M-entry tree those maps and their owner objects were
// hundreds of MiB). Counted, not timed: Map entries set while planning, against the tree's 20k files.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isWhiteout, planIncremental, recordedTreeProblem, stateOf } from '../src/plan/incremental.js';
import { planLayers, type PlanOptions } from '../src/plan/plan.js';
import { compareBytewise, makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { TREE_NAMES, type FileEntry, type TreeManifest, type TreeName } from '../src/types.js';
import { previousOf } from './support/previous-trees.js';

const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
const opts: PlanOptions = { targetSize: 4 * 1024 * 1024, maxLayers: 100, mounts };
const FILES = 20_000;

function game(edit = 0): TreeManifest[] {
  const files: FileEntry[] = Array.from({ length: FILES }, (_, i) => ({ path: `d${i % 29}/s${i % 7}/f${i}`, type: 'file', mode: 0o644, size: (i * 7919) % 50_000, xxh64: createHash('sha256').update(`${i}/${i === 5 ? edit : 0}`).digest('hex').slice(0, 16) }));
  const tree = (t: TreeName, entries: FileEntry[]) => makeManifest(t, { kind: 'dir', path: `/src/${t}` }, withParentDirs(entries));
  return [tree('engine', [{ path: 'bin/server', type: 'file', mode: 0o755, size: 5, xxh64: '0123456789abcdef' }]), tree('engine-media', []), tree('app', []), tree('app-media', files)];
}

afterEach(() => vi.restoreAllMocks());

/** Map entries set while `run` runs. */
function mapSets(run: () => unknown): number {
  const set = vi.spyOn(Map.prototype, 'set');
  run();
  const n = set.mock.calls.length;
  set.mockRestore();
  return n;
}

describe('planning on a tree planned in one go', () => {
  const before = game();
  const layers = planLayers(before, opts).layers;
  const prev = previousOf(before, layers);

  it('checks the recorded layers against the manifest without a map of every path', () => {
    expect(layers.filter((l) => l.tree === 'app-media').length).toBeGreaterThan(5);
    let problem: string | undefined = 'not run';
    expect(mapSets(() => (problem = recordedTreeProblem('app-media', prev['app-media']!, mounts['app-media'])))).toBeLessThan(FILES / 10);
    expect(problem).toBeUndefined();
    // A layer that does not unpack to the manifest is still found.
    const damaged = { ...prev['app-media']!, manifest: game(1)[3]! };
    expect(recordedTreeProblem('app-media', damaged, mounts['app-media'])).toMatch(/do not unpack to its recorded manifest \(d5\/s5\/f5 differs\)/);
  });

  it('plans an edit of one file with under two map entries per file of the tree', () => {
    const after = game(1);
    const sets = mapSets(() => planIncremental(after, prev, opts));
    // Before: about five per file (102,860), two maps of every path per kept tree and the recorded check's; the stable
    // plan and the patch's own still take about one per file.
    expect(sets).toBeLessThan(2 * FILES);
    const plan = planIncremental(after, prev, opts);
    expect(plan.decisions['app-media'].decision).toBe('patched');
    expect(plan.layers.at(-1)!.entries.map((e) => e.path)).toContain('d5/s5/f5');
  });
});

describe('planning on a tree with a patch of whiteouts on it', () => {
  // The previous build removed every tenth file: its app-media is the tree's layers and a patch of 2,000 whiteouts.
  const first = game();
  const removed = (ms: TreeManifest[]) => {
    const m = ms[3]!;
    const files = m.entries.filter((e, i) => e.type !== 'file' || i % 10 !== 3);
    return [...ms.slice(0, 3), makeManifest('app-media', { kind: 'dir', path: '/src/app-media' }, files)];
  };
  const second = removed(first);
  const patched = planIncremental(second, previousOf(first, planLayers(first, opts).layers), opts);
  const prev = previousOf(second, patched.layers);

  it('is such a build (a patch of whiteouts on the tree)', () => {
    expect(patched.decisions['app-media'].decision).toBe('patched');
    const top = patched.layers.filter((l) => l.tree === 'app-media').at(-1)!;
    expect(top.entries.filter(isWhiteout).length).toBeGreaterThan(FILES / 20);
  });

  it('checks the recorded layers against the manifest without a map of every path', () => {
    let problem: string | undefined = 'not run';
    // Before: stateOf's map of every path (about one set per entry of every layer).
    expect(mapSets(() => (problem = recordedTreeProblem('app-media', prev['app-media']!, mounts['app-media'])))).toBeLessThan(FILES / 10);
    expect(problem).toBeUndefined();
    // A file the patch did not remove, and one it did: both found.
    const withFile = { ...prev['app-media']!, manifest: first[3]! };
    expect(recordedTreeProblem('app-media', withFile, mounts['app-media'])).toMatch(/do not unpack to its recorded manifest \(d\d+\/s\d+\/f\d+ differs\)/);
  });

  it('plans a no-op and an edit with under two map entries per file of the tree, and the plan unpacks to the manifest', () => {
    for (const edit of [0, 1]) {
      const after = edit ? [...second.slice(0, 3), makeManifest('app-media', { kind: 'dir', path: '/src/app-media' }, second[3]!.entries.map((e) => (e.path === 'd5/s5/f5' ? { ...e, xxh64: 'ffffffffffffffff' } : e)))] : second;
      // Before: 2.3 per file on a no-op (the map of every path and the manifest's map, in liveness and the new top).
      expect(mapSets(() => planIncremental(after, prev, opts))).toBeLessThan(2 * FILES);
      const plan = planIncremental(after, prev, opts);
      expect(plan.decisions['app-media'].decision).toBe(edit ? 'compacted' : 'unchanged');
      const unpacked = [...stateOf(plan.layers.filter((l) => l.tree === 'app-media')).values()].map((o) => o.entry).sort((a, b) => compareBytewise(a.path, b.path));
      expect(unpacked).toEqual([...after[3]!.entries]);
    }
  });
});
