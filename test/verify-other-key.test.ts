// `verify` of an image signed with another key: the hint says to pass the signer's public key. It said "sign it",
// as for an unsigned image, which sends the user to sign an image that is signed. A damaged signature (tampered, or
// its annotation gone) cannot always be told from another key's: the hint names both (it said "made with another key").
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-verify-key-', { otherKey: true });

describe('verify with the wrong public key', () => {
  it('says the signatures are by another key; an unsigned image still gets "sign it"', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const repo = `${fx.reg.host}/studio/game`;
    expect((await runCli(['build', '-t', 'v1', '--push', repo, '--sign', path.join(fx.root, 'key.pem')], { cwd: dir })).code).toBe(0);
    const good = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem')], { cwd: dir });
    expect(good.code).toBe(0);
    const other = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'other.pub')], { cwd: dir });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^error\[verify\.failed\]: .*the signature does not verify with this key/);
    expect(other.stderr).toMatch(/\nhint: its signatures do not verify with this key: made with another key \(pass the public key of the key that signed it\) or damaged \(sign it again with gamelayer sign REF --key KEY\)\n$/);
    // Other content, so another digest that no signature names.
    await writeFile(path.join(dir, 'app/game.xml'), '<game v="2"/>\n');
    expect((await runCli(['build', '-t', 'v2', '--push', repo], { cwd: dir })).code).toBe(0);
    const unsigned = await runCli(['verify', `${repo}:v2`, '--key', path.join(fx.root, 'pub.pem')], { cwd: dir });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/\nhint: sign it with gamelayer sign REF --key KEY \(or build --push REPO --sign KEY; a build merged from platform builds: gamelayer index REPO --sign KEY\)\n$/);
  });

  it('a signature stripped of its signature annotation is called damaged too, not only "made with another key"', async () => {
    const dir = path.join(fx.root, 'game3');
    await writeGame(dir);
    const name = 'studio/damaged';
    const repo = `${fx.reg.host}/${name}`;
    expect((await runCli(['build', '-t', 'v1', '--push', repo, '--sign', path.join(fx.root, 'key.pem')], { cwd: dir })).code).toBe(0);
    const head = await fetch(`${fx.reg.url}/v2/${name}/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const sigTag = `${head.headers.get('docker-content-digest')!.replace(':', '-')}.sig`;
    const sig = (await (await fetch(`${fx.reg.url}/v2/${name}/manifests/${sigTag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { layers: { annotations?: Record<string, string> }[] };
    for (const l of sig.layers) l.annotations = {};
    const put = await fetch(`${fx.reg.url}/v2/${name}/manifests/${sigTag}`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, body: JSON.stringify(sig) });
    expect(put.status).toBe(201);
    const r = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem')], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not verified: no dev.cosignproject.cosign/signature annotation');
    expect(r.stderr).toContain('\nhint: its signatures do not verify with this key: made with another key (pass the public key of the key that signed it) or damaged (sign it again');
  });
});
