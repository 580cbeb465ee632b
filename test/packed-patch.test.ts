// The patch layer of a large removal is written as a packed store (stop 42, issue 17 item 2: 100k whiteouts as
// objects and a map of them were the peak of `build --push` planned on a registry record at 1M entries). It must be
// the layer the object form gives, entry for entry and key for key: folders whited out whole, a folder emptied and
// filled again, paths removed by an earlier patch and added back, whiteouts sorting among names below '.', non-ASCII
// names, links, added folders; and a chain of builds planned on the packed patches gives what objects give.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { packedDiff } from '../src/diff/diff.js';
import { PackedEntries } from '../src/entries/packed-entries.js';
import { packedList, packedStoreOf } from '../src/entries/packed-list.js';
import { planIncremental, type IncrementalPlan, type PreviousTree } from '../src/plan/incremental.js';
import { planLayers, type PlanOptions } from '../src/plan/plan.js';
import { makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { TREE_NAMES, type FileEntry, type PlannedLayer, type TreeManifest, type TreeName } from '../src/types.js';

const minRemoved = packedDiff.minRemoved;
afterEach(() => {
  packedDiff.minRemoved = minRemoved;
});

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const file = (path: string, v = '', size = 3): FileEntry => ({ path, type: 'file', mode: 0o644, size, xxh64: hash(`${path}${v}`) });
const dir = (path: string, mode = 0o755): FileEntry => ({ path, type: 'dir', mode, size: 0 });
const link = (path: string, target: string): FileEntry => ({ path, type: 'symlink', mode: 0o777, size: 0, linkTarget: target });

const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
const opts: PlanOptions = { targetSize: 1 << 30, maxLayers: 100, mounts };

/** The game with `media` as app-media: its manifest's entries as objects, or as a packed store's list. */
function game(media: FileEntry[], asPacked: boolean): TreeManifest[] {
  const tree = (t: TreeName, es: FileEntry[]) => makeManifest(t, { kind: 'dir', path: `/src/${t}` }, withParentDirs(es));
  const m = tree('app-media', media);
  return [tree('engine', [file('bin/server')]), tree('engine-media', []), tree('app', []), asPacked ? { ...m, entries: packedList(PackedEntries.from(m.entries)) } : m];
}

/** A first build: each tree one layer, whose list is the manifest's (as a record read back gives it). */
function first(ms: TreeManifest[]): Partial<Record<TreeName, PreviousTree>> {
  const layers = planLayers(ms, opts).layers.map((l) => {
    const m = ms.find((x) => x.tree === l.tree)!;
    return l.entries.length === m.entries.length ? { ...l, entries: m.entries } : l;
  });
  return Object.fromEntries(ms.map((m) => [m.tree, { manifest: m, layers: layers.filter((l) => l.tree === m.tree) }]));
}

/** A later build planned on `plan`, the build of `ms`. */
function after(ms: TreeManifest[], plan: IncrementalPlan): Partial<Record<TreeName, PreviousTree>> {
  return Object.fromEntries(ms.map((m) => [m.tree, { manifest: m, layers: plan.layers.filter((l) => l.tree === m.tree) }]));
}

const shape = (layers: PlannedLayer[]) => layers.map((l) => ({ tree: l.tree, index: l.index, key: l.inputKey, bytes: l.bytes, patch: l.patch ?? false, entries: JSON.parse(JSON.stringify(l.entries)) as unknown }));
const patchOf = (p: IncrementalPlan) => p.layers.find((l) => l.tree === 'app-media' && l.patch);

/** n files in folders d0..d12, each with sub-folders s0..s4. */
const media = (n: number, keep: (i: number) => boolean, extra: FileEntry[] = []): FileEntry[] => [
  ...Array.from({ length: n }, (_, i) => file(`d${i % 13}/s${i % 5}/f${i}`, '', i % 97)).filter((_e, i) => keep(i)),
  ...extra,
];
// Names that sort below '.' ('-', '!', ' ', '+'), so a folder's whiteouts fall between its entries, not at its start.
const odd = [file('d1/-dash'), file('d1/!bang'), file('d1/ space'), file('d1/+plus'), file('d1/s0-x'), dir('d1/s0.d'), file('d1/s0.d/in'), file('d1/é'), file('d1/😀')];

const cases: [string, FileEntry[], FileEntry[]][] = [
  ['every tenth file removed', media(2000, () => true, odd), media(2000, (i) => i % 10 !== 3, odd)],
  ['whole folders removed, one nested: one whiteout each', media(2000, () => true, odd), media(2000, (i) => i % 13 !== 4 && !(i % 13 === 6 && i % 5 === 2), odd)],
  ['a folder emptied and filled again, its mode changed', media(2000, () => true), media(2000, (i) => i % 13 !== 7, [dir('d7', 0o750), file('d7/new'), dir('d7/s9'), file('d7/s9/n')])],
  ['names below the dot removed beside whiteouts, non-ASCII names', media(2000, () => true, odd), media(2000, (i) => i % 4 !== 0, odd.filter((_e, i) => i % 2 === 0))],
  ['files added and modified beside the removal, a new folder, a link', media(2000, () => true, [file('d2/m', 'a')]), media(2000, (i) => i % 6 !== 1, [file('d2/m', 'b'), dir('n'), dir('n/o'), file('n/o/p'), link('n/l', '../d2/m')])],
];

describe('the packed patch of a large removal', () => {
  for (const [name, was, now] of cases) {
    it(`is the object patch, entry for entry: ${name}`, () => {
      packedDiff.minRemoved = 1;
      const objects = planIncremental(game(now, false), first(game(was, false)), opts);
      const onPacked = planIncremental(game(now, true), first(game(was, true)), opts);
      expect(patchOf(objects)).toBeDefined();
      // Objects where the diff's removed entries are objects; a store where they are one.
      expect(packedStoreOf(patchOf(objects)!.entries)).toBeUndefined();
      expect(packedStoreOf(patchOf(onPacked)!.entries)).toBeDefined();
      expect(onPacked.decisions).toEqual(objects.decisions);
      expect(shape(onPacked.layers)).toEqual(shape(objects.layers));
    });
  }

  it('a chain of builds on packed patches: paths removed, added back, removed again', () => {
    packedDiff.minRemoved = 1;
    const steps = [
      media(2000, () => true, odd),
      media(2000, (i) => i % 3 !== 0, odd.slice(2)), // a third removed
      media(2000, (i) => i % 3 !== 1, odd), // those added back, others removed
      media(2000, (i) => i % 13 !== 5 && i % 3 !== 1, [...odd, file('d5')]), // a folder removed whole, a file in its place
      media(2000, (i) => i % 2 === 0, [...odd, dir('d5'), file('d5/back')]),
    ];
    let objPrev = first(game(steps[0]!, false));
    let packedPrev = first(game(steps[0]!, true));
    for (const [k, now] of steps.entries()) {
      if (k === 0) continue;
      const objects = planIncremental(game(now, false), objPrev, opts);
      const onPacked = planIncremental(game(now, true), packedPrev, opts);
      expect(onPacked.decisions, `step ${k}`).toEqual(objects.decisions);
      expect(shape(onPacked.layers), `step ${k}`).toEqual(shape(objects.layers));
      objPrev = after(game(now, false), objects);
      packedPrev = after(game(now, true), onPacked);
    }
  });

  it('writes a whiteout per topmost removed path and the folders they lie in', () => {
    packedDiff.minRemoved = 1;
    const plan = planIncremental(game(media(2000, (i) => i % 13 !== 4 && i % 5 !== 3), true), first(game(media(2000, () => true), true)), opts);
    const entries = patchOf(plan)!.entries;
    expect(packedStoreOf(entries)).toBeDefined();
    const paths = entries.map((e) => e.path);
    expect(paths.filter((p) => !p.includes('.wh.'))).toEqual(['d0', 'd1', 'd10', 'd11', 'd12', 'd2', 'd3', 'd5', 'd6', 'd7', 'd8', 'd9']);
    expect(paths).toContain('.wh.d4');
    expect(paths).toContain('d0/.wh.s3');
    expect(paths.some((p) => p.startsWith('d4/'))).toBe(false);
    expect(paths.filter((p) => /\/s3\//.test(p))).toEqual([]);
    expect(entries.filter((e) => e.path.includes('.wh.')).every((e) => e.type === 'file' && e.size === 0 && e.mode === 0o644)).toBe(true);
  });
});
