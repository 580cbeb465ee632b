// The registry test infrastructure itself, checked with independent real tools (skopeo, curl-like fetch).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from './support/fault-proxy.js';
import { addTag, randomContent } from './support/make-layout.js';
import { startRegistry, storageProblems, storedManifests, storedTags, type TestRegistry } from './support/registry.js';

const run = promisify(execFile);
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-support-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('make-layout + plain registry', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => reg?.stop());

  it('writes a layout skopeo can push; the registry log and storage show it', async () => {
    const dir = path.join(work, 'layout1');
    const single = await addTag(dir, 'v1', [{ layers: [{ files: { 'a.txt': 'hello' } }, { files: { 'b.bin': randomContent(1000) } }] }]);
    const multi = await addTag(dir, 'multi', [
      { layers: [{ files: { 'a.txt': 'hello' } }], platform: { os: 'linux', architecture: 'amd64' } },
      { layers: [{ files: { 'a.txt': 'hello' } }], platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    await run('skopeo', ['copy', '--dest-tls-verify=false', `oci:${dir}:v1`, `docker://${reg.host}/game/one:v1`]);
    await run('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${dir}:multi`, `docker://${reg.host}/game/one:multi`]);
    // 2 layers + config; then 1 shared layer (already there, skopeo skips) + 2 configs (same content apart from arch)
    expect(await reg.completedUploads()).toBeGreaterThanOrEqual(4);
    expect(await storageProblems(reg.storageDir)).toEqual([]);
    const tags = await storedTags(reg.storageDir, 'game/one');
    expect(tags.v1).toBe(single.top.digest);
    expect(tags.multi).toBe(multi.top.digest);
    expect(await storedManifests(reg.storageDir, 'game/one')).toContain(multi.images[1]!.manifest.digest);
  });
});

describe('auth variants', () => {
  it('basic: /v2/ wants credentials and accepts the htpasswd user', async () => {
    const reg = await startRegistry({ auth: 'basic' });
    try {
      expect((await fetch(`${reg.url}/v2/`)).status).toBe(401);
      const u = reg.users[0]!;
      const ok = await fetch(`${reg.url}/v2/`, {
        headers: { authorization: `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}` },
      });
      expect(ok.status).toBe(200);
    } finally {
      await reg.stop();
    }
  });

  it('token: the registry accepts a JWT from the token server and skopeo can push with it', async () => {
    const reg = await startRegistry({ auth: 'token' });
    try {
      const challenge = (await fetch(`${reg.url}/v2/`)).headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token"/);
      const u = reg.users[0]!;
      const basic = `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`;
      const tok = (await (await fetch(`${reg.tokenServer!.realm}?service=gamelayer-test&scope=repository:x/y:pull,push`, {
        headers: { authorization: basic },
      })).json()) as { token: string };
      const res = await fetch(`${reg.url}/v2/x/y/tags/list`, { headers: { authorization: `Bearer ${tok.token}` } });
      expect(res.status).toBe(404); // authorised; the repository just does not exist yet
      const dir = path.join(work, 'layout-token');
      await addTag(dir, 'v1', [{ layers: [{ files: { 'a.txt': 'token' } }] }]);
      await run('skopeo', ['copy', '--dest-tls-verify=false', '--dest-creds', `${u.username}:${u.password}`, `oci:${dir}:v1`, `docker://${reg.host}/x/y:v1`]);
      expect(Object.keys(await storedTags(reg.storageDir, 'x/y'))).toEqual(['v1']);
    } finally {
      await reg.stop();
    }
  });
});

describe('fault proxy', () => {
  it('injects statuses per rule and count, then forwards', async () => {
    const reg = await startRegistry();
    const proxy = await startFaultProxy(reg.host, [
      { method: 'GET', path: /^\/v2\/$/, count: 2, action: { kind: 'status', status: 503 } },
    ]);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await fetch(`${proxy.url}/v2/`)).status);
      expect(statuses).toEqual([503, 503, 200]);
      expect(proxy.fired).toEqual([2]);
      // Location headers come back pointing at the proxy, so clients keep going through it.
      const post = await fetch(`${proxy.url}/v2/p/q/blobs/uploads/`, { method: 'POST' });
      expect(post.headers.get('location')).toContain(proxy.host);
    } finally {
      await proxy.stop();
      await reg.stop();
    }
  });
});
