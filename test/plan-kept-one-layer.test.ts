// A tree kept in one layer and unchanged since (a no-op build of the 1M-entry game): the record's check, liveness and
// the tree's new top see at once that the layer is the manifest (the same list, or the same lines by digest, in
// strict path order, no whiteout) instead of walking it as objects several times over. The plan is the one the walks
// gave; a layer that only looks like its manifest (a whiteout, out of order, another hash) is still found out.
// Counted, not timed: objects a packed store made while planning, against the tree's entries.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PackedEntries } from '../src/entries/packed-entries.js';
import { packedList } from '../src/entries/packed-list.js';
import { planIncremental, recordedTreeProblem, type PreviousTree } from '../src/plan/incremental.js';
import { layerInputKey, planLayers, type PlanOptions } from '../src/plan/plan.js';
import { makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { TREE_NAMES, type FileEntry, type PlannedLayer, type TreeManifest, type TreeName } from '../src/types.js';

const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
const opts: PlanOptions = { targetSize: 1 << 30, maxLayers: 100, mounts };
const FILES = 20_000;

function files(edit = 0): FileEntry[] {
  return Array.from({ length: FILES }, (_, i) => ({
    path: `d${i % 29}/s${i % 7}/f${i}`,
    type: 'file' as const,
    mode: 0o644,
    size: (i * 7919) % 50_000,
    xxh64: createHash('sha256').update(`${i}/${i === 5 ? edit : 0}`).digest('hex').slice(0, 16),
  }));
}

/** The game; app-media's entries a packed store's list view when `packed` (as a large record or scan reads them). */
function game(entries: FileEntry[], packed: boolean): TreeManifest[] {
  const tree = (t: TreeName, es: FileEntry[]) => makeManifest(t, { kind: 'dir', path: `/src/${t}` }, withParentDirs(es));
  const media = tree('app-media', entries);
  const mediaTree = packed ? { ...media, entries: packedList(PackedEntries.from(media.entries)) } : media;
  return [tree('engine', [{ path: 'bin/server', type: 'file', mode: 0o755, size: 5, xxh64: '0123456789abcdef' }]), tree('engine-media', []), tree('app', []), mediaTree];
}

/** The previous build as a record gives it: a layer byte for byte its manifest is that very list. */
function previous(ms: TreeManifest[]): Partial<Record<TreeName, PreviousTree>> {
  const layers = planLayers(ms, opts).layers.map((l) => {
    const m = ms.find((x) => x.tree === l.tree)!;
    return l.entries.length === m.entries.length ? { ...l, entries: m.entries } : l;
  });
  return Object.fromEntries(ms.map((m) => [m.tree, { manifest: m, layers: layers.filter((l) => l.tree === m.tree) }]));
}

const shape = (layers: PlannedLayer[]) => layers.map((l) => [l.tree, l.index, l.inputKey, l.bytes, l.entries.length, l.patch ?? false]);

afterEach(() => vi.restoreAllMocks());

describe('a tree kept in one layer', () => {
  it('plans a no-op as the previous plan, packed or objects, the layer the manifest itself or a copy', () => {
    const expected = shape(planLayers(game(files(), false), opts).layers);
    for (const packed of [false, true]) {
      const before = game(files(), packed);
      const prev = previous(before);
      expect(prev['app-media']!.layers).toHaveLength(1);
      for (const t of TREE_NAMES) expect(recordedTreeProblem(t, prev[t]!, mounts[t])).toBeUndefined();
      // Planned against a new scan of the same files (another list of the same lines).
      const inc = planIncremental(game(files(), packed), prev, opts);
      expect(shape(inc.layers), `packed ${packed}`).toEqual(expected);
      expect(Object.values(inc.decisions).map((d) => d.decision)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
      // A copy of the layer's list (not the manifest's own list) is checked by its lines.
      const copied = { ...prev['app-media']!, layers: [{ ...prev['app-media']!.layers[0]!, entries: [...before[3]!.entries] }] };
      expect(recordedTreeProblem('app-media', copied, mounts['app-media'])).toBeUndefined();
    }
  });

  it('plans an edit of one file as a patch on it', () => {
    for (const packed of [false, true]) {
      const prev = previous(game(files(), packed));
      const inc = planIncremental(game(files(1), packed), prev, opts);
      expect(inc.decisions['app-media'].decision).toBe('patched');
      expect(inc.layers.at(-1)!.entries.map((e) => e.path)).toContain('d5/s5/f5');
      expect(shape(inc.layers.slice(0, -1))).toEqual(shape(planLayers(game(files(), false), opts).layers));
    }
  });

  it('still finds a layer that does not unpack to its manifest', () => {
    const m = game(files(), false)[3]!;
    const layer = previous(game(files(), false))['app-media']!.layers[0]!;
    const check = (entries: FileEntry[], manifest: FileEntry[] = entries) =>
      recordedTreeProblem('app-media', { manifest: { ...m, entries: manifest }, layers: [{ ...layer, entries, inputKey: layerInputKey(mounts['app-media'], entries) }] }, mounts['app-media']);
    // Another hash in the layer than in the manifest.
    expect(check(m.entries.map((e) => (e.path === 'd5/s5/f5' ? { ...e, xxh64: 'ffffffffffffffff' } : e)), m.entries)).toMatch(/\(d5\/s5\/f5 differs\)/);
    // The layer is the manifest's own list, but one name is a whiteout: it hides a path instead of holding it.
    const whiteout = m.entries.map((e) => (e.path === 'd5/s5/f5' ? { ...e, path: 'd5/s5/.wh.f5' } : e));
    expect(check(whiteout)).toMatch(/do not unpack to its recorded manifest/);
    // The manifest's own list, out of path order.
    const swapped = [...m.entries];
    const i = swapped.findIndex((e) => e.path === 'd5/s5/f5');
    [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
    expect(check(swapped)).toMatch(/do not unpack to its recorded manifest/);
  });

  it('plans a packed no-op making under two objects per entry', () => {
    const prev = previous(game(files(), true));
    const after = game(files(), true);
    const made = vi.spyOn(PackedEntries.prototype, 'entry');
    planIncremental(after, prev, opts);
    for (const t of TREE_NAMES) recordedTreeProblem(t, prev[t]!, mounts[t]);
    // The walks before this made several per entry (the record's check, liveness and the new top each walked the layer).
    expect(made.mock.calls.length).toBeLessThan(2 * FILES);
  });
});
