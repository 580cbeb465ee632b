// Two packed stores diffed on their columns (stop 41, issue 17 item 2: the build and `diff` after files were removed
// from a 1M-entry tree): the same TreeDiff as the walk over objects, entry for entry, on the cases a merge of two
// sorted lists can get wrong (paths compared across folders, non-ASCII and astral names, type changes, links, hashes,
// removed folders), and the plan made on packed manifests the same as on objects: the same layers, keys, entries and
// whiteouts. The removed entries of a large diff are a packed store's list: the same entries, read-only.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { diffEntries, diffEntriesOf, packedDiff } from '../src/diff/diff.js';
import { PackedEntries } from '../src/entries/packed-entries.js';
import { packedList, packedStoreOf } from '../src/entries/packed-list.js';
import { planIncremental, type PreviousTree } from '../src/plan/incremental.js';
import { planLayers, type PlanOptions } from '../src/plan/plan.js';
import { compareBytewise, makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { TREE_NAMES, type FileEntry, type PlannedLayer, type TreeManifest, type TreeName } from '../src/types.js';

const minRemoved = packedDiff.minRemoved;
afterEach(() => {
  packedDiff.minRemoved = minRemoved;
});

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);
const file = (path: string, v = '', size = 3): FileEntry => ({ path, type: 'file', mode: 0o644, size, xxh64: hash(`${path}${v}`) });
const dir = (path: string): FileEntry => ({ path, type: 'dir', mode: 0o755, size: 0 });
const link = (path: string, target: string): FileEntry => ({ path, type: 'symlink', mode: 0o777, size: 0, linkTarget: target });
const sorted = (es: FileEntry[]) => [...es].sort((a, b) => compareBytewise(a.path, b.path));
const packed = (es: FileEntry[]) => packedList(PackedEntries.from(sorted(es)));
/** A TreeDiff as plain data (a packed list read out), to compare with toEqual. */
const plain = (d: ReturnType<typeof diffEntries>) => JSON.parse(JSON.stringify(d)) as unknown;

const before: FileEntry[] = [
  dir('a'),
  file('a/x'),
  file('a.b'),
  dir('a/b'),
  file('a/b/c'),
  file('a/b/d'),
  dir('gone'),
  file('gone/1'),
  dir('gone/deep'),
  file('gone/deep/2'),
  file('ren/old-name'),
  dir('ren'),
  file('type/f2d'),
  dir('type/d2f'),
  file('type/d2f/inner'),
  file('type/f2l'),
  link('type/l2f', '../a/x'),
  link('type/lmove', 'a'),
  dir('type'),
  file('u/é'),
  file('u/z'),
  file('u/😀'),
  file('u/\uffff'),
  dir('u'),
  file('hash', 'one'),
  { path: 'nohash', type: 'file', mode: 0o644, size: 0 },
  { ...file('mode'), mode: 0o755 },
];
const after: FileEntry[] = [
  dir('a'),
  file('a/x'),
  file('a.b', 'changed'),
  dir('a/b'),
  file('a/b/c'),
  file('a/b0'),
  file('ren/new-name'),
  dir('ren'),
  dir('type/f2d'),
  file('type/f2d/in'),
  file('type/d2f'),
  link('type/f2l', 'x'),
  file('type/l2f'),
  link('type/lmove', 'b'),
  dir('type'),
  file('u/é', 'v2'),
  file('u/z'),
  file('u/😀'),
  file('u/\uffff'),
  file('u/𝔸'),
  dir('u'),
  file('hash', 'two'),
  { path: 'nohash', type: 'file', mode: 0o644, size: 0, xxh64: hash('now') },
  file('mode'),
];

describe('diffEntries of two packed stores', () => {
  it('gives the diff of the objects: removals, renames, type changes file/dir/symlink, links, hashes, modes, non-ASCII names', () => {
    const objects = diffEntries('t', sorted(before), sorted(after));
    expect(objects.removed.map((e) => e.path)).toContain('gone/deep/2');
    expect(objects.modified.map((m) => `${m.before.type}>${m.after.type}`)).toEqual(expect.arrayContaining(['file>dir', 'dir>file', 'file>symlink', 'symlink>file', 'symlink>symlink']));
    expect(plain(diffEntries('t', packed(before), packed(after)))).toEqual(plain(objects));
    expect(plain(diffEntries('t', packed(after), packed(before)))).toEqual(plain(diffEntries('t', sorted(after), sorted(before))));
    // Each side against itself and against nothing.
    expect(plain(diffEntries('t', packed(before), packed(before)))).toEqual(plain(diffEntries('t', sorted(before), sorted(before))));
    expect(plain(diffEntries('t', packed([]), packed(after)))).toEqual(plain(diffEntries('t', [], sorted(after))));
    expect(plain(diffEntries('t', packed(before), packed([])))).toEqual(plain(diffEntries('t', sorted(before), [])));
  });

  it('lists many removed entries as a packed store: the same entries, in order, read-only', () => {
    packedDiff.minRemoved = 3;
    const d = diffEntries('t', packed(before), packed(after));
    expect(packedStoreOf(d.removed)).toBeDefined();
    expect(plain(d)).toEqual(plain(diffEntries('t', sorted(before), sorted(after))));
    expect(() => (d.removed as FileEntry[]).push(file('x'))).toThrow(/read-only/);
    // Below the threshold: objects, as before.
    packedDiff.minRemoved = 1000;
    expect(packedStoreOf(diffEntries('t', packed(before), packed(after)).removed)).toBeUndefined();
  });

  it('compares paths across folders bytewise as compareBytewise does, at every pair', () => {
    const paths = sorted([...before, ...after].filter((e, i, all) => all.findIndex((x) => x.path === e.path) === i)).map((e) => e.path);
    const store = PackedEntries.from(paths.map((p) => file(p)));
    const other = PackedEntries.from([...paths].reverse().map((p) => file(p)));
    for (let i = 0; i < paths.length; i++) {
      for (let j = 0; j < paths.length; j++) {
        const want = Math.sign(compareBytewise(paths[i]!, paths[j]!));
        expect(Math.sign(store.comparePath(i, store, j)), `${paths[i]} ${paths[j]}`).toBe(want);
        expect(Math.sign(store.comparePath(i, other, paths.length - 1 - j)), `${paths[i]} ${paths[j]}`).toBe(want);
      }
    }
    expect(store.inPathOrder(true)).toBe(true);
    expect(other.inPathOrder(false)).toBe(false);
    expect(PackedEntries.from([file('a/.wh.b')]).inPathOrder(true)).toBe(false);
    expect(PackedEntries.from([file('a/.wh.b')]).inPathOrder(false)).toBe(true);
  });
});

describe('the plan on packed manifests after removals', () => {
  const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
  const opts: PlanOptions = { targetSize: 1 << 30, maxLayers: 100, mounts };
  const media = (n: number, keep: (i: number) => boolean, extra: FileEntry[] = []): FileEntry[] => [
    ...Array.from({ length: n }, (_, i) => file(`d${i % 13}/s${i % 5}/f${i}`, '', i % 97)).filter((_e, i) => keep(i)),
    ...extra,
  ];
  const game = (entries: FileEntry[], asPacked: boolean): TreeManifest[] => {
    const tree = (t: TreeName, es: FileEntry[]) => makeManifest(t, { kind: 'dir', path: `/src/${t}` }, withParentDirs(es));
    const m = tree('app-media', entries);
    return [tree('engine', [file('bin/server')]), tree('engine-media', []), tree('app', []), asPacked ? { ...m, entries: packedList(PackedEntries.from(m.entries)) } : m];
  };
  /** The previous build as a record gives it: the one layer byte for byte its manifest is that very list. */
  const previous = (ms: TreeManifest[]): Partial<Record<TreeName, PreviousTree>> => {
    const layers = planLayers(ms, opts).layers.map((l) => {
      const m = ms.find((x) => x.tree === l.tree)!;
      return l.entries.length === m.entries.length ? { ...l, entries: m.entries } : l;
    });
    return Object.fromEntries(ms.map((m) => [m.tree, { manifest: m, layers: layers.filter((l) => l.tree === m.tree) }]));
  };
  const shape = (layers: PlannedLayer[]) => layers.map((l) => ({ tree: l.tree, index: l.index, key: l.inputKey, bytes: l.bytes, patch: l.patch ?? false, entries: JSON.parse(JSON.stringify(l.entries)) as unknown }));

  const cases: [string, FileEntry[], FileEntry[]][] = [
    ['every tenth file removed', media(3000, () => true), media(3000, (i) => i % 10 !== 3)],
    ['a whole folder removed (one whiteout for it)', media(3000, () => true), media(3000, (i) => i % 13 !== 4)],
    ['files renamed', media(3000, () => true), media(3000, (i) => i % 50 !== 0, [file('renamed/a'), file('renamed/b')])],
    ['a file becomes a folder, a folder a file', media(3000, () => true, [file('swap/x'), dir('swap/y'), file('swap/y/in')]), media(3000, () => true, [dir('swap/x'), file('swap/x/in'), file('swap/y')])],
    ['a file becomes a link', media(3000, () => true, [file('l/a')]), media(3000, (i) => i % 7 !== 0, [link('l/a', '../d0')])],
  ];
  for (const [name, was, now] of cases) {
    it(`plans the same as on objects: ${name}`, () => {
      for (const minimum of [minRemoved, 1]) {
        packedDiff.minRemoved = minimum;
        const objects = planIncremental(game(now, false), previous(game(was, false)), opts);
        const onPacked = planIncremental(game(now, true), previous(game(was, true)), opts);
        expect(onPacked.decisions).toEqual(objects.decisions);
        expect(shape(onPacked.layers)).toEqual(shape(objects.layers));
      }
    });
  }

  it('writes one whiteout for a removed folder, none for what it held', () => {
    packedDiff.minRemoved = 1;
    const plan = planIncremental(game(media(3000, (i) => i % 13 !== 4), true), previous(game(media(3000, () => true), true)), opts);
    const patch = plan.layers.find((l) => l.tree === 'app-media' && l.patch)!;
    const whiteouts = patch.entries.filter((e) => e.path.includes('.wh.')).map((e) => e.path);
    expect(whiteouts).toEqual(['.wh.d4']);
  });

  it('diffEntriesOf over the one layer gives what the packed diff gives', () => {
    const was = game(media(2000, () => true), true).find((m) => m.tree === 'app-media')!;
    const now = game(media(2000, (i) => i % 3 !== 0), true).find((m) => m.tree === 'app-media')!;
    expect(plain(diffEntries('t', was.entries, now.entries))).toEqual(plain(diffEntriesOf('t', was.entries, now.entries)));
  });
});
