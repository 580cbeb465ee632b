// `verify` of an image signed with another key: the hint says to pass the signer's public key. It said "sign it",
// as for an unsigned image, which sends the user to sign an image that is signed.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { writeGame } from './support/trees.js';

let root: string;
let reg: TestRegistry;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-verify-key-'));
  reg = await startRegistry();
  execFileSync('sh', ['-c', 'cd "$1" && openssl ecparam -genkey -name prime256v1 -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null && openssl ecparam -genkey -name prime256v1 -noout -out other.pem && openssl ec -in other.pem -pubout -out other.pub 2>/dev/null', 'sh', root]);
});
afterAll(async () => {
  await reg?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('verify with the wrong public key', () => {
  it('says the signatures are by another key; an unsigned image still gets "sign it"', async () => {
    const dir = path.join(root, 'game');
    await writeGame(dir);
    const repo = `${reg.host}/studio/game`;
    expect((await runCli(['build', '-t', 'v1', '--push', repo, '--sign', path.join(root, 'key.pem')], { cwd: dir })).code).toBe(0);
    const good = await runCli(['verify', `${repo}:v1`, '--key', path.join(root, 'pub.pem')], { cwd: dir });
    expect(good.code).toBe(0);
    const other = await runCli(['verify', `${repo}:v1`, '--key', path.join(root, 'other.pub')], { cwd: dir });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^error\[verify\.failed\]: .*the signature does not verify with this key/);
    expect(other.stderr).toMatch(/\nhint: its signatures were made with another key: pass the public key of the key that signed it \(or sign it again with gamelayer sign REF --key KEY\)\n$/);
    // Other content, so another digest that no signature names.
    await writeFile(path.join(dir, 'app/game.xml'), '<game v="2"/>\n');
    expect((await runCli(['build', '-t', 'v2', '--push', repo], { cwd: dir })).code).toBe(0);
    const unsigned = await runCli(['verify', `${repo}:v2`, '--key', path.join(root, 'pub.pem')], { cwd: dir });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/\nhint: sign it with gamelayer sign REF --key KEY \(or build --push REPO --sign KEY\)\n$/);
  });
});
