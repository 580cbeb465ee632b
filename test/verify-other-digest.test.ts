// `verify` of an image whose `.sig` tag holds a signature of another image (copied from another tag, or replayed):
// the key is the right one, so the hint must not send the user looking for "the public key of the key that signed
// it". It did: every failed signature counted as "made with another key".
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-verify-digest-');

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
async function manifestDigest(repo: string, tag: string): Promise<string> {
  const r = await fetch(`${fx.reg.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MANIFEST } });
  return r.headers.get('docker-content-digest')!;
}

describe('verify with a signature of another digest', () => {
  it('names the other digest and says the signature is for another image, not made with another key', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const repo = `${fx.reg.host}/studio/game`;
    expect((await runCli(['build', '-t', 'v1', '--push', repo], { cwd: dir })).code).toBe(0);
    expect((await runCli(['sign', `${repo}:v1-app`, '--key', path.join(fx.root, 'key.pem')], { cwd: dir })).code).toBe(0);
    const signed = await manifestDigest('studio/game', 'v1-app');
    const other = await manifestDigest('studio/game', 'v1-engine');
    expect(other).not.toBe(signed);
    // The app image's signature manifest, put where the engine image's signature is looked for.
    const sig = await fetch(`${fx.reg.url}/v2/studio/game/manifests/${signed.replace(':', '-')}.sig`, { headers: { Accept: MANIFEST } });
    const put = await fetch(`${fx.reg.url}/v2/studio/game/manifests/${other.replace(':', '-')}.sig`, { method: 'PUT', headers: { 'Content-Type': MANIFEST }, body: Buffer.from(await sig.arrayBuffer()) });
    expect(put.status).toBe(201);

    const r = await runCli(['verify', `${repo}:v1-engine`, '--key', path.join(fx.root, 'pub.pem')], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`not verified: signs ${signed}, not ${other}`);
    expect(r.stderr).not.toContain('made with another key');
    expect(r.stderr).toMatch(/\nhint: a signature made with this key names another image \(copied or replayed from another tag\): sign this image with gamelayer sign REF --key KEY\n$/);
  });
});
