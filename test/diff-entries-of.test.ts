// diffEntriesOf walks `before` once, one entry at a time (the planner's top of a kept tree: what its layers unpack
// to, never a list): the same TreeDiff as diffEntries on the same entries as a list, added, removed and modified in
// the same order, and bytes; also when `after` is a packed store's list view.
import { describe, expect, it } from 'vitest';
import { diffEntries, diffEntriesOf } from '../src/diff/diff.js';
import { PackedEntries } from '../src/entries/packed-entries.js';
import { packedList } from '../src/entries/packed-list.js';
import type { FileEntry } from '../src/types.js';

const f = (p: string, size = 1, xxh64 = '0000000000000001'): FileEntry => ({ path: p, type: 'file', mode: 420, size, xxh64 });
const d = (p: string): FileEntry => ({ path: p, type: 'dir', mode: 493, size: 0 });

function* once(list: FileEntry[]): Generator<FileEntry> {
  yield* list;
}

describe('diffEntriesOf', () => {
  it('gives diffEntries’ diff, walking before once', () => {
    const cases: [FileEntry[], FileEntry[]][] = [
      [[], []],
      [[f('a')], []],
      [[], [f('a')]],
      [
        [d('a'), f('a/b'), f('a/c', 2), f('b'), f('é'), f('z', 5)],
        [d('a'), f('a/b', 3), f('a/bb'), f('b'), { ...d('c') }, f('é', 1, '0000000000000002'), f('zz')],
      ],
      [
        [f('x/1'), f('x/2'), f('x/3')],
        [f('w'), f('x/2'), f('y')],
      ],
    ];
    for (const [before, after] of cases) {
      const want = diffEntries('t', before, after);
      expect(diffEntriesOf('t', once(before), after)).toEqual(want);
      const packed = packedList(PackedEntries.from(after));
      expect(diffEntriesOf('t', once(before), packed)).toEqual(diffEntries('t', before, packed));
    }
  });
});
