// Anyone who may push can attach a second, well-formed CycloneDX SBOM beside the one `build --sbom` attached (a
// referrer naming the image as its subject). `gamelayer sign` then signed it too, `verify --require-sbom` passed with
// both, and `gamelayer sbom` printed the newer one with a warning: whoever trusted verify was told the image holds
// what the forged document lists. Now an image carries one SBOM: sign (and build --sign) signs nothing, verify fails
// and sbom (with or without --key) prints none while there are two, each naming the image and both SBOMs.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { repositoryApi } from './support/sbom-referrers.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-sbom-forged-');

describe('an image with a forged second SBOM', () => {
  it('sign, build --sign, verify --require-sbom and sbom refuse it, naming both; once removed, all pass again', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const name = 'studio/forged';
    const repo = `${fx.reg.host}/${name}`;
    const api = repositoryApi(fx.reg.url, name);
    const key = path.join(fx.root, 'key.pem');
    const pub = path.join(fx.root, 'pub.pem');
    const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);

    // The forger copies the real document, changes one file's sha256 (still valid CycloneDX of this image) and
    // attaches it as an artifact of its own through the referrers tag the build used.
    const image = await api.imageDigest('v1');
    const referrersTag = image.replace(':', '-');
    const index = await api.referrers(image);
    expect(index.manifests).toHaveLength(1);
    const ours = index.manifests[0]!;
    expect(built.stdout).toContain(`SBOM ${ours.digest}`);
    const artifact = await api.manifest<{ layers: { digest: string }[] }>(ours.digest);
    const real = await (await fetch(`${api.v2}/blobs/${artifact.layers[0]!.digest}`)).text();
    const at = real.indexOf('"content":"', real.indexOf('"type":"file"')) + '"content":"'.length;
    expect(at).toBeGreaterThan(20);
    const copy = await api.attachCopy(ours, Buffer.from(real.slice(0, at) + 'f'.repeat(64) + real.slice(at + 64)));
    await api.putReferrers(image, { ...index, manifests: [...index.manifests, copy] });
    const forged = copy.digest;
    const tags = api.tags;
    const tagsBefore = await tags();
    const both = `2 SBOMs are attached to ${image} (`;

    const signed = await runCli(['sign', `${repo}:v1`, '--key', key], { cwd: dir });
    expect(signed.code).toBe(1);
    expect(signed.stderr).toContain(`error[sbom.several]: ${repo}:v1: ${both}`);
    expect(signed.stderr).toContain(forged);
    expect(signed.stderr).toContain(ours.digest);
    expect(signed.stderr).toContain(`hint: nothing was signed. keep the one gamelayer build --push REPO --sbom printed`);
    expect(signed.stderr).toContain(`put the referrers index ${repo}:${referrersTag} again without it`);
    expect(await tags()).toEqual(tagsBefore);

    const rebuilt = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
    expect(rebuilt.code).toBe(1);
    expect(rebuilt.stderr).toContain(`error[sbom.several]: ${repo}:v1: ${both}`);
    expect(await tags()).toEqual(tagsBefore);

    // As the old sign did: the forged SBOM signed with the studio's key (an artifact signed by digest is signed under
    // the repository's name, as sign signs SBOMs), so every SBOM verifies and only their number is wrong.
    const signedForged = await runCli(['sign', `${repo}@${forged}`, '--key', key], { cwd: dir });
    expect(signedForged.code, signedForged.stderr).toBe(0);
    const verified = await runCli(['verify', `${repo}:v1`, '--key', pub, '--require-sbom'], { cwd: dir });
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain(`error[verify.failed]: ${repo}:v1: ${both}`);
    expect(verified.stderr).toContain(forged);
    expect(verified.stdout).toContain(`verified sbom ${forged}`);
    expect(verified.stderr).toContain('hint: keep the one gamelayer build --push REPO --sbom printed');
    // Without --require-sbom too: verify vouches for the SBOMs it finds.
    expect((await runCli(['verify', `${repo}:v1`, '--key', pub], { cwd: dir })).code).toBe(1);

    for (const args of [[], ['--key', pub]]) {
      const printed = await runCli(['sbom', `${repo}:v1`, ...args], { cwd: dir });
      expect(printed.code, args.join(' ')).toBe(1);
      expect(printed.stdout).toBe('');
      expect(printed.stderr).toContain(`error[sbom.several]: ${repo}:v1: ${both}`);
    }

    // As the hint says: the forged manifest deleted and the index put again without it.
    expect((await fetch(`${api.v2}/manifests/${forged}`, { method: 'DELETE' })).status).toBe(202);
    await api.putReferrers(image, { ...index, manifests: [ours] });
    expect((await runCli(['sign', `${repo}:v1`, '--key', key], { cwd: dir })).code).toBe(0);
    const again = await runCli(['verify', `${repo}:v1`, '--key', pub, '--require-sbom'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`verified sbom ${ours.digest}`);
    expect((await runCli(['sbom', `${repo}:v1`], { cwd: dir })).code).toBe(0);
  });
});
