// Small files are hashed in one synchronous pass (issue 17): the same hash as the streaming path, the same checks.
import { stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createXxh64, hashFile } from '../src/scan/hash.js';
import { tempDir } from './support/tmp.js';

async function expected(bytes: Buffer): Promise<string> {
  const h = await createXxh64();
  h.update(bytes);
  return h.digest();
}

describe('hashFile of small files', () => {
  it('gives the streaming xxh64 on both sides of the small-file bound', async () => {
    const dir = await tempDir('gl-hash-');
    for (const size of [0, 1, 4095, 65536, 65537, 3 << 20]) {
      const bytes = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bytes[i] = (i * 31 + size) & 0xff;
      const file = path.join(dir, `f${size}`);
      await writeFile(file, bytes);
      expect(await hashFile(file, await stat(file))).toBe(await expected(bytes));
    }
  });

  it('refuses a small file that shrank since it was statted, and one that grew from empty', async () => {
    const dir = await tempDir('gl-hash-');
    const file = path.join(dir, 'f');
    await writeFile(file, 'abcdef');
    const before = await stat(file);
    await truncate(file, 2);
    await expect(hashFile(file, before)).rejects.toThrow(`${file}: the file changed while it was being hashed`);
    const empty = path.join(dir, 'e');
    await writeFile(empty, '');
    const was = await stat(empty);
    await writeFile(empty, 'x');
    await expect(hashFile(empty, was)).rejects.toThrow(`${empty}: the file changed while it was being hashed`);
  });

  it('a missing file fails with its errno, as before', async () => {
    const file = path.join(await tempDir('gl-hash-'), 'missing');
    await expect(hashFile(file, { size: 1, mtimeMs: 0, ctimeMs: 0 })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
