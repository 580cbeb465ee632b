// Store blobs are never trusted by size (issue 14, item 2), and a registry that disagrees about a digest is told
// apart from a damaged local file (item 14). Real registry (CNCF distribution) behind a proxy that can lie.
import { createHash } from 'node:crypto';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { dockerSaveStream, resolveSaveImages } from '../src/docker/save-format.js';
import { GamelayerError } from '../src/errors.js';
import { OciStore, sha256Digest } from '../src/oci/store.js';
import { pushImage, RegistryClient } from '../src/registry/index.js';
import type { Reporter } from '../src/report/reporter.js';
import type { BuiltLayer } from '../src/types.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});

function warnings(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: () => {}, warn: (m) => lines.push(m), task: () => ({ tick: () => {}, done: () => {} }) };
}

async function fails(p: Promise<unknown>): Promise<GamelayerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof GamelayerError) return e;
    throw e;
  }
  throw new Error('expected a GamelayerError');
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Overwrites a file with other bytes of the same size (what a careless tool or bad disk does). */
async function garble(file: string): Promise<void> {
  const bytes = await readFile(file);
  for (let i = 0; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0x5a;
  await writeFile(file, bytes);
}

async function builtGame(name: string) {
  const root = await tempDir(`gl-${name}-`);
  await writeGame(root);
  const config = await loadConfig(path.join(root, 'gamelayer.yaml'));
  const first = await build({ config, reporter: warnings() });
  // The biggest layer of the game (app-media's paks): a real layer blob, not a sentinel.
  const layer = first.record.layers.reduce((a, l) => (l.size > a.size ? l : a)) as BuiltLayer;
  const blob = path.join(first.store, 'blobs', 'sha256', layer.digest.slice(7));
  return { root, config, first, layer, blob };
}

describe('build never reuses a damaged blob', () => {
  it('a same-size overwrite of a layer blob is found, named, removed and rebuilt; the next build is clean', async () => {
    const { config, layer, blob, first } = await builtGame('reuse');
    const size = (await stat(blob)).size;
    await garble(blob);
    expect((await stat(blob)).size).toBe(size);

    const reporter = warnings();
    const second = await build({ config, reporter });
    expect(reporter.lines.join('\n')).toContain(`${blob}: damaged blob in the store (content hashes to sha256:`);
    expect(reporter.lines.join('\n')).toContain(`not ${layer.digest}); it was removed and its layer is built again`);
    const outcome = second.summary.layers.find((l) => l.layer.digest === layer.digest)!;
    expect(outcome.reused).toBe(false);
    expect(second.record.images).toEqual(first.record.images);
    expect(sha(await readFile(blob))).toBe(layer.digest);

    const quiet = warnings();
    const third = await build({ config, reporter: quiet });
    expect(quiet.lines).toEqual([]);
    expect(third.summary.built).toBe(0);
  });

  it('the same-size overwrite is found even when the mtime is set back (the marker keys on ctime and inode too)', async () => {
    const { config, layer, blob } = await builtGame('mtime');
    const before = await stat(blob);
    await garble(blob);
    await utimes(blob, before.atime, before.mtime);
    const reporter = warnings();
    const again = await build({ config, reporter });
    expect(reporter.lines.some((l) => l.startsWith(`${blob}: damaged blob in the store`))).toBe(true);
    expect(again.summary.layers.find((l) => l.layer.digest === layer.digest)!.reused).toBe(false);
    expect(sha(await readFile(blob))).toBe(layer.digest);
  });

  it('checkBlob: a store without markers hashes every time and still finds damage; a damaged blob is removed', async () => {
    const store = await OciStore.open(path.join(await tempDir('gl-check-'), 'store'));
    const bytes = Buffer.from('layer bytes '.repeat(5000));
    const d = await store.putBlob(Readable.from([bytes]));
    expect(await store.checkBlob(d.digest, d.size)).toEqual({ status: 'ok' });
    await garble(store.blobPath(d.digest));
    const check = await store.checkBlob(d.digest, d.size);
    expect(check).toEqual({ status: 'damaged', file: store.blobPath(d.digest), problem: expect.stringMatching(/^content hashes to sha256:[0-9a-f]{64}, not /) });
    expect(await store.hasBlob(d.digest)).toBe(false);
    // Written again from good bytes, it is whole.
    await store.putBlob(Readable.from([bytes]), { digest: d.digest, size: d.size });
    expect(sha(await readFile(store.blobPath(d.digest)))).toBe(d.digest);
  });

  it('putBlob with an expected digest replaces a damaged copy instead of keeping it', async () => {
    const dir = await tempDir('gl-put-');
    const store = await OciStore.open(path.join(dir, 'store'), { markers: path.join(dir, 'markers') });
    const bytes = Buffer.from('base layer '.repeat(3000));
    const d = await store.putBlob(Readable.from([bytes]));
    await garble(store.blobPath(d.digest));
    await store.putBlob(Readable.from([bytes]), { digest: d.digest, size: d.size });
    expect(sha(await readFile(store.blobPath(d.digest)))).toBe(d.digest);
  });
});

describe('every reader of the store verifies while streaming and never hands out a damaged blob whole', () => {
  it('openBlob errors before the last bytes of a damaged blob', async () => {
    const store = await OciStore.open(path.join(await tempDir('gl-open-'), 'store'));
    const bytes = Buffer.alloc(3 << 20, 1);
    bytes.fill(2, 1 << 20);
    const d = await store.putBlob(Readable.from([bytes]));
    await garble(store.blobPath(d.digest));
    let got = 0;
    const err = await fails(
      (async () => {
        for await (const c of await store.openBlob(d.digest, d.size)) got += (c as Buffer).length;
      })(),
    );
    expect(err.code).toBe('store.blob-corrupt');
    expect(err.message).toContain(store.blobPath(d.digest));
    expect(got).toBeLessThan(d.size);
  });

  it('the docker-save stream (docker load, run-local) fails on a damaged layer, naming the blob file', async () => {
    const { first, blob } = await builtGame('save');
    await garble(blob);
    const images = await resolveSaveImages(first.store, [{ selector: first.record.tags[0]!, repoTags: ['g:x'] }], { os: 'linux', architecture: 'amd64' });
    const err = await fails(
      (async () => {
        for await (const _ of dockerSaveStream(first.store, images));
      })(),
    );
    expect(err.code).toBe('store.blob-corrupt');
    expect(err.message).toContain(blob);
  });

  it.each([
    ['in one request', {}],
    ['in resumable chunks', { chunkedAbove: 1, chunkSize: 16 * 1024 }],
  ])('push detects a damaged layer blob while streaming it %s, names the file, and the registry never gets it', async (_n, chunking) => {
    const { first, blob, layer } = await builtGame('push');
    await garble(blob);
    const repo = `studio/damaged-${Object.keys(chunking).length}`;
    const err = await fails(pushImage({ layout: first.store, to: `${reg.host}/${repo}:v1`, image: first.record.tags[0]!, concurrency: 1, ...chunking }));
    expect(err.code).toBe('store.blob-corrupt');
    expect(err.message).toBe(`${blob}: content hashes to ${sha(await readFile(blob))}, not ${layer.digest}`);
    expect(err.hint).toMatch(/run gamelayer build again/);
    const client = new RegistryClient({ host: reg.host });
    expect(await client.blobExists(repo, layer.digest)).toBe(false);
    expect(await client.headManifest(repo, 'v1')).toBeUndefined();
    // The push stopped on our side: no upload was ever finished with the damaged blob's digest.
    const log = await reg.accessLog();
    expect(log.filter((e) => e.method === 'PUT' && e.path.includes(layer.digest.slice(7)))).toEqual([]);
  });
});

describe('a registry that disagrees about a digest is named as the party that is wrong', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(reg.host);
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it('an upload answered with another digest: the local file is checked and found right, the registry is blamed', async () => {
    const { first, layer } = await builtGame('liar');
    const other = sha256Digest('not the layer');
    proxy.setRules([{ method: 'PUT', path: /\/blobs\/uploads\//, count: 100, action: { kind: 'status', status: 201, headers: { 'docker-content-digest': other }, body: '' } }]);
    const err = await fails(pushImage({ layout: first.store, to: `${proxy.host}/studio/liar:v1`, image: first.record.tags[0]!, concurrency: 1 }));
    expect(err.code).toBe('registry.digest');
    expect(err.message).toContain(`${proxy.host} answered that it stored ${other}, but the local file `);
    expect(err.message).toMatch(/does hash to sha256:[0-9a-f]{64}: the registry \(or a proxy between\) changed or mixed up the bytes/);
    expect(err.message).not.toMatch(/local store is damaged/);
    expect(err.hint).toMatch(/the local store is fine/);
    expect(layer.digest).toMatch(/^sha256:/);
  });

  it('DIGEST_INVALID for a blob whose local file is right blames the registry, not the store', async () => {
    const { first } = await builtGame('invalid');
    const body = JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] });
    proxy.setRules([{ method: 'PUT', path: /\/blobs\/uploads\//, count: 100, action: { kind: 'status', status: 400, body } }]);
    const err = await fails(pushImage({ layout: first.store, to: `${proxy.host}/studio/invalid:v1`, image: first.record.tags[0]!, concurrency: 1 }));
    expect(err.code).toBe('registry.digest');
    expect(err.message).toMatch(/refused the upload as not matching its digest .*DIGEST_INVALID.*but the local file .* does hash to/);
  });
});
