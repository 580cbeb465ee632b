// Something in front of a registry that answers 200 to everything (a login portal, a misconfigured proxy) is refused
// at its first answer, naming the URL and what was wrong, before anything is counted as "already there" and before
// a manifest is put whose blobs are missing. A real registry (docker-registry 2.8) behind a fault proxy plays both.
import { beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { pushImage } from '../src/registry/index.js';
import { RegistryClient } from '../src/registry/client.js';
import type { FaultProxy } from './support/fault-proxy.js';
import { useFaultRegistry } from './support/fault-registry.js';
import { randomContent, type WrittenTag } from './support/make-layout.js';
import { storedTags, type TestRegistry } from './support/registry.js';

let layout: string;
let image: WrittenTag;
let reg: TestRegistry;
let proxy: FaultProxy;
const fast = { baseDelayMs: 20, maxDelayMs: 200 };
let repoCounter = 0;
const nextRepo = () => `portal/game${++repoCounter}`;
const PAGE = '<!doctype html><html><body><form action="/login">Sign in</form></body></html>';

const fx = useFaultRegistry('gl-portal-', [{ layers: [{ files: { 'media/a.pak': randomContent(50_000) } }, { files: { 'bin/server': randomContent(20_000) } }] }]);
beforeAll(() => {
  ({ layout, image, registry: reg, proxy } = fx);
});

async function refusal(p: Promise<unknown>): Promise<GamelayerError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(GamelayerError);
  return e as GamelayerError;
}

describe('answers no registry gives are refused', () => {
  it('an HTML page answering 200 to everything: refused at the first answer, with its URL', async () => {
    proxy.setRules([{ path: /./, count: 1000, action: { kind: 'status', status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: PAGE } }]);
    const repo = nextRepo();
    const e = await refusal(pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast }));
    expect(e.code).toBe('registry.bad-answer');
    expect(e.message).toContain(`http://${proxy.host}/v2/`);
    expect(e.message).toContain('HTML');
    expect(proxy.seen.filter((s) => s.method !== 'HEAD' && s.method !== 'GET')).toEqual([]);
    expect(await storedTags(reg.storageDir, repo)).toEqual({});
  });

  it('a blob HEAD whose Content-Length is not the blob size is not "already there"', async () => {
    proxy.setRules([
      { method: 'HEAD', path: /\/blobs\/sha256:/, count: 1000, action: { kind: 'status', status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': '3' }, body: 'abc' } },
    ]);
    const repo = nextRepo();
    const e = await refusal(pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast }));
    expect(e.code).toBe('registry.bad-answer');
    expect(e.message).toMatch(/Content-Length 3, where the blob has \d+ bytes/);
    expect(proxy.seen.some((s) => s.method === 'PUT' && s.path.includes('/manifests/'))).toBe(false);
    expect(await storedTags(reg.storageDir, repo)).toEqual({});
  });

  it('a blob HEAD naming another digest is refused', async () => {
    const other = `sha256:${'0'.repeat(64)}`;
    proxy.setRules([{ method: 'HEAD', path: /\/blobs\/sha256:/, count: 1000, action: { kind: 'status', status: 200, headers: { 'docker-content-digest': other } } }]);
    const client = new RegistryClient({ host: proxy.host, retry: { attempts: 1 } });
    const layer = image.images[0]!.layers[0]!;
    const e = await refusal(client.blobExists(nextRepo(), layer.digest, 'push', layer.size));
    expect(e.code).toBe('registry.bad-answer');
    expect(e.message).toContain(`Docker-Content-Digest ${other}`);
  });

  it('a manifest PUT answered with a bare 200 is refused; the real registry (201) is accepted', async () => {
    const repo = nextRepo();
    proxy.setRules([{ method: 'PUT', path: /\/manifests\//, count: 1000, action: { kind: 'status', status: 200, headers: { 'content-type': 'application/json' }, body: '{}' } }]);
    const e = await refusal(pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast }));
    expect(e.code).toBe('registry.bad-answer');
    expect(e.message).toContain('without Docker-Content-Digest');
    proxy.setRules([]);
    const r = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast });
    expect(r.blobs.skipped).toBe(r.blobs.total);
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(image.top.digest);
  });
});

describe('a manifest HEAD must say which manifest it found', () => {
  const INDEX = 'application/vnd.oci.image.index.v1+json';
  const headAnswer = (headers: Record<string, string>) => [
    { method: 'HEAD', path: /\/manifests\//, count: 1000, action: { kind: 'status' as const, status: 200, headers } },
  ];
  async function pushed(): Promise<string> {
    const repo = nextRepo();
    await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast });
    return repo;
  }
  const client = () => new RegistryClient({ host: proxy.host, retry: { attempts: 1 } });

  it('without Docker-Content-Digest (the spec allows it): the manifest is read and hashed', async () => {
    const repo = await pushed();
    proxy.setRules(headAnswer({ 'content-type': INDEX }));
    const head = await client().headManifest(repo, 'v1');
    expect(head?.digest).toBe(image.top.digest);
    expect(proxy.seen.at(-1)).toMatchObject({ method: 'GET', path: `/v2/${repo}/manifests/v1` });
    // A tag the registry does not hold: the read answers 404, and the tag is not there.
    expect(await client().headManifest(repo, 'v2')).toBeUndefined();
  });

  it('without Docker-Content-Digest, for a digest whose bytes hash to another: refused', async () => {
    const repo = await pushed();
    const other = image.images[0]!.manifest.digest;
    proxy.setRules([
      ...headAnswer({ 'content-type': INDEX }),
      { method: 'GET', path: /\/manifests\//, action: { kind: 'status', status: 200, headers: { 'content-type': INDEX }, body: '{"schemaVersion":2}' } },
    ]);
    const e = await refusal(client().headManifest(repo, other));
    expect(e.code).toBe('registry.bad-answer');
    expect(e.message).toContain(`http://${proxy.host}/v2/${repo}/manifests/${other}`);
    expect(e.message).toContain('whose bytes hash to sha256:');
  });

  it('with the digest of another manifest than the one asked for: refused, naming the URL', async () => {
    const repo = await pushed();
    const other = `sha256:${'0'.repeat(64)}`;
    proxy.setRules(headAnswer({ 'content-type': INDEX, 'docker-content-digest': other }));
    const e = await refusal(client().headManifest(repo, image.top.digest));
    expect(e.code).toBe('registry.bad-answer');
    expect(e.message).toContain(`http://${proxy.host}/v2/${repo}/manifests/${image.top.digest}`);
    expect(e.message).toContain(`Docker-Content-Digest ${other}, another manifest`);
  });

  it('with a Docker-Content-Digest that is no digest, or as an HTML page: refused', async () => {
    const repo = await pushed();
    proxy.setRules(headAnswer({ 'content-type': INDEX, 'docker-content-digest': 'welcome' }));
    const e = await refusal(client().headManifest(repo, 'v1'));
    expect(e.code).toBe('registry.bad-answer');
    expect(e.message).toContain('Docker-Content-Digest "welcome", not a digest');
    proxy.setRules(headAnswer({ 'content-type': 'text/html' }));
    const page = await refusal(client().headManifest(repo, 'v1'));
    expect(page.code).toBe('registry.bad-answer');
    expect(page.message).toContain(`http://${proxy.host}/v2/${repo}/manifests/v1`);
  });

  it('a registry that sends the digest is asked once, by HEAD', async () => {
    const repo = await pushed();
    const before = proxy.seen.length;
    expect((await client().headManifest(repo, 'v1'))?.digest).toBe(image.top.digest);
    expect(proxy.seen.slice(before).map((s) => s.method)).toEqual(['HEAD']);
  });
});
