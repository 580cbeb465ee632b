// The SBOM's reuse key held gamelayer's version: after an upgrade, `build --sbom` of an unchanged image made a new
// document and attached it beside the one already there, so every upgrade left one more SBOM on the image (and
// sign and verify refuse an image carrying two). Now the key is what the document says (sbomKey): the upgraded
// tool finds the SBOM already attached, reuses it and signs it.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { repositoryApi } from './support/sbom-referrers.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';
import { upgradedCli } from './support/upgraded-cli.js';

const fx = useSigningFixture('gl-sbom-upgrade-');

describe('build --sbom after a gamelayer upgrade', () => {
  it('reuses the SBOM attached to the unchanged image: no second one, and build --sign and verify --require-sbom pass', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const name = 'studio/upgrade';
    const repo = `${fx.reg.host}/${name}`;
    const api = repositoryApi(fx.reg.url, name);
    const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const image = await api.imageDigest('v1');
    const sboms = async () => (await api.referrers(image)).manifests.map((m) => m.digest);
    const first = await sboms();
    expect(first).toHaveLength(1);

    const cli = await upgradedCli(path.join(fx.root, 'upgraded'), '99.0.0');
    expect((await runCli(['--version'], { cli })).stdout.trim()).toBe('99.0.0');
    const again = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', path.join(fx.root, 'key.pem')], { cwd: dir, cli });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`SBOM ${first[0]}`);
    expect(again.stdout).toContain('(already attached)');
    expect(await api.imageDigest('v1')).toBe(image);
    expect(await sboms()).toEqual(first);

    const verified = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem'), '--require-sbom'], { cwd: dir, cli });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`verified sbom ${first[0]}`);
  });
});
