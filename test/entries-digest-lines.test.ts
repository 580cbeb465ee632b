// The digest of a list of entries is the sha256 of their encodeEntry lines, whatever the lines hold: the list is
// hashed a buffer of lines at a time (packed-list.ts), lines with multi-byte characters and a line longer than the
// buffer included.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entriesDigest } from '../src/scan/manifest.js';
import { encodeEntry } from '../src/entries/packed-list.js';
import type { FileEntry } from '../src/types.js';

describe('entriesDigest of a list', () => {
  it('is the sha256 of the lines, across buffer ends, multi-byte characters and a line longer than the buffer', () => {
    const entries: FileEntry[] = [];
    for (let i = 0; i < 6000; i++) {
      const name = i % 3 === 0 ? `é\u2603😀 "q" \\ ${i}` : `plain-${i}`;
      entries.push({ path: `d${String(i).padStart(5, '0')}/${name}`, type: 'file', mode: 420, size: i, xxh64: '0123456789abcdef' });
      if (i === 2500) entries.push({ path: `d${String(i).padStart(5, '0')}/${'ü'.repeat(30_000)}`, type: 'symlink', mode: 511, size: 0, linkTarget: '😀'.repeat(9000) });
    }
    const want = createHash('sha256');
    for (const e of entries) want.update(encodeEntry(e));
    expect(entriesDigest(entries)).toBe(`sha256:${want.digest('hex')}`);
  });
});
