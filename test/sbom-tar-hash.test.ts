// The SBOM's tar reader (src/sbom/tar-hash.ts) against tar-stream's extract, the reader it replaced: the same names,
// sizes, sha256 and whiteouts for PAX and GNU long names, folders, links, whiteouts, empty and odd-sized files, fed in
// chunks of every alignment; and the same refusals of a corrupt or truncated tar.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { tarHasher, type TarMembers } from '../src/sbom/tar-hash.js';
import { tempDir } from './support/tmp.js';

/** The files and whiteouts as gamelayer read them with tar-stream before. */
async function withTarStream(bytes: Buffer): Promise<TarMembers> {
  const out: TarMembers = { files: [], whiteouts: [] };
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/^(\.\/|\/)+/, '').replace(/\/$/, '');
    const base = name.slice(name.lastIndexOf('/') + 1);
    const skip = () => {
      stream.resume();
      stream.on('end', next);
    };
    if (header.type === 'file' && base.startsWith('.wh.')) {
      out.whiteouts.push(name);
      return skip();
    }
    if (header.type !== 'file' && header.type !== 'contiguous-file') return skip();
    const hash = createHash('sha256');
    let size = 0;
    stream.on('data', (c: unknown) => {
      hash.update(c as Buffer);
      size += (c as Buffer).length;
    });
    stream.on('error', next);
    stream.on('end', () => {
      out.files.push({ name, size, sha256: hash.digest('hex') });
      next();
    });
  });
  await pipeline(Readable.from([bytes]), extract);
  return out;
}

async function withTarHash(bytes: Buffer, chunk: number): Promise<TarMembers> {
  const { sink, members } = tarHasher();
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
  await pipeline(Readable.from(pieces), sink);
  return members;
}

/** A tar written by tar-stream (ustar, PAX records for long names). */
async function packed(): Promise<Buffer> {
  const pack = tar.pack();
  const long = `${'deep/'.repeat(30)}file-with-a-long-name.bin`;
  pack.entry({ name: 'a.txt' }, 'hello\n');
  pack.entry({ name: 'd', type: 'directory' });
  pack.entry({ name: 'd/.wh.gone' }, '');
  pack.entry({ name: 'd/.wh..wh..opq' }, '');
  pack.entry({ name: 'empty' }, '');
  pack.entry({ name: long }, Buffer.alloc(1025, 7));
  pack.entry({ name: 'ünïcødé/名前.txt' }, 'x'.repeat(512));
  pack.entry({ name: 'link', type: 'symlink', linkname: 'a.txt' });
  pack.entry({ name: './dot/slash.txt' }, 'y');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('the SBOM tar reader', () => {
  it('reads what tar-stream read: ustar and PAX (tar-stream), GNU long names (GNU tar), in chunks of any size', async () => {
    const dir = await tempDir();
    const src = path.join(dir, 'src');
    await mkdir(path.join(src, 'x'.repeat(120), 'y'.repeat(90)), { recursive: true });
    await writeFile(path.join(src, 'x'.repeat(120), 'y'.repeat(90), 'z'.repeat(60)), Buffer.alloc(70_000, 1));
    await writeFile(path.join(src, 'small'), 'small\n');
    await writeFile(path.join(src, '.wh.removed'), '');
    await symlink('small', path.join(src, 'to-small'));
    const gnu = execFileSync('tar', ['--format=gnu', '-C', src, '-cf', '-', '.']);
    const posix = execFileSync('tar', ['--format=posix', '-C', src, '-cf', '-', '.']);
    for (const bytes of [await packed(), gnu, posix]) {
      const expected = await withTarStream(bytes);
      expect(expected.files.length).toBeGreaterThanOrEqual(2);
      expect(expected.whiteouts.length).toBeGreaterThan(0);
      for (const chunk of [1, 7, 511, 512, 513, 4096, bytes.length]) expect(await withTarHash(bytes, chunk)).toEqual(expected);
    }
  });

  it('refuses a header with a wrong checksum and a tar cut short, as tar-stream did', async () => {
    const bytes = await packed();
    const damaged = Buffer.from(bytes);
    damaged[3] = damaged[3]! ^ 1; // the first name, under its checksum
    await expect(withTarHash(damaged, 4096)).rejects.toThrow(/Invalid tar header/);
    await expect(withTarStream(damaged)).rejects.toThrow(/Invalid tar header/);
    const cut = bytes.subarray(0, 512 + 3); // a header and part of its body
    await expect(withTarHash(cut, 4096)).rejects.toThrow(/Unexpected end of data/);
    await expect(withTarStream(cut)).rejects.toThrow(/Unexpected end of data/);
  });
});
