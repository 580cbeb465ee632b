import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { OciStore, REF_NAME, sha256Digest } from '../src/oci/store.js';
import { ociSchemaErrors } from './support/oci-schema.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'oci-store-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const M = 'application/vnd.oci.image.manifest.v1+json';

describe('OCI layout store', () => {
  it('creates a valid layout and stores exact bytes under their digest', async () => {
    const store = await OciStore.open(path.join(tmp, 's1'));
    expect(ociSchemaErrors('layout', readFileSync(path.join(store.dir, 'oci-layout')))).toEqual([]);
    expect(ociSchemaErrors('index', readFileSync(store.indexPath))).toEqual([]);
    const bytes = '{"b":1,"a":2}';
    const d = await store.putJson(bytes, M);
    expect(d).toEqual({ mediaType: M, digest: sha256Digest(bytes), size: bytes.length });
    expect(readFileSync(store.blobPath(d.digest), 'utf8')).toBe(bytes);
    expect(await store.hasBlob(d.digest)).toBe(true);
    expect(await store.hasBlob(sha256Digest('other'))).toBe(false);
    const back: Buffer[] = [];
    for await (const c of await store.openBlob(d.digest, d.size)) back.push(c as Buffer);
    expect(Buffer.concat(back).toString()).toBe(bytes);

    await store.tag('v1', d);
    expect(await store.resolve('v1')).toMatchObject({ digest: d.digest, annotations: { [REF_NAME]: 'v1' } });
    const d2 = await store.putJson('{"x":1}', M);
    await store.tag('v1', d2);
    await store.tag('v2', d);
    expect((await store.resolve('v1'))?.digest).toBe(d2.digest);
    expect((await store.tags()).sort()).toEqual(['v1', 'v2']);
    expect(await store.resolve('nope')).toBeUndefined();
    expect(ociSchemaErrors('index', readFileSync(store.indexPath))).toEqual([]);
  });

  it('tagMany sets every tag in one replacement of index.json, none if one blob is missing, and writes nothing when all are in place', async () => {
    const store = await OciStore.open(path.join(tmp, 's-many'));
    const a = await store.putJson('{"a":1}', M);
    const b = await store.putJson('{"b":1}', M);
    const inode = () => {
      const st = statSync(store.indexPath, { bigint: true });
      return { ino: st.ino, mtimeNs: st.mtimeNs };
    };
    const missing = { mediaType: M, digest: sha256Digest('missing'), size: 7 };
    await expect(store.tagMany([{ name: 'x', descriptor: a }, { name: 'y', descriptor: missing }])).rejects.toThrow(/cannot tag y/);
    expect(await store.tags()).toEqual([]);
    const empty = inode();
    await store.tagMany([{ name: 'x', descriptor: a, annotations: { k: 'v' } }, { name: 'y', descriptor: b }]);
    const once = inode();
    expect(once.ino).not.toBe(empty.ino);
    expect(await store.resolve('x')).toMatchObject({ digest: a.digest, annotations: { k: 'v', [REF_NAME]: 'x' } });
    expect((await store.resolve('y'))?.digest).toBe(b.digest);
    // The same tags again: index.json and the layout folder untouched (no lock file made and removed).
    const folder = statSync(store.dir, { bigint: true }).mtimeNs;
    await new Promise((r) => setTimeout(r, 20));
    await store.tagMany([{ name: 'x', descriptor: a, annotations: { k: 'v' } }, { name: 'y', descriptor: b }]);
    expect(inode()).toEqual(once);
    expect(statSync(store.dir, { bigint: true }).mtimeNs).toBe(folder);
    // One tag moved: replaced, the other kept.
    await store.tagMany([{ name: 'x', descriptor: b }, { name: 'y', descriptor: b }]);
    expect((await store.resolve('x'))?.digest).toBe(b.digest);
    expect(await store.resolve('x')).not.toHaveProperty('annotations.k');
    expect(ociSchemaErrors('index', readFileSync(store.indexPath))).toEqual([]);
  });

  it('a blob writer aborted before its temp file was even opened leaves no temp file behind', async () => {
    const store = await OciStore.open(path.join(tmp, 's-early-abort'));
    // A layer whose first file fails at once aborts its writer while the stream's open may still be pending.
    await Promise.all(Array.from({ length: 200 }, () => store.createBlobWriter().abort()));
    // Let any open still in flight land before looking.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readdirSync(path.join(store.dir, '.tmp'))).toEqual([]);
  });

  it('refuses a blob that does not match what was expected, and an index entry for a missing blob', async () => {
    const store = await OciStore.open(path.join(tmp, 's2'));
    await expect(store.putBlob(Readable.from([Buffer.from('abc')]), { digest: sha256Digest('abd') })).rejects.toThrow(/content hashes to sha256:/);
    await expect(store.putBlob(Readable.from([Buffer.from('abc')]), { size: 4 })).rejects.toThrow(/3 bytes, expected 4/);
    expect(readdirSync(path.join(store.dir, 'blobs/sha256'))).toEqual([]);
    expect(readdirSync(path.join(store.dir, '.tmp'))).toEqual([]);
    await expect(store.tag('t', { mediaType: M, digest: sha256Digest('missing'), size: 7 })).rejects.toThrow(/is not in/);
    expect(await store.tags()).toEqual([]);
  });

  it('detects a truncated or garbled blob', async () => {
    const store = await OciStore.open(path.join(tmp, 's3'));
    const content = Buffer.from('layer bytes '.repeat(10_000));
    const a = await store.putBlob(Readable.from([content]));
    const b = await store.putBlob(Readable.from([Buffer.concat([content, Buffer.from('!')])]));
    truncateSync(store.blobPath(a.digest), 1000);
    await expect(store.verifyBlob(a.digest)).rejects.toThrow(/content hashes to sha256:[0-9a-f]{64}, not/);
    await expect(store.openBlob(a.digest, a.size)).rejects.toThrow(/1000 bytes, expected 120000/);
    const garbled = readFileSync(store.blobPath(b.digest));
    garbled[500] = garbled[500]! ^ 0xff;
    writeFileSync(store.blobPath(b.digest), garbled);
    await expect(store.verifyBlob(b.digest, b.size)).rejects.toThrow(/blob-?|content hashes to/);
    await expect(store.readBlob(b.digest)).rejects.toThrow(/content hashes to/);
  });

  it('does not write a JSON blob again that is here and known good, and replaces one that was garbled', async () => {
    const store = await OciStore.open(path.join(tmp, 's-json'), { markers: path.join(tmp, 's-json-markers') });
    const bytes = '{"config":true}';
    const first = await store.putJson(bytes, M);
    const writers = vi.spyOn(store, 'createBlobWriter');
    // The same bytes again (what a no-op build stores for each image): no temp file, no fsync, same descriptor.
    expect(await store.putJson(bytes, M)).toEqual(first);
    expect(writers).not.toHaveBeenCalled();
    // Same size, other bytes on disk: the marker no longer matches, so the real bytes are written again.
    writeFileSync(store.blobPath(first.digest), '{"config":fals}');
    expect(await store.putJson(bytes, M)).toEqual(first);
    expect(writers).toHaveBeenCalledTimes(1);
    expect(readFileSync(store.blobPath(first.digest), 'utf8')).toBe(bytes);
  });

  it('lets two processes write and tag into one store at once: both succeed, the index holds every tag', async () => {
    const dir = path.join(tmp, 's4');
    const tsx = path.resolve('node_modules/.bin/tsx');
    const child = (prefix: string) =>
      new Promise<void>((resolve, reject) => {
        const p = spawn(tsx, ['test/support/oci-store-writer.ts', dir, prefix, '25'], { stdio: ['ignore', 'inherit', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer ${prefix} exited ${code}: ${err}`))));
      });
    await Promise.all([child('alpha'), child('beta')]);
    const store = await OciStore.open(dir, { create: false });
    const tags = (await store.tags()).sort();
    expect(tags).toHaveLength(50);
    expect(tags.filter((t) => t.startsWith('alpha-'))).toHaveLength(25);
    expect(ociSchemaErrors('index', readFileSync(store.indexPath))).toEqual([]);
    for (const t of tags) {
      const d = (await store.resolve(t))!;
      await store.verifyBlob(d.digest, d.size);
    }
    expect(readdirSync(path.join(dir, '.tmp'))).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.includes('lock'))).toEqual([]);
  });

  it('takes over a lock left by a dead process', async () => {
    const store = await OciStore.open(path.join(tmp, 's5'));
    const { hostname } = await import('node:os');
    // pid 2^22+1 is above Linux's pid_max default, so no live process has it.
    writeFileSync(`${store.indexPath}.lock`, `${2 ** 22 + 1} ${hostname()}`);
    const d = await store.putJson('{}', M);
    await store.tag('after-crash', d);
    expect(await store.tags()).toEqual(['after-crash']);
  });
});
