// A registry (or what sits between it and us) that never stops talking: answers whose body never ends, answers
// dripped one byte at a time, bodies too large for what they claim to be. Every exchange has a deadline and every
// body read into memory a bound: a push retries as for other faults and completes, a read fails with a clear error.
// Limits are set small through the same settings a user has (GAMELAYER_REGISTRY_TIMEOUT), so no test waits long.
import { createServer, type Server } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { RegistryClient, timeoutFromEnv } from '../src/registry/client.js';
import { pushImage } from '../src/registry/index.js';
import type { FaultProxy } from './support/fault-proxy.js';
import { useFaultRegistry } from './support/fault-registry.js';
import { randomContent, type WrittenTag } from './support/make-layout.js';
import { storedTags, type TestRegistry } from './support/registry.js';

let layout: string;
let image: WrittenTag;
let reg: TestRegistry;
let proxy: FaultProxy;
const fast = { baseDelayMs: 10, maxDelayMs: 50 };
let repoCounter = 0;
const nextRepo = () => `limits/game${++repoCounter}`;

const fx = useFaultRegistry('gl-limits-', [{ layers: [{ files: { 'bin/server': randomContent(100_000) } }, { files: { 'app/game.cfg': 'x=1' } }] }]);
beforeAll(() => {
  ({ layout, image, registry: reg, proxy } = fx);
});
afterEach(() => {
  delete process.env.GAMELAYER_REGISTRY_TIMEOUT;
});

/** Body bytes the proxy wrote for the requests a rule answered. */
const sentByFaults = () => proxy.seen.filter((s) => s.fault !== undefined).map((s) => s.bodyBytesSent ?? 0);

/** Runs `f` and returns what it threw (or fails the test if it did not throw). */
async function thrown(f: () => Promise<unknown>): Promise<GamelayerError> {
  const e = await f().then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(GamelayerError);
  return e as GamelayerError;
}

describe('answers that never end', () => {
  it('a 503 whose body never ends: a little is drained, the connection dropped, the request retried; the push completes', async () => {
    proxy.setRules([{ method: 'PUT', path: /\/manifests\//, count: 2, action: { kind: 'endless', status: 503 } }]);
    const repo = nextRepo();
    const r = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast });
    expect(proxy.fired).toEqual([1 + 1]);
    expect(r.digest).toBe(image.top.digest);
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(image.top.digest);
    // What the proxy got rid of before the client hung up: the drain cap (64 KiB) plus socket buffers, not gigabytes.
    for (const n of sentByFaults()) expect(n).toBeLessThan(32 * 1024 * 1024);
  });

  it('an error answer (400) with an endless body: its first bytes are read for the detail, then it fails clearly', async () => {
    proxy.setRules([{ method: 'GET', path: /\/manifests\//, count: 1, action: { kind: 'endless', status: 400 } }]);
    const client = new RegistryClient({ host: proxy.host, retry: fast });
    const e = await thrown(() => client.getManifest('limits/none', 'v1'));
    expect(e.code).toBe('registry.http');
    expect(e.message).toBe(`get manifest limits/none:v1: ${proxy.host} answered HTTP 400`);
  });

  it.each([
    ['a manifest', (c: RegistryClient) => c.getManifest('limits/none', 'v1'), /\/manifests\//, 'get manifest limits/none:v1'],
    ['a tag list', (c: RegistryClient) => c.listTags('limits/none'), /\/tags\/list$/, 'list tags of limits/none'],
  ])('%s whose body never ends is refused once it passes the bound (registry.too-large)', async (_name, read, route, what) => {
    proxy.setRules([{ method: 'GET', path: route, count: 1, action: { kind: 'endless', status: 200 } }]);
    const client = new RegistryClient({ host: proxy.host, retry: fast });
    const e = await thrown(() => read(client));
    expect(e.code).toBe('registry.too-large');
    expect(e.message).toBe(`${what}: ${proxy.host} answered with more than 4194304 bytes, more than such an answer can hold`);
    for (const n of sentByFaults()) expect(n).toBeLessThan(64 * 1024 * 1024);
  });

  it('a token service whose answer never ends', async () => {
    // A registry that asks for a Bearer token, and a token service that answers with an endless body.
    let tokenBytes = 0;
    const server: Server = createServer((req, res) => {
      if (req.url!.startsWith('/token')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) tokenBytes += chunk.length;
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      const port = (server.address() as { port: number }).port;
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="limits"` });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const client = new RegistryClient({ host: `127.0.0.1:${port}`, retry: fast });
      const e = await thrown(() => client.ping());
      expect(e.code).toBe('registry.too-large');
      expect(e.message).toBe(`127.0.0.1:${port}: token service http://127.0.0.1:${port}/token answered with more than 1048576 bytes, more than a token can hold`);
      expect(tokenBytes).toBeLessThan(64 * 1024 * 1024);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('answers dripped one byte at a time (never idle, never done)', () => {
  it('miss the exchange deadline and are retried like other faults: the push completes', async () => {
    process.env.GAMELAYER_REGISTRY_TIMEOUT = '0.4';
    proxy.setRules([
      // A 503 whose body drips: draining it would never end, and no byte ever comes late enough for the idle timeout.
      { method: 'PUT', path: /\/manifests\//, count: 1, action: { kind: 'drip', status: 503, intervalMs: 50 } },
      { method: 'POST', path: /\/blobs\/uploads\/$/, count: 1, action: { kind: 'drip', status: 503, intervalMs: 50 } },
    ]);
    const repo = nextRepo();
    const r = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast });
    expect(proxy.fired).toEqual([1, 1]);
    expect(r.digest).toBe(image.top.digest);
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(image.top.digest);
  });

  it('a registry that always drips: each attempt ends at the deadline, and the read fails after the retries', async () => {
    process.env.GAMELAYER_REGISTRY_TIMEOUT = '0.3';
    proxy.setRules([{ method: 'GET', path: /\/manifests\//, count: 100, action: { kind: 'drip', status: 200, intervalMs: 50 } }]);
    const client = new RegistryClient({ host: proxy.host, retry: { ...fast, attempts: 3 } });
    const e = await thrown(() => client.getManifest('limits/none', 'v1'));
    expect(e.code).toBe('registry.network');
    expect(e.message).toBe(`get manifest limits/none:v1: network error with ${proxy.host} (ETIMEDOUT) after 3 attempts`);
    expect(e.hint).toBe(
      'the registry or the network failed repeatedly; try again later (the next push sends only what is missing); on a slow link raise GAMELAYER_REGISTRY_TIMEOUT (seconds)',
    );
    expect(proxy.fired).toEqual([3]);
  });

  it('a blob download that drips fails once a deadline window passes with less than 64 KiB moved', async () => {
    process.env.GAMELAYER_REGISTRY_TIMEOUT = '0.3';
    proxy.setRules([{ method: 'GET', path: /\/blobs\/sha256:/, count: 1, action: { kind: 'drip', status: 200, intervalMs: 20 } }]);
    const client = new RegistryClient({ host: proxy.host, retry: fast });
    const body = await client.getBlob('limits/none', image.images[0]!.layers[0]!.digest);
    let got = 0;
    const e = await (async () => {
      for await (const c of body) got += (c as Buffer).length;
    })().then(
      () => undefined,
      (x: unknown) => x as Error & { code?: string },
    );
    expect(e?.code).toBe('ETIMEDOUT');
    expect(e?.message).toBe(`the body exchanged with ${proxy.host} moved less than 65536 bytes in 300 ms`);
    expect(got).toBeGreaterThan(0); // it did drip: the idle timeout alone would have waited forever
  });

  it('the times are read from the environment; a malformed one is an error, not a silent default', () => {
    expect(timeoutFromEnv('GAMELAYER_REGISTRY_TIMEOUT', { GAMELAYER_REGISTRY_TIMEOUT: '0.5' })).toBe(500);
    expect(timeoutFromEnv('GAMELAYER_REGISTRY_TIMEOUT', {})).toBeUndefined();
    expect(() => timeoutFromEnv('GAMELAYER_REGISTRY_IDLE_TIMEOUT', { GAMELAYER_REGISTRY_IDLE_TIMEOUT: 'soon' })).toThrow(
      'GAMELAYER_REGISTRY_IDLE_TIMEOUT="soon": expected a positive number of seconds, such as 120 or 0.5',
    );
  });
});
