// `sign`, `verify` and `sbom` of a tag the repository does not hold: the error was `sbom.no-image` (one command's
// code, for all three) with no hint. It is now the registry's `registry.no-image`, with how to list the tags.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useSigningFixture } from './support/signing-fixture.js';

const fx = useSigningFixture('gl-supply-missing-');

describe('a supply-chain command on a tag that is not there', () => {
  it.each([
    ['sign', (ref: string) => ['sign', ref, '--key', path.join(fx.root, 'key.pem')]],
    ['verify', (ref: string) => ['verify', ref, '--key', path.join(fx.root, 'pub.pem')]],
    ['sbom', (ref: string) => ['sbom', ref]],
  ])('%s: registry.no-image, with how to list the tags', async (_name, args) => {
    const repo = `${fx.reg.host}/studio/game`;
    const r = await runCli(args(`${repo}:v9`), { cwd: fx.root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[registry.no-image]: ${repo}:v9: no such image in ${repo}\n`);
    expect(r.stderr).toContain(`\nhint: check the tag: gamelayer ls ${repo} lists the repository's tags\n`);
  });
});
