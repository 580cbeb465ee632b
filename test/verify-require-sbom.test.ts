// `verify --require-sbom` of a signed image that carries no SBOM: the message named the reference twice and the hint
// said "sign it", which the image is. It now says what is missing and how to attach one.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-verify-sbom-');

describe('verify --require-sbom without an SBOM', () => {
  it('says no SBOM is attached, once, and how to attach one; the signatures verified', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const repo = `${fx.reg.host}/studio/game`;
    expect((await runCli(['build', '-t', 'v1', '--push', repo, '--sign', path.join(fx.root, 'key.pem')], { cwd: dir })).code).toBe(0);
    const r = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem'), '--require-sbom'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^verified image sha256:[a-f0-9]{64} \(1 of 1 signature valid\)\n$/);
    expect(r.stderr).toMatch(new RegExp(`^error\\[verify\\.failed\\]: ${repo.replace(/\./g, '\\.')}:v1: no SBOM attached to image sha256:[a-f0-9]{64}\\n`));
    expect(r.stderr).toContain('\nhint: its signatures verify, but no SBOM is attached: build --push REPO --sbom attaches one to the server image (tree images carry none; a merged build: each build --platform P --push REPO --sbom, to its platform manifest); or verify without --require-sbom\n');
  });
});
