import { describe, expect, it } from 'vitest';
import { compareBytewise, encodeEntry, sortEntries } from '../src/scan/manifest.js';
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

describe('entry encoding (what tree digests and layer keys hash)', () => {
  it('is byte for byte the JSON of [path, type, mode, size, xxh64, linkTarget], whatever the path holds', () => {
    const paths = ['a/b.pak', 'quote"d', 'back\\slash', 'tab\there', 'nl\nx', '\u0001ctl', 'ü-ñame', '\u{1F600}', 'lone\uD800', 'x\u2028y', '</script>'];
    const entries: FileEntry[] = [
      ...paths.map((p, i) => ({ path: p, type: 'file' as const, mode: i % 2 ? 0o755 : 0o644, size: i * 1_000_003, xxh64: (i * 7919).toString(16).padStart(16, '0') })),
      { path: 'dir', type: 'dir', mode: 0o755, size: 0 },
      { path: 'link', type: 'symlink', mode: 0o777, size: 0, linkTarget: '../"odd"\\target\u0000' },
      { path: 'big', type: 'file', mode: 0o644, size: 2 ** 52, xxh64: 'f'.repeat(16) },
    ];
    for (const x of entries) {
      expect(encodeEntry(x)).toBe(`${JSON.stringify([x.path, x.type, x.mode, x.size, x.xxh64 ?? '', x.linkTarget ?? ''])}\n`);
    }
  });
});
