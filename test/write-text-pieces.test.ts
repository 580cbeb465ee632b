// Text written a piece at a time through one reused buffer (util/write-all.ts): the file holds exactly the UTF-8 of
// the pieces joined, whatever their length and characters, and a record written so is JSON.stringify's bytes.
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeRecord } from '../src/state/records.js';
import { writeTextPieces } from '../src/util/write-all.js';

const dir = await mkdtemp(path.join(tmpdir(), 'gamelayer-pieces-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('writeTextPieces', () => {
  it('writes the UTF-8 of the pieces, growing its buffer for a long piece, and hands on the bytes it writes', async () => {
    const pieces = ['plain', 'é日本𝄞', 'x'.repeat(200_000), '', '𝄞'.repeat(40_000), 'end\n'];
    const file = path.join(dir, 'a.txt');
    const fh = await open(file, 'w');
    const seen = createHash('sha256');
    const n = await writeTextPieces(fh, pieces, undefined, (b) => seen.update(b));
    await fh.close();
    const want = Buffer.from(pieces.join(''));
    const got = await readFile(file);
    expect(got.equals(want)).toBe(true);
    expect(n).toBe(want.length);
    expect(seen.digest('hex')).toBe(createHash('sha256').update(want).digest('hex'));
  });

  it('writes from a position, leaving what is before it', async () => {
    const file = path.join(dir, 'b.txt');
    await writeFile(file, 'HEADER');
    const fh = await open(file, 'r+');
    await writeTextPieces(fh, ['ab', 'ü'.repeat(70_000)], 6);
    await fh.close();
    expect((await readFile(file)).equals(Buffer.from(`HEADERab${'ü'.repeat(70_000)}`))).toBe(true);
  });
});

describe('writeRecord', () => {
  it("writes JSON.stringify's bytes for a record of many entries with unicode paths and links", async () => {
    const entries = Array.from({ length: 5000 }, (_, i) =>
      i % 50 === 0
        ? { path: `d${i % 7}/𝄞 link ${i}`, type: 'symlink', mode: 0o777, size: 0, linkTarget: `../"quoted"\\${i}` }
        : { path: `d${i % 7}/日本 ${i}.bin`, type: 'file', mode: 0o644, size: i * 1000, xxh64: i.toString(16).padStart(16, '0') },
    );
    const record = { kind: 'scan', schemaVersion: 1, game: 'g', createdAt: 'now', manifests: [{ tree: 'app', entries, skipped: undefined }, { tree: 'app-media', entries }] };
    const file = path.join(dir, 'record.json');
    await writeRecord(file, record);
    expect((await readFile(file)).equals(Buffer.from(JSON.stringify(record)))).toBe(true);
  });
});
