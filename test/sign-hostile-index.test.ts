// `sign` and `verify` list an image's platform manifests from the manifest its digest names. A registry (or anything
// in front of it) that answered that GET with other bytes chose what the studio's key signed: the listed children
// were signed without the index being hashed. The bytes must hash to the digest, or nothing is signed.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-sign-index-');

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
async function manifestDigest(repo: string, tag: string): Promise<string> {
  const r = await fetch(`${fx.reg.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MANIFEST } });
  return r.headers.get('docker-content-digest')!;
}
async function hasTag(repo: string, tag: string): Promise<boolean> {
  const r = await fetch(`${fx.reg.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MANIFEST } });
  return r.status === 200;
}

describe('sign and verify of an image whose manifest the registry answers with other bytes', () => {
  it('signs nothing (not the image, not the children the forged index lists) and names the digest', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const repo = `${fx.reg.host}/studio/game`;
    expect((await runCli(['build', '-t', 'v1', '--push', repo], { cwd: dir })).code).toBe(0);
    const image = await manifestDigest('studio/game', 'v1');
    const other = await manifestDigest('studio/game', 'v1-engine');
    const forged = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [{ mediaType: MANIFEST, digest: other, size: 1, platform: { os: 'linux', architecture: 'amd64' } }] });
    const proxy = await startFaultProxy(fx.reg.host, [
      { method: 'GET', path: new RegExp(`/manifests/${image}$`), count: 100, action: { kind: 'status', status: 200, headers: { 'content-type': INDEX }, body: forged } },
    ]);
    try {
      const r = await runCli(['sign', `${proxy.host}/studio/game:v1`, '--key', path.join(fx.root, 'key.pem')], { cwd: dir });
      expect(await hasTag('studio/game', `${other.replace(':', '-')}.sig`)).toBe(false);
      expect(await hasTag('studio/game', `${image.replace(':', '-')}.sig`)).toBe(false);
      expect(r.stderr).toContain(`error[registry.digest]: ${proxy.host}/studio/game@${image}: the manifest the registry sent hashes to sha256:`);
      expect(r.code).toBe(1);

      // verify reads the same list: the forged bytes are refused there too, not taken as the image's children.
      const v = await runCli(['verify', `${proxy.host}/studio/game:v1`, '--key', path.join(fx.root, 'pub.pem')], { cwd: dir });
      expect(v.stderr).toContain(`error[registry.digest]: ${proxy.host}/studio/game@${image}: the manifest the registry sent hashes to sha256:`);
      expect(v.code).toBe(1);
    } finally {
      await proxy.stop();
    }
  });

  it('a body that is not JSON is an error naming the manifest, not a crash', async () => {
    const image = await manifestDigest('studio/game', 'v1');
    const proxy = await startFaultProxy(fx.reg.host, [
      { method: 'GET', path: new RegExp(`/manifests/${image}$`), count: 100, action: { kind: 'status', status: 200, headers: { 'content-type': INDEX }, body: '{"manifests": [' } },
    ]);
    try {
      const r = await runCli(['verify', `${proxy.host}/studio/game:v1`, '--key', path.join(fx.root, 'pub.pem')], { cwd: fx.root });
      expect(r.stderr).toMatch(/^error\[registry\.digest\]: /m);
      expect(r.stderr).not.toContain('SyntaxError');
      expect(r.code).toBe(1);
    } finally {
      await proxy.stop();
    }
  });

  it('an index served with an odd Content-Type (application/json): its platform manifests are still signed and verified', async () => {
    const image = await manifestDigest('studio/game', 'v1');
    const size = Number((await fetch(`${fx.reg.url}/v2/studio/game/manifests/v1`, { method: 'HEAD', headers: { Accept: MANIFEST } })).headers.get('content-length'));
    const index = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [{ mediaType: MANIFEST, digest: image, size, platform: { os: 'linux', architecture: 'amd64' } }] });
    const put = await fetch(`${fx.reg.url}/v2/studio/game/manifests/multi`, { method: 'PUT', headers: { 'Content-Type': INDEX }, body: index });
    expect(put.status).toBe(201);
    const indexDigest = put.headers.get('docker-content-digest')!;
    const proxy = await startFaultProxy(fx.reg.host, [
      { method: 'GET', path: new RegExp(`/manifests/(${indexDigest}|multi)$`), count: 100, action: { kind: 'status', status: 200, headers: { 'content-type': 'application/json', 'docker-content-digest': indexDigest }, body: index } },
    ]);
    try {
      const r = await runCli(['sign', `${proxy.host}/studio/game:multi`, '--key', path.join(fx.root, 'key.pem')], { cwd: fx.root });
      expect(r.code).toBe(0);
      expect(await hasTag('studio/game', `${indexDigest.replace(':', '-')}.sig`)).toBe(true);
      expect(await hasTag('studio/game', `${image.replace(':', '-')}.sig`)).toBe(true);
      const v = await runCli(['verify', `${proxy.host}/studio/game:multi`, '--key', path.join(fx.root, 'pub.pem'), '--json'], { cwd: fx.root });
      expect(v.code).toBe(0);
      expect(JSON.parse(v.stdout).items.map((i: { what: string; digest: string }) => `${i.what} ${i.digest}`)).toEqual([`image ${indexDigest}`, `platform manifest ${image}`]);
    } finally {
      await proxy.stop();
    }
  });
});
