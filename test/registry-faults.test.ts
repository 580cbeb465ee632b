// Pushes through a fault-injecting proxy in front of a real registry: 5xx, 429 with Retry-After, connections dropped
// mid-PATCH, stalls, a 401 mid-push. Each push must complete (or fail clearly), and the registry's storage must
// never hold a manifest whose blobs are missing.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { pushImage } from '../src/registry/index.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { useFaultRegistry } from './support/fault-registry.js';
import { addTag, randomContent, type WrittenTag } from './support/make-layout.js';
import { startRegistry, storageProblems, storedTags, type TestRegistry } from './support/registry.js';

let work: string;
let layout: string;
let image: WrittenTag;
let reg: TestRegistry;
let proxy: FaultProxy;
const fast = { baseDelayMs: 20, maxDelayMs: 200 };
let repoCounter = 0;
const nextRepo = () => `faults/game${++repoCounter}`;

const fx = useFaultRegistry('gl-faults-', [
    {
      layers: [
        { files: { 'media/big.pak': randomContent(600_000) } },
        { files: { 'bin/server': randomContent(100_000) } },
        { files: { 'app/game.cfg': 'x=1' } },
      ],
    },
  ]);
beforeAll(() => {
  ({ work, layout, image, registry: reg, proxy } = fx);
});

const PATCH = /\/blobs\/uploads\/[^/]+$/;

describe('recoverable faults', () => {
  it('5xx answers on PATCH, HEAD and manifest PUT are retried', async () => {
    proxy.setRules([
      { method: 'PATCH', path: PATCH, count: 2, action: { kind: 'status', status: 503 } },
      { method: 'HEAD', path: /\/blobs\/sha256:/, count: 1, action: { kind: 'status', status: 502 } },
      { method: 'PUT', path: /\/manifests\//, count: 1, action: { kind: 'status', status: 500 } },
      { method: 'PUT', path: PATCH, count: 1, action: { kind: 'status', status: 500 } },
    ]);
    const repo = nextRepo();
    const r = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast });
    expect(proxy.fired).toEqual([2, 1, 1, 1]);
    expect(r.blobs.uploaded).toBe(4);
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(image.top.digest);
  });

  it('429 with Retry-After is honoured', async () => {
    proxy.setRules([{ method: 'POST', path: /\/blobs\/uploads\/$/, count: 1, action: { kind: 'status', status: 429, headers: { 'retry-after': '1' } } }]);
    const started = Date.now();
    const r = await pushImage({ layout, to: `${proxy.host}/${nextRepo()}:v1`, retry: fast, concurrency: 1 });
    expect(proxy.fired).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(r.blobs.uploaded).toBe(4);
  });

  it('a connection dropped mid-PATCH: the blob is sent again on a new session', async () => {
    proxy.setRules([{ method: 'PATCH', path: PATCH, count: 1, action: { kind: 'drop-request', afterBytes: 200_000 } }]);
    const repo = nextRepo();
    const r = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast, concurrency: 1 });
    expect(proxy.fired).toEqual([1]);
    const total = [...image.images[0]!.layers, image.images[0]!.config].reduce((n, d) => n + d.size, 0);
    expect(r.bytesSent).toBeGreaterThan(total); // the broken part was sent twice
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(image.top.digest);
  });

  it('chunked upload: a dropped chunk resumes or restarts and still completes', async () => {
    proxy.setRules([{ method: 'PATCH', path: PATCH, count: 1, action: { kind: 'drop-request', afterBytes: 50_000 } }]);
    const repo = nextRepo();
    await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast, chunkedAbove: 500_000, chunkSize: 150_000 });
    expect(proxy.fired).toEqual([1]);
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(image.top.digest);
  });

  it('chunked upload: a 503 on a chunk resumes from the registry Range, not from zero', async () => {
    const big = path.join(work, 'big-layout');
    const t = await addTag(big, 'v1', [{ layers: [{ files: { 'media/big.pak': randomContent(600_000) } }] }]);
    const layer = t.images[0]!.layers[0]!;
    const original = proxy.seen.length;
    // The first PATCH passes (a zero-length stall), the second — the layer's second chunk — gets a 503.
    proxy.setRules([
      { method: 'PATCH', path: PATCH, count: 1, action: { kind: 'stall', ms: 0 } },
      { method: 'PATCH', path: PATCH, count: 1, action: { kind: 'status', status: 503 } },
    ]);
    const repo = nextRepo();
    const r = await pushImage({ layout: big, to: `${proxy.host}/${repo}:v1`, retry: fast, chunkedAbove: 500_000, chunkSize: 200_000, concurrency: 1 });
    const patches = proxy.seen.slice(original).filter((s) => s.method === 'PATCH').length;
    expect(proxy.fired).toEqual([1, 1]);
    // layer: 4 chunks, one sent twice = 5 PATCHes; config: 1. A restart from zero would need 7.
    expect(layer.size).toBeGreaterThan(600_000);
    expect(patches).toBe(6);
    expect(r.bytesSent).toBeLessThanOrEqual(layer.size + 200_000 + t.images[0]!.config.size);
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(t.top.digest);
  });

  it('ECR mode: fixed 5,248,080-byte parts, our own offsets, a failed part sent again', async () => {
    const ecrLayout = path.join(work, 'ecr-layout');
    const t = await addTag(ecrLayout, 'v1', [{ layers: [{ files: { 'media/huge.pak': randomContent(11_000_000) } }] }]);
    const original = proxy.seen.length;
    proxy.setRules([
      { method: 'PATCH', path: PATCH, count: 1, action: { kind: 'stall', ms: 0 } },
      { method: 'PATCH', path: PATCH, count: 1, action: { kind: 'status', status: 502 } },
    ]);
    const repo = nextRepo();
    await reg.resetAccessLog();
    const { RegistryClient, headAvailability } = await import('../src/registry/index.js');
    const client = new RegistryClient({ host: proxy.host, retry: fast });
    await pushImage({
      layout: ecrLayout,
      to: `${proxy.host}/${repo}:v1`,
      target: { client, availability: headAvailability(client), ecr: true },
      chunkedAbove: 1_000_000,
    });
    const patches = proxy.seen.slice(original).filter((s) => s.method === 'PATCH');
    // 11 MB / 5,248,080 = 3 parts, one sent twice; plus the config's one PATCH.
    expect(patches).toHaveLength(5);
    const log = await reg.accessLog();
    expect(log.filter((e) => e.method === 'PATCH' && e.status === 202)).toHaveLength(4);
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(t.top.digest);
  });

  it('a stalled answer times out and is retried', async () => {
    proxy.setRules([{ method: 'HEAD', path: /\/blobs\/sha256:/, count: 1, action: { kind: 'stall', ms: 1500 } }]);
    const r = await pushImage({ layout, to: `${proxy.host}/${nextRepo()}:v1`, retry: fast, idleTimeoutMs: 400 });
    expect(proxy.fired).toEqual([1]);
    expect(r.blobs.uploaded).toBe(4);
  });
});

describe('401 mid-push', () => {
  let treg: TestRegistry;
  let tproxy: FaultProxy;
  beforeAll(async () => {
    treg = await startRegistry({ auth: 'token' });
    tproxy = await startFaultProxy(treg.host);
  });
  afterAll(async () => {
    await tproxy?.stop();
    await treg?.stop();
  });

  it('refreshes the token once and carries on', async () => {
    const u = treg.users[0]!;
    const credentials = { username: u.username, password: u.password };
    const before = treg.tokenServer!.issued.length;
    await pushImage({ layout, to: `${tproxy.host}/team/clean:v1`, credentials, retry: fast });
    const clean = treg.tokenServer!.issued.length - before;
    const challenge = `Bearer realm="${treg.tokenServer!.realm}",service="${treg.tokenServer!.service}",scope="repository:team/refresh:pull,push",error="invalid_token"`;
    tproxy.setRules([{ method: 'PUT', path: /\/manifests\//, count: 1, action: { kind: 'status', status: 401, headers: { 'www-authenticate': challenge } } }]);
    const mid = treg.tokenServer!.issued.length;
    await pushImage({ layout, to: `${tproxy.host}/team/refresh:v1`, credentials, retry: fast });
    expect(tproxy.fired).toEqual([1]);
    expect(treg.tokenServer!.issued.length - mid).toBe(clean + 1);
    expect(Object.keys(await storedTags(treg.storageDir, 'team/refresh'))).toEqual(['v1']);
    expect(await storageProblems(treg.storageDir)).toEqual([]);
  });
});

describe('unrecoverable faults', () => {
  it('a manifest PUT that keeps failing: a clear error, blobs there, no manifest or tag', async () => {
    proxy.setRules([{ method: 'PUT', path: /\/manifests\//, count: 100, action: { kind: 'status', status: 503 } }]);
    const repo = nextRepo();
    const e = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: { ...fast, attempts: 3 } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GamelayerError);
    expect((e as GamelayerError).message).toBe(`put manifest ${repo}:v1: ${proxy.host} kept failing (HTTP 503) after 3 attempts`);
    expect((e as GamelayerError).hint).toBe('the registry or the network failed repeatedly; try again later (the next push sends only what is missing)');
    expect(await storedTags(reg.storageDir, repo)).toEqual({});
  });

  it('a blob upload that keeps failing: no manifest is ever put', async () => {
    proxy.setRules([{ method: 'PATCH', path: PATCH, count: 100, action: { kind: 'drop-request', afterBytes: 10 } }]);
    const repo = nextRepo();
    await reg.resetAccessLog();
    const e = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: { ...fast, attempts: 2 } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GamelayerError);
    expect((e as GamelayerError).code).toBe('registry.upload');
    expect((e as GamelayerError).message).toMatch(/^upload blob sha256:[0-9a-f]{64} \(.+\) to faults\/game\d+: gave up after 2 failed attempts/);
    expect((await reg.accessLog()).filter((l) => l.path.includes('/manifests/') && l.method === 'PUT')).toEqual([]);
    expect(await storedTags(reg.storageDir, repo)).toEqual({});
  });
});
