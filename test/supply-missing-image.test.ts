// `sign`, `verify` and `sbom` of a tag the repository does not hold: the error was `sbom.no-image` (one command's
// code, for all three) with no hint. It is now the registry's `registry.no-image`, with how to list the tags.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

let root: string;
let reg: TestRegistry;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-supply-missing-'));
  reg = await startRegistry();
  execFileSync('sh', ['-c', 'cd "$1" && openssl ecparam -genkey -name prime256v1 -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null', 'sh', root]);
});
afterAll(async () => {
  await reg?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('a supply-chain command on a tag that is not there', () => {
  it.each([
    ['sign', (ref: string) => ['sign', ref, '--key', path.join(root, 'key.pem')]],
    ['verify', (ref: string) => ['verify', ref, '--key', path.join(root, 'pub.pem')]],
    ['sbom', (ref: string) => ['sbom', ref]],
  ])('%s: registry.no-image, with how to list the tags', async (_name, args) => {
    const repo = `${reg.host}/studio/game`;
    const r = await runCli(args(`${repo}:v9`), { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[registry.no-image]: ${repo}:v9: no such image in ${repo}\n`);
    expect(r.stderr).toContain(`\nhint: check the tag: gamelayer ls ${repo} lists the repository's tags\n`);
  });
});
