// Issue 17, memory: the layer writer takes a planned layer's entries in the order given (sorted, folders first)
// instead of building a map and a sorted copy of every tar name. Its output must equal layerTarEntries' for any
// list, also the ones it hands back to layerTarEntries (unsorted, a folder missing, a file where a folder goes).
import { describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { layerTarEntries, layerTarEntriesInOrder } from '../src/oci/tar.js';
import { compareBytewise } from '../src/scan/manifest.js';
import type { FileEntry } from '../src/types.js';

const file = (p: string): FileEntry => ({ path: p, type: 'file', mode: 0o644, size: 1, xxh64: '0123456789abcdef' });
const dir = (p: string): FileEntry => ({ path: p, type: 'dir', mode: 0o755, size: 0 });
const sorted = (es: FileEntry[]) => [...es].sort((a, b) => compareBytewise(a.path, b.path));

const LISTS: Record<string, FileEntry[]> = {
  'planned: sorted, folders first': sorted([dir('a'), dir('a/b'), file('a/b/c'), file('a/b-x'), file('a/b.cfg'), file('top'), dir('z'), file('z/é')]),
  'astral and high BMP names (code point order)': sorted([dir('m'), file('m/\u{1F600}.png'), file('m/\uFFFD.bin'), file('m/\uE000.dat'), file('m/plain')]),
  'a folder missing': [file('a/b/c'), file('top')],
  'a missing folder that sorts after a sibling': sorted([dir('a'), file('a/b-x'), file('a/b/c')]),
  unsorted: [file('b'), file('a')],
  'a file where a folder goes': [file('a'), file('a/x')],
  'a planned folder after its files': [file('a/x'), dir('a')],
  empty: [],
};

const shape = (ts: Iterable<{ name: string; entry: FileEntry }>) => [...ts].map((t) => ({ name: t.name, entry: t.entry }));

describe('layerTarEntriesInOrder', () => {
  for (const [name, entries] of Object.entries(LISTS)) {
    for (const mount of ['/opt/local/app', '/']) {
      it(`equals layerTarEntries: ${name}, mount ${mount}`, () => {
        expect(shape(layerTarEntriesInOrder(entries, mount, 'app'))).toEqual(shape(layerTarEntries(entries, mount, 'app')));
      });
    }
  }

  it('takes a planned layer as it comes (no list of tar names is made), anything else through layerTarEntries', () => {
    expect(Array.isArray(layerTarEntriesInOrder(LISTS['planned: sorted, folders first']!, '/opt/local/app'))).toBe(false);
    expect(Array.isArray(layerTarEntriesInOrder(LISTS['a folder missing']!, '/opt/local/app'))).toBe(true);
  });

  it('refuses what layerTarEntries refuses, before anything is written', () => {
    for (const bad of [[file('a'), file('a')], [file('ok'), file('../up')], [file('.wh..')]]) {
      let want: unknown;
      try {
        layerTarEntries(bad, '/opt/local/app', 'app');
      } catch (e) {
        want = e;
      }
      expect(want).toBeInstanceOf(GamelayerError);
      expect(() => layerTarEntriesInOrder(bad, '/opt/local/app', 'app')).toThrow((want as Error).message);
    }
  });
});
