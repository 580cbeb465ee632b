// The record-blob copies a build's commands share (record-blob-cache.ts): a copy is used only when it is the digest
// asked for, a damaged one is removed, and a warm host keeps the newest few.
import { createHash } from 'node:crypto';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedRecordBlob, keepRecordBlob } from '../src/registry/record-blob-cache.js';
import { tempDir } from './support/tmp.js';

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('record blob copies', () => {
  it('reads back a kept blob, refuses and removes one whose bytes are not its digest', async () => {
    const dir = await tempDir('gl-record-blobs-');
    const bytes = Buffer.from('{"record":1}');
    const digest = digestOf(bytes);
    await keepRecordBlob(dir, digest, bytes);
    expect(await cachedRecordBlob(dir, digest, bytes.length)).toEqual(bytes);
    expect(await cachedRecordBlob(dir, digest, bytes.length + 1)).toBeUndefined();
    await writeFile(path.join(dir, `${digest.slice(7)}.blob`), Buffer.from('{"record":2}'));
    expect(await cachedRecordBlob(dir, digest, bytes.length)).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    expect(await cachedRecordBlob(dir, 'sha256:../../x', 1)).toBeUndefined();
  });

  it('keeps the newest four copies', async () => {
    const dir = await tempDir('gl-record-blobs-');
    const digests: string[] = [];
    for (let i = 0; i < 6; i++) {
      const b = Buffer.from(`record ${i}`);
      digests.push(digestOf(b));
      await keepRecordBlob(dir, digestOf(b), b);
      // Each copy older than the next by a minute (as copies of days apart are), whatever the file system's clock.
      const t = new Date(Date.UTC(2026, 0, 1, 0, i));
      await utimes(path.join(dir, `${digestOf(b).slice(7)}.blob`), t, t);
    }
    expect((await readdir(dir)).sort()).toEqual(digests.slice(2).map((d) => `${d.slice(7)}.blob`).sort());
  });
});
