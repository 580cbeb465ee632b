import { describe, expect, it } from 'vitest';
import { compareBytewise, sortEntries } from '../src/scan/manifest.js';
import type { FileEntry } from '../src/types.js';

const e = (path: string): FileEntry => ({ path, type: 'file', mode: 0o644, size: 0, xxh64: '0'.repeat(16) });

describe('entry order', () => {
  it('is UTF-8 byte order, also where UTF-16 order differs (astral vs. high BMP code points)', () => {
    // U+E000 is EE 80 80 in UTF-8, U+1F600 is F0 9F 98 80: U+E000 first, though its UTF-16 unit is larger.
    const paths = ['a/\u{1F600}.pak', 'a/\uE000.pak', 'a/b', 'a', 'A', 'a-b', 'a/é'];
    const sorted = sortEntries(paths.map(e)).map((x) => x.path);
    const byBytes = [...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(sorted).toEqual(byBytes);
    expect(sorted.indexOf('a/\uE000.pak')).toBeLessThan(sorted.indexOf('a/\u{1F600}.pak'));
  });

  it('takes the fast path for ordinary names and agrees with byte order', () => {
    const paths = Array.from({ length: 500 }, (_, i) => `levels/l${(i * 7919) % 97}/chunk-${(i * 104729) % 1000}.pak`);
    const sorted = sortEntries(paths.map(e)).map((x) => x.path);
    expect(sorted).toEqual([...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    for (let i = 1; i < sorted.length; i++) expect(compareBytewise(sorted[i - 1]!, sorted[i]!)).toBeLessThanOrEqual(0);
  });
});
