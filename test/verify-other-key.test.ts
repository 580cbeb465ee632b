// `verify` of an image signed with another key: the hint says to pass the signer's public key. It said "sign it",
// as for an unsigned image, which sends the user to sign an image that is signed.
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
    expect(other.stderr).toMatch(/\nhint: its signatures were made with another key: pass the public key of the key that signed it \(or sign it again with gamelayer sign REF --key KEY\)\n$/);
    // Other content, so another digest that no signature names.
    await writeFile(path.join(dir, 'app/game.xml'), '<game v="2"/>\n');
    expect((await runCli(['build', '-t', 'v2', '--push', repo], { cwd: dir })).code).toBe(0);
    const unsigned = await runCli(['verify', `${repo}:v2`, '--key', path.join(fx.root, 'pub.pem')], { cwd: dir });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/\nhint: sign it with gamelayer sign REF --key KEY \(or build --push REPO --sign KEY; a build merged from platform builds: gamelayer index REPO --sign KEY\)\n$/);
  });
});
