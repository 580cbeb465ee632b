// A chunked upload's session kept in the state folder (upload-sessions.ts) and continued by the next run
// (upload.ts), against a real CNCF registry: what a killed run leaves is a kept entry and a registry session holding
// a prefix; here both are made directly (POST + PATCH of a prefix, the entry saved as upload.ts saves it), then
// uploadBlob runs as the next run would. Every case that cannot continue falls back to a fresh upload, never an error.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../src/registry/client.js';
import { bufferSource } from '../src/registry/small-blob.js';
import { uploadBlob } from '../src/registry/upload.js';
import { identityOf, UploadSessions, type UploadKey } from '../src/registry/upload-sessions.js';
import { useCountingRegistry } from './support/counting-registry.js';
import { readStoredBlob } from './support/registry.js';
import { tempDir } from './support/tmp.js';

// Relative Locations: a client behind the test's proxy stays behind it. The proxy buffers each request (as nginx).
const fx = useCountingRegistry('buffer', { relativeUrls: true });
const CHUNK = 64 * 1024;
const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

function blobOf(bytes: Buffer) {
  return bufferSource(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes, 'test blob');
}

/** POST + one PATCH of `prefix`, as a run killed after that chunk leaves it: the session's newest Location. */
async function openSession(host: string, repo: string, prefix: Buffer): Promise<URL> {
  const base = `http://${host}`;
  const post = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' } });
  expect(post.status).toBe(202);
  const patch = await fetch(new URL(post.headers.get('location')!, base), {
    method: 'PATCH',
    headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${prefix.length - 1}` },
    body: new Uint8Array(prefix),
  });
  expect(patch.status).toBe(202);
  // Through a proxy: the registry names its own host; the next run reaches it where the client does.
  const next = new URL(patch.headers.get('location')!, base);
  return new URL(`${next.pathname}${next.search}`, base);
}

let seq = 0;
async function setup(host = fx.registry.host) {
  const dir = await tempDir();
  const sessions = new UploadSessions(path.join(dir, 'uploads'));
  const client = new RegistryClient({ host, retry: fast });
  const repo = `resume/r${++seq}`;
  const bytes = randomBytes(5 * CHUNK + 1234);
  const blob = blobOf(bytes);
  const key = (over: Partial<UploadKey> = {}): UploadKey => ({ registry: client.host, repository: repo, digest: blob.digest, size: blob.size, identity: identityOf(undefined), ...over });
  const notes: { message: string; warn: boolean }[] = [];
  const upload = () => uploadBlob(client, repo, blob, { chunked: true, chunkSize: CHUNK, sessions, onNote: (message, warn) => notes.push({ message, warn }) });
  const kept = async () => readdir(sessions.dir).catch(() => [] as string[]);
  return { dir, sessions, client, repo, bytes, blob, key, notes, upload, kept };
}

async function storedRight(digest: string): Promise<void> {
  const stored = await readStoredBlob(fx.registry.storageDir, digest);
  expect(stored).toBeDefined();
  expect(`sha256:${createHash('sha256').update(stored!).digest('hex')}`).toBe(digest);
}

describe('a chunked upload kept across runs', () => {
  it('is kept after every acknowledged chunk, and dropped once the blob is in', async () => {
    const t = await setup();
    const seen: number[] = [];
    const save = t.sessions.save.bind(t.sessions);
    t.sessions.save = async (k, url, held) => {
      seen.push(held);
      await save(k, url, held);
      // What a kill right now would leave: an entry naming the session and what the registry acknowledged.
      const found = await t.sessions.find(k);
      expect('saved' in found && found.saved.held).toBe(held);
    };
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size);
    expect(seen).toEqual([0, CHUNK, 2 * CHUNK, 3 * CHUNK, 4 * CHUNK, 5 * CHUNK, t.blob.size]);
    expect(await t.kept()).toEqual([]);
    await storedRight(t.blob.digest);
  });

  it('a small (monolithic) upload keeps nothing', async () => {
    const t = await setup();
    await uploadBlob(t.client, t.repo, t.blob, { sessions: t.sessions });
    expect(await t.kept()).toEqual([]);
  });

  it('continues a kept session from the registry\'s Range: only the rest is sent', async () => {
    const t = await setup();
    const url = await openSession(fx.registry.host, t.repo, t.bytes.subarray(0, 3 * CHUNK));
    await t.sessions.save(t.key(), url, 3 * CHUNK);
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size - 3 * CHUNK);
    expect(t.notes).toEqual([{ message: expect.stringContaining(`continuing the upload kept from an earlier run at byte ${3 * CHUNK} of ${t.blob.size}`), warn: false }]);
    expect(await t.kept()).toEqual([]);
    await storedRight(t.blob.digest);
  });

  it('the registry\'s Range decides, not the kept count (a chunk acknowledged after the entry was written)', async () => {
    const t = await setup();
    const url = await openSession(fx.registry.host, t.repo, t.bytes.subarray(0, 2 * CHUNK));
    await t.sessions.save(t.key(), url, CHUNK);
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size - 2 * CHUNK);
    await storedRight(t.blob.digest);
  });

  it('a session the registry no longer has (expired, cancelled: 404): a fresh upload, with a short note (the usual end of a cut upload)', async () => {
    const t = await setup();
    const url = await openSession(fx.registry.host, t.repo, t.bytes.subarray(0, 2 * CHUNK));
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(204);
    await t.sessions.save(t.key(), url, 2 * CHUNK);
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size);
    expect(t.notes).toEqual([{ message: expect.stringMatching(/^note: blob [0-9a-f]{12} \(.*\) to .*: the upload an earlier run left is gone from .*: that blob is sent again from the start$/), warn: false }]);
    expect(await t.kept()).toEqual([]);
    await storedRight(t.blob.digest);
  });

  it('a PATCH cut mid-body: CNCF distribution cancels that session, so the next run starts afresh', async () => {
    // What a SIGKILL mid-chunk leaves against distribution without a buffering front: its file holds more than its
    // state says, and it cancels the upload on the next request ("upload resumed at wrong offset").
    const t = await setup();
    const url = await openSession(fx.registry.host, t.repo, t.bytes.subarray(0, CHUNK));
    await t.sessions.save(t.key(), url, CHUNK);
    await new Promise<void>((done) => {
      const req = http.request(url, { method: 'PATCH', headers: { 'content-type': 'application/octet-stream', 'content-length': String(CHUNK), 'content-range': `${CHUNK}-${2 * CHUNK - 1}` } });
      req.on('error', () => {});
      req.write(t.bytes.subarray(CHUNK, CHUNK + CHUNK / 2), () => setTimeout(() => (req.destroy(), done()), 200));
    });
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size);
    expect(t.notes.map((n) => n.warn)).toEqual([false]);
    await storedRight(t.blob.digest);
  });

  it('a registry that answers without Range: a fresh upload', async () => {
    const proxy = fx.proxy;
    try {
      proxy.stripRange = true;
      const t = await setup(proxy.host);
      const url = await openSession(proxy.host, t.repo, t.bytes.subarray(0, 2 * CHUNK));
      await t.sessions.save(t.key(), url, 2 * CHUNK);
      const r = await t.upload();
      expect(r.bytesSent).toBe(t.blob.size);
      expect(t.notes.map((n) => n.warn)).toEqual([false]);
      await storedRight(t.blob.digest);
    } finally {
      proxy.stripRange = false;
    }
  });

  it('a session holding more than the blob: a fresh upload, the old session cancelled', async () => {
    const t = await setup();
    const url = await openSession(fx.registry.host, t.repo, Buffer.concat([t.bytes, Buffer.alloc(100, 7)]));
    await t.sessions.save(t.key(), url, 0);
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size);
    expect(t.notes).toEqual([{ message: expect.stringContaining(`more than the blob's ${t.blob.size}`), warn: true }]);
    await storedRight(t.blob.digest);
  });

  it('a session holding another blob\'s bytes: the registry refuses the digest, the blob goes up whole, with a warning', async () => {
    const t = await setup();
    const other = randomBytes(3 * CHUNK);
    const url = await openSession(fx.registry.host, t.repo, other);
    await t.sessions.save(t.key(), url, 3 * CHUNK);
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size - 3 * CHUNK + t.blob.size);
    expect(t.notes.map((n) => n.warn)).toEqual([false, true]);
    expect(t.notes[1]!.message).toMatch(/refused to go on with the upload kept from an earlier run .*DIGEST_INVALID|digest/i);
    expect(await t.kept()).toEqual([]);
    await storedRight(t.blob.digest);
  });

  it('another repository, registry or credential: not this upload\'s session (sent whole, the other entry kept)', async () => {
    const t = await setup();
    const url = await openSession(fx.registry.host, t.repo, t.bytes.subarray(0, 2 * CHUNK));
    await t.sessions.save(t.key({ repository: 'resume/elsewhere' }), url, 2 * CHUNK);
    await t.sessions.save(t.key({ registry: '127.0.0.1:1' }), url, 2 * CHUNK);
    await t.sessions.save(t.key({ identity: identityOf('someone-else') }), url, 2 * CHUNK);
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size);
    expect(t.notes).toEqual([]);
    expect(await t.kept()).toHaveLength(3);
    await storedRight(t.blob.digest);
  });

  it('an entry copied under this blob\'s name but naming another: dropped, sent whole', async () => {
    const t = await setup();
    const url = await openSession(fx.registry.host, t.repo, t.bytes.subarray(0, 2 * CHUNK));
    await t.sessions.save(t.key({ repository: 'resume/elsewhere' }), url, 2 * CHUNK);
    const [name] = await t.kept();
    const entry = (await import('node:fs/promises')).readFile(path.join(t.sessions.dir, name!), 'utf8');
    await t.sessions.drop(t.key({ repository: 'resume/elsewhere' }));
    await t.sessions.save(t.key(), url, 0); // makes this blob's file name
    const [mine] = await t.kept();
    await writeFile(path.join(t.sessions.dir, mine!), await entry);
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size);
    expect(await t.kept()).toEqual([]);
  });

  it('a kept URL on another origin is never followed (our credentials stay with the registry)', async () => {
    const t = await setup();
    await t.sessions.save(t.key(), new URL('http://127.0.0.2:9/v2/x/blobs/uploads/abc'), 2 * CHUNK);
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size);
    expect(t.notes).toEqual([{ message: expect.stringContaining('points at http://127.0.0.2:9'), warn: true }]);
  });

  it.each([
    ['not JSON', 'garbage{'],
    ['a held count that is not a number', JSON.stringify({ version: 1, held: 'x' })],
    ['too big', 'x'.repeat(20_000)],
  ])('a damaged entry (%s): dropped with a warning, sent whole', async (_what, text) => {
    const t = await setup();
    await t.sessions.save(t.key(), new URL(`http://${fx.registry.host}/v2/x`), 0);
    const [mine] = await t.kept();
    await writeFile(path.join(t.sessions.dir, mine!), text);
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size);
    expect(t.notes).toEqual([{ message: expect.stringContaining('unreadable'), warn: true }]);
    expect(await t.kept()).toEqual([]);
    await storedRight(t.blob.digest);
  });

  it('an entry that is a folder, or a state folder that cannot be written: the upload goes on', async () => {
    const t = await setup();
    await mkdir(t.sessions.dir, { recursive: true });
    await t.sessions.save(t.key(), new URL(`http://${fx.registry.host}/v2/x`), 0);
    const [mine] = await t.kept();
    const file = path.join(t.sessions.dir, mine!);
    await (await import('node:fs/promises')).rm(file);
    await mkdir(file);
    const r = await t.upload();
    expect(r.bytesSent).toBe(t.blob.size);
    await storedRight(t.blob.digest);
  });
});

describe('ECR mode: our own offset (ECR keeps whole parts only, its Range is not trusted)', () => {
  it('continues from the kept offset on the kept session without asking its status', async () => {
    const t = await setup();
    const ecrChunk = 5_248_080;
    const bytes = randomBytes(ecrChunk * 2 + 5000);
    const blob = blobOf(bytes);
    const client = new RegistryClient({ host: fx.proxy.host, retry: fast });
    const key: UploadKey = { registry: client.host, repository: t.repo, digest: blob.digest, size: blob.size, identity: identityOf(undefined) };
    const url = await openSession(fx.proxy.host, t.repo, bytes.subarray(0, ecrChunk));
    await t.sessions.save(key, url, ecrChunk);
    fx.proxy.reset();
    await fx.registry.resetAccessLog();
    const r = await uploadBlob(client, t.repo, blob, { chunked: true, ecr: true, sessions: t.sessions });
    expect(r.bytesSent).toBe(blob.size - ecrChunk);
    expect(fx.proxy.received).toBe(blob.size - ecrChunk);
    expect((await fx.registry.accessLog()).filter((e) => e.method === 'GET' && e.path.includes('/blobs/uploads/'))).toEqual([]);
    await storedRight(blob.digest);
  });

  it('a kept ECR session the registry no longer has: its refusal of the part means a fresh upload', async () => {
    const t = await setup();
    const client = new RegistryClient({ host: fx.proxy.host, retry: fast });
    const notes: boolean[] = [];
    const url = await openSession(fx.proxy.host, t.repo, t.bytes.subarray(0, CHUNK));
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(204);
    await t.sessions.save({ ...t.key(), registry: client.host }, url, CHUNK);
    const r = await uploadBlob(client, t.repo, t.blob, { chunked: true, ecr: true, sessions: t.sessions, onNote: (_m, warn) => notes.push(warn) });
    expect(r.bytesSent).toBe(t.blob.size - CHUNK + t.blob.size); // the refused part, then the whole blob
    expect(notes).toEqual([false, true]);
    expect(await t.kept()).toEqual([]);
    await storedRight(t.blob.digest);
  });
});

describe('the kept sessions stay few and young', () => {
  it('a save sweeps entries past 7 days and beyond the newest 64', async () => {
    const { utimes } = await import('node:fs/promises');
    const dir = path.join(await tempDir(), 'uploads');
    await mkdir(dir, { recursive: true });
    const old = Date.now() / 1000 - 8 * 24 * 3600;
    for (let i = 0; i < 75; i++) {
      const f = path.join(dir, `${String(i).padStart(32, '0')}.json`);
      await writeFile(f, '{}');
      // Ten of them older than a week; the rest a second apart, the lowest numbers oldest.
      const at = i < 10 ? old : Date.now() / 1000 - 3600 + i;
      await utimes(f, at, at);
    }
    const sessions = new UploadSessions(dir);
    const key: UploadKey = { registry: 'r', repository: 'a/b', digest: `sha256:${'a'.repeat(64)}`, size: 1, identity: identityOf(undefined) };
    await sessions.save(key, new URL('http://127.0.0.1:1/v2/a/b/blobs/uploads/x'), 0);
    const left = (await readdir(dir)).sort();
    expect(left).toHaveLength(64);
    // The 65 young ones but the 2 oldest of them, and the new entry.
    expect(left.filter((n) => n.startsWith('0000'))).toEqual(Array.from({ length: 63 }, (_, k) => `${String(k + 12).padStart(32, '0')}.json`));
    expect('saved' in (await sessions.find(key))).toBe(true);
  });
});

describe('GAMELAYER_CHUNKED_UPLOAD_ABOVE', () => {
  it('sets from which size blobs go up in chunks; a malformed value is an error naming it', async () => {
    const { chunkedAboveDefault } = await import('../src/registry/chunked-above.js');
    expect(chunkedAboveDefault({})).toBe(1024 ** 3);
    expect(chunkedAboveDefault({ GAMELAYER_CHUNKED_UPLOAD_ABOVE: '256' })).toBe(256 * 1024 * 1024);
    expect(chunkedAboveDefault({ GAMELAYER_CHUNKED_UPLOAD_ABOVE: '0.5' })).toBe(512 * 1024);
    for (const bad of ['0', '-3', '1e3', '12 MiB', 'lots']) {
      expect(() => chunkedAboveDefault({ GAMELAYER_CHUNKED_UPLOAD_ABOVE: bad })).toThrow(`GAMELAYER_CHUNKED_UPLOAD_ABOVE="${bad}": expected a positive number of MiB`);
    }
  });
});
