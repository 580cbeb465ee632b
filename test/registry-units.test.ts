// Small pure pieces of the registry client, plus relative Location headers from a real registry.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { parseChallenge } from '../src/registry/challenge.js';
import { pushImage, resolveCredentials } from '../src/registry/index.js';
import { isLoopbackHost, registryBaseUrl } from '../src/registry/reference.js';
import { parseRetryAfter } from '../src/registry/retry.js';
import { parseUploadRange, withDigest } from '../src/registry/upload.js';
import { addTag, randomContent } from './support/make-layout.js';
import { startRegistry, storageProblems, storedTags } from './support/registry.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-units-'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('upload URLs', () => {
  const d = `sha256:${'b'.repeat(64)}`;
  it('appends the digest with & and keeps the query byte for byte', () => {
    const u = new URL('https://r.example/v2/a/blobs/uploads/x?_state=ab%3D%3D&X-Amz-Signature=q%2Bz');
    expect(withDigest(u, d).href).toBe(`https://r.example/v2/a/blobs/uploads/x?_state=ab%3D%3D&X-Amz-Signature=q%2Bz&digest=sha256%3A${'b'.repeat(64)}`);
    expect(withDigest(new URL('http://127.0.0.1:1/v2/a/blobs/uploads/x'), d).search).toBe(`?digest=sha256%3A${'b'.repeat(64)}`);
  });
  it('reads the registry Range', () => {
    expect(parseUploadRange('0-0')).toBe(0);
    expect(parseUploadRange('0-199999')).toBe(200_000);
    expect(parseUploadRange('bytes=0-9')).toBe(10);
    expect(parseUploadRange(undefined)).toBeUndefined();
    expect(parseUploadRange('5-9')).toBeUndefined();
  });
});

describe('challenges, Retry-After, hosts', () => {
  it('parses Bearer and Basic challenges', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'reg', scope: 'repository:a/b:pull,push' },
    });
    expect(parseChallenge('Basic realm="x"')).toEqual({ scheme: 'basic', params: { realm: 'x' } });
    expect(parseChallenge(undefined)).toBeUndefined();
  });
  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
  it('plain HTTP only to loopback or with insecure', () => {
    expect(isLoopbackHost('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('[::1]:5000')).toBe(true);
    expect(isLoopbackHost('10.0.0.1:5000')).toBe(false);
    expect(registryBaseUrl('127.0.0.1:5000').protocol).toBe('http:');
    expect(registryBaseUrl('reg.example:5000').protocol).toBe('https:');
    expect(registryBaseUrl('reg.example:5000', true).protocol).toBe('http:');
    expect(() => registryBaseUrl('http://reg.example')).toThrow(GamelayerError);
  });
});

describe('docker config.json', () => {
  it('reads auths by bare host, identity tokens, and names a bad file', async () => {
    const dir = path.join(work, 'dc');
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'config.json'),
      JSON.stringify({ auths: { 'https://reg.example/v1/': { auth: Buffer.from('u:p:w').toString('base64') }, 'tok.example': { identitytoken: 'rt' } } }),
    );
    expect(await resolveCredentials('reg.example', { dockerConfigDir: dir, env: {} })).toMatchObject({ username: 'u', password: 'p:w' });
    expect(await resolveCredentials('tok.example', { dockerConfigDir: dir, env: {} })).toMatchObject({ identityToken: 'rt' });
    expect(await resolveCredentials('none.example', { dockerConfigDir: dir, env: {} })).toBeUndefined();
    await writeFile(path.join(dir, 'config.json'), '{ not json');
    await expect(resolveCredentials('reg.example', { dockerConfigDir: dir, env: {} })).rejects.toThrow(
      `${path.join(dir, 'config.json')}: invalid JSON`,
    );
  });
});

describe('relative Location headers', () => {
  it('pushes to a registry that answers with relative upload URLs', async () => {
    const reg = await startRegistry({ relativeUrls: true });
    try {
      const res = await fetch(`${reg.url}/v2/x/y/blobs/uploads/`, { method: 'POST' });
      expect(res.headers.get('location')).toMatch(/^\/v2\/x\/y\/blobs\/uploads\//);
      const layout = path.join(work, 'rel');
      const t = await addTag(layout, 'v1', [{ layers: [{ files: { a: randomContent(30_000) } }] }]);
      await pushImage({ layout, to: `${reg.host}/rel/game:v1`, chunkedAbove: 10_000, chunkSize: 8_000 });
      expect((await storedTags(reg.storageDir, 'rel/game')).v1).toBe(t.top.digest);
      expect(await storageProblems(reg.storageDir)).toEqual([]);
    } finally {
      await reg.stop();
    }
  });
});
