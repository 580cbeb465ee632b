// The single helpers that replaced repeated code: atomic writes, retry/backoff, the tar writer and the stored-type
// schemas. Each behaviour asserted here is one the callers rely on.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packEntries } from '../src/oci/tar.js';
import { buildRecordSchema, fileEntrySchema, isFileEntry, parseStored, scanRecordSchema } from '../src/types.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { backoffDelay, retrying } from '../src/util/retry.js';
import { fixtureRecord } from './k8s-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gl-one-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces a file whole, creating its folder, and leaves no temp file', async () => {
    const file = path.join(dir, 'a/b/out.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, Buffer.from('two'));
    await writeFileAtomic(file, async (tmp) => writeFile(tmp, 'three'));
    expect(await readFile(file, 'utf8')).toBe('three');
    expect(await readdir(path.dirname(file))).toEqual(['out.json']);
  });

  it('a failed write keeps the old content, removes its temp file and maps the error', async () => {
    const file = path.join(dir, 'keep.txt');
    await writeFileAtomic(file, 'old');
    const boom = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const err = await writeFileAtomic(
      file,
      async (tmp) => {
        await writeFile(tmp, 'half');
        throw boom;
      },
      { writeError: (e) => new Error(`mapped: ${(e as Error).message}`) },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toBe('mapped: no space left on device');
    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['a', 'keep.txt']);
  });

  it('sweeps a temp file left by a writer that died, and keeps one of a live writer', async () => {
    const sub = path.join(dir, 'sweep');
    await writeFileAtomic(path.join(sub, 'x'), 'x');
    // pid 2^22+1 is above Linux's pid_max default and runs nothing; process.pid is alive.
    const { tempTag } = await import('../src/util/temp-files.js');
    const live = `x.${tempTag()}.tmp`;
    const dead = live.replace(`${process.pid}-`, `${2 ** 22 + 1}-`);
    await writeFile(path.join(sub, live), '');
    await writeFile(path.join(sub, dead), '');
    await writeFileAtomic(path.join(sub, 'x'), 'y');
    expect((await readdir(sub)).sort()).toEqual([live, 'x'].sort());
  });

  it('a path that cannot be written is an error, and the file in its way is left as it was', async () => {
    await writeFile(path.join(dir, 'plain'), 'plain');
    await expect(writeFileAtomic(path.join(dir, 'plain/x'), 'x')).rejects.toMatchObject({ code: expect.stringMatching(/^(EEXIST|ENOTDIR)$/) });
    expect(await readFile(path.join(dir, 'plain'), 'utf8')).toBe('plain');
  });
});

describe('retry and backoff', () => {
  it('backoff doubles up to the cap, with jitter between half and all of it', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 500, () => 1))).toEqual([100, 200, 400, 500, 500]);
    expect([1, 2, 3].map((a) => backoffDelay(a, 100, 500, () => 0))).toEqual([50, 100, 200]);
  });

  it('retries only what is retryable, at most `attempts` times, honouring a requested delay', async () => {
    const waits: number[] = [];
    let calls = 0;
    const value = await retrying(
      async () => {
        if (++calls < 3) throw Object.assign(new Error('busy'), { after: 7 });
        return 'ok';
      },
      {
        attempts: 5,
        baseDelayMs: 1,
        maxDelayMs: 10,
        retryable: (e) => ((e as Error).message === 'busy' ? 'busy' : undefined),
        requestedDelayMs: (e) => (e as { after?: number }).after,
        onRetry: (r) => waits.push(r.waitMs),
      },
    );
    expect(value).toBe('ok');
    expect(waits).toEqual([7, 7]);

    let fatal = 0;
    const stop = new Error('fatal');
    await expect(retrying(async () => { fatal++; throw stop; }, { attempts: 5, baseDelayMs: 1, maxDelayMs: 2, retryable: () => undefined })).rejects.toBe(stop);
    expect(fatal).toBe(1);
    let spent = 0;
    await expect(retrying(async () => { spent++; throw stop; }, { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, retryable: () => 'again' })).rejects.toBe(stop);
    expect(spent).toBe(3);
  });
});

describe('packEntries', () => {
  async function entriesOf(stream: Readable): Promise<{ name: string; type: string; body: string }[]> {
    const extract = tar.extract();
    const out: { name: string; type: string; body: string }[] = [];
    extract.on('entry', (h, s, next) => {
      const chunks: Buffer[] = [];
      s.on('data', (c) => chunks.push(c as Buffer)).on('end', () => {
        out.push({ name: h.name, type: h.type ?? '', body: Buffer.concat(chunks).toString() });
        next();
      });
    });
    const done = new Promise<void>((res, rej) => extract.on('finish', () => res()).on('error', rej));
    stream.pipe(extract);
    await done;
    return out;
  }

  it('writes headers and bodies (bytes, text, streams) in order, counting body bytes', async () => {
    let bytes = 0;
    const stream = packEntries(
      [
        { header: { name: 'd', type: 'directory', mode: 0o755 } },
        { header: { name: 'd/a', type: 'file', size: 3 }, body: Buffer.from('abc') },
        { header: { name: 'd/b', type: 'file' }, body: 'text' },
        { header: { name: 'd/c', type: 'file', size: 6 }, body: () => Readable.from([Buffer.from('str'), Buffer.from('eam')]) },
        { header: { name: 'd/l', type: 'symlink', linkname: 'a' } },
        { header: { name: 'd/empty', type: 'file' } },
      ],
      { onBytes: (n) => (bytes += n) },
    );
    expect(await entriesOf(stream)).toEqual([
      { name: 'd', type: 'directory', body: '' },
      { name: 'd/a', type: 'file', body: 'abc' },
      { name: 'd/b', type: 'file', body: 'text' },
      { name: 'd/c', type: 'file', body: 'stream' },
      { name: 'd/l', type: 'symlink', body: '' },
      { name: 'd/empty', type: 'file', body: '' },
    ]);
    expect(bytes).toBe(3 + 4 + 6);
  });

  it('a failing body or entry errors the stream with that error', async () => {
    const bad = new Error('content changed since the scan');
    const failing = packEntries([{ header: { name: 'f', type: 'file', size: 4 }, body: () => Readable.from((async function* () { yield Buffer.from('ab'); throw bad; })()) }]);
    const drain = async (r: Readable) => {
      for await (const c of r) void c;
    };
    await expect(drain(failing)).rejects.toBe(bad);
    function* entries() {
      yield { header: { name: 'ok', type: 'directory' as const } };
      throw new Error('no such entry');
    }
    await expect(drain(packEntries(entries()))).rejects.toThrow('no such entry');
  });
});

describe('stored-type schemas', () => {
  it('accepts a record of the current shape and names the first wrong field of a bad one', () => {
    const good = parseStored(buildRecordSchema, JSON.parse(JSON.stringify(fixtureRecord())));
    expect(good.ok).toBe(true);
    const bad = (patch: Record<string, unknown>) => {
      const r = parseStored(buildRecordSchema, { ...fixtureRecord(), ...patch });
      return r.ok ? 'ok' : r.problem;
    };
    expect(bad({ images: undefined })).toBe('images: expected a list');
    expect(bad({ schemaVersion: 2 })).toBe('schemaVersion: expected 1, got 2');
    expect(bad({ plan: [] })).toBe('plan: expected a map');
    expect(bad({ game: '' })).toBe('game: expected a non-empty string');
    expect(bad({ manifests: [{ tree: 'app', digest: 'sha256:00' }] })).toBe('manifests[0].entries: expected a list');
    expect(bad({ manifests: [{ ...fixtureRecord().manifests[0], tree: 'assets' }] })).toBe('manifests[0].tree: expected one of engine, engine-media, app, app-media');
    expect(bad({ layers: [{ inputKey: 1 }] })).toBe('layers[0].tree: expected one of engine, engine-media, app, app-media');
  });

  it('the fast entry check accepts exactly what the entry schema accepts', () => {
    const good = { path: 'a/b', type: 'file', mode: 0o644, size: 3, xxh64: '0123456789abcdef' };
    const variants: unknown[] = [
      good,
      { path: 'l', type: 'symlink', mode: 0o777, size: 0, linkTarget: 'a' },
      { path: 'd', type: 'dir', mode: 0o755, size: 0 },
      { ...good, extra: true },
      null,
      [],
      'entry',
      7,
      {},
      { ...good, path: 1 },
      { ...good, path: undefined },
      { ...good, type: 'fifo' },
      { ...good, type: undefined },
      { ...good, mode: '644' },
      { ...good, mode: Number.NaN },
      { ...good, mode: Number.POSITIVE_INFINITY },
      { ...good, size: undefined },
      { ...good, size: '3' },
      { ...good, xxh64: 5 },
      { ...good, xxh64: null },
      { ...good, linkTarget: 1 },
      { ...good, linkTarget: null },
    ];
    for (const v of variants) expect([JSON.stringify(v), isFileEntry(v)]).toEqual([JSON.stringify(v), fileEntrySchema.safeParse(v).success]);
    const manifest = fixtureRecord().manifests[0]!;
    const r = parseStored(buildRecordSchema, { ...fixtureRecord(), manifests: [{ ...manifest, entries: [manifest.entries[0], { ...good, type: 'fifo' }] }] });
    expect(r.ok ? 'ok' : r.problem).toBe('manifests[0].entries[1].type: expected one of file, dir, symlink');
  });

  it('keeps only the fields the schema knows (nothing unverified passes through)', () => {
    const r = parseStored(scanRecordSchema, { kind: 'scan', schemaVersion: 1, game: 'g', createdAt: 'now', manifests: [], extra: { a: 1 } });
    expect(r).toEqual({ ok: true, value: { kind: 'scan', schemaVersion: 1, game: 'g', createdAt: 'now', manifests: [] } });
  });
});
