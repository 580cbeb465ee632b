// `verify --require-sbom` of a signed image that carries no SBOM: the message named the reference twice and the hint
// said "sign it", which the image is. It now says what is missing and how to attach one.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { writeGame } from './support/trees.js';

let root: string;
let reg: TestRegistry;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-verify-sbom-'));
  reg = await startRegistry();
  execFileSync('sh', ['-c', 'cd "$1" && openssl ecparam -genkey -name prime256v1 -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null', 'sh', root]);
});
afterAll(async () => {
  await reg?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('verify --require-sbom without an SBOM', () => {
  it('says no SBOM is attached, once, and how to attach one; the signatures verified', async () => {
    const dir = path.join(root, 'game');
    await writeGame(dir);
    const repo = `${reg.host}/studio/game`;
    expect((await runCli(['build', '-t', 'v1', '--push', repo, '--sign', path.join(root, 'key.pem')], { cwd: dir })).code).toBe(0);
    const r = await runCli(['verify', `${repo}:v1`, '--key', path.join(root, 'pub.pem'), '--require-sbom'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^verified image sha256:[a-f0-9]{64} \(1 of 1 signature valid\)\n$/);
    expect(r.stderr).toMatch(new RegExp(`^error\\[verify\\.failed\\]: ${repo.replace(/\./g, '\\.')}:v1: no SBOM attached to image sha256:[a-f0-9]{64}\\n`));
    expect(r.stderr).toContain('\nhint: its signatures verify, but no SBOM is attached: build --push REPO --sbom attaches one to the server image (tree images carry none); or verify without --require-sbom\n');
  });
});
