// Anyone who may push can attach a second, well-formed CycloneDX SBOM beside the one `build --sbom` attached (a
// referrer naming the image as its subject). `gamelayer sign` then signed it too, `verify --require-sbom` passed with
// both, and `gamelayer sbom` printed the newer one with a warning: whoever trusted verify was told the image holds
// what the forged document lists. Now an image carries one SBOM: sign (and build --sign) signs nothing, verify fails
// and sbom (with or without --key) prints none while there are two, each naming the image and both SBOMs. One that
// copied gamelayer's key annotation is replaced by the next signed build (with its signature); one without is not
// gamelayer's to remove, and the build refuses it.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { forgeSbom, sha256 } from './support/sbom-forge.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-sbom-forged-');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** The sample game built, pushed to `name` in the fixture's registry with an SBOM, and signed with key.pem. */
async function signedBuild(name: string) {
  const dir = path.join(fx.root, name.replace('/', '-'));
  await writeGame(dir);
  const repo = `${fx.reg.host}/${name}`;
  const key = path.join(fx.root, 'key.pem');
  const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
  return { dir, repo, v2: `${fx.reg.url}/v2/${name}`, key, pub: path.join(fx.root, 'pub.pem'), built };
}

describe('an image with a forged second SBOM', () => {
  it('sign, build --sign, verify --require-sbom and sbom refuse it, naming both; once removed, all pass again', async () => {
    const name = 'studio/forged';
    const { dir, repo, v2, key, pub, built } = await signedBuild(name);

    // The forger copies the real document, changes one file's sha256 (still valid CycloneDX of this image) and
    // attaches it as an artifact of its own through the referrers tag the build used.
    const { image, referrersTag, index, ours, forged, putIndex } = await forgeSbom(fx.reg.url, name, 'v1');
    expect(built.stdout).toContain(`SBOM ${ours.digest}`);
    expect((await putIndex([...index.manifests, { ...ours, digest: sha256(forged), size: forged.length }])).status).toBe(201);
    const tags = async () => ((await (await fetch(`${v2}/tags/list`)).json()) as { tags: string[] }).tags.sort();
    const tagsBefore = await tags();
    const both = `2 SBOMs are attached to ${image} (`;

    const signed = await runCli(['sign', `${repo}:v1`, '--key', key], { cwd: dir });
    expect(signed.code).toBe(1);
    expect(signed.stderr).toContain(`error[sbom.several]: ${repo}:v1: ${both}`);
    expect(signed.stderr).toContain(sha256(forged));
    expect(signed.stderr).toContain(ours.digest);
    expect(signed.stderr).toContain(`hint: nothing was signed. keep the one gamelayer build --push REPO --sbom printed`);
    expect(signed.stderr).toContain(`put the referrers index ${repo}:${referrersTag} again without it`);
    expect(await tags()).toEqual(tagsBefore);

    // As the old sign did: the forged SBOM signed with the studio's key (an artifact signed by digest is signed under
    // the repository's name, as sign signs SBOMs), so every SBOM verifies and only their number is wrong.
    const signedForged = await runCli(['sign', `${repo}@${sha256(forged)}`, '--key', key], { cwd: dir });
    expect(signedForged.code, signedForged.stderr).toBe(0);
    const verified = await runCli(['verify', `${repo}:v1`, '--key', pub, '--require-sbom'], { cwd: dir });
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain(`error[verify.failed]: ${repo}:v1: ${both}`);
    expect(verified.stderr).toContain(sha256(forged));
    expect(verified.stdout).toContain(`verified sbom ${sha256(forged)}`);
    expect(verified.stderr).toContain('hint: keep the one gamelayer build --push REPO --sbom printed');
    // Without --require-sbom too: verify vouches for the SBOMs it finds.
    expect((await runCli(['verify', `${repo}:v1`, '--key', pub], { cwd: dir })).code).toBe(1);

    for (const args of [[], ['--key', pub]]) {
      const printed = await runCli(['sbom', `${repo}:v1`, ...args], { cwd: dir });
      expect(printed.code, args.join(' ')).toBe(1);
      expect(printed.stdout).toBe('');
      expect(printed.stderr).toContain(`error[sbom.several]: ${repo}:v1: ${both}`);
    }

    // The forged artifact carries gamelayer's key annotation (copied) but is not the document this key signed: a signed
    // build keeps its own and replaces the copy, with the signature made of it above.
    const rebuilt = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toContain(`SBOM ${ours.digest}`);
    expect(rebuilt.stdout).toContain(`it replaces ${sha256(forged)}`);
    expect(await tags()).toEqual(tagsBefore);
    expect((await fetch(`${v2}/manifests/${sha256(forged)}`, { headers: { accept: OCI_MANIFEST } })).status).toBe(404);
    expect((await runCli(['verify', `${repo}:v1`, '--key', pub, '--require-sbom'], { cwd: dir })).code).toBe(0);

    // Attached again without the annotation, it is not gamelayer's: the build signs nothing and names both.
    const { annotations: _copied, ...foreignArtifact } = JSON.parse(forged.toString('utf8')) as { annotations?: unknown };
    const foreign = Buffer.from(JSON.stringify(foreignArtifact));
    expect((await fetch(`${v2}/manifests/${sha256(foreign)}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: foreign })).status).toBe(201);
    expect((await putIndex([ours, { mediaType: OCI_MANIFEST, artifactType: 'application/vnd.cyclonedx+json', digest: sha256(foreign), size: foreign.length }])).status).toBe(201);
    const tagsForeign = await tags();
    const refused = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`error[sbom.several]: ${repo}:v1: ${both}`);
    expect(refused.stderr).toContain(sha256(foreign));
    expect(await tags()).toEqual(tagsForeign);

    // As the hint says: the foreign manifest deleted and the index put again without it.
    expect((await fetch(`${v2}/manifests/${sha256(foreign)}`, { method: 'DELETE' })).status).toBe(202);
    expect((await putIndex([ours])).status).toBe(201);
    expect((await runCli(['sign', `${repo}:v1`, '--key', key], { cwd: dir })).code).toBe(0);
    const again = await runCli(['verify', `${repo}:v1`, '--key', pub, '--require-sbom'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`verified sbom ${ours.digest}`);
    expect((await runCli(['sbom', `${repo}:v1`], { cwd: dir })).code).toBe(0);
  });
});

// `gamelayer sign REF` signs any well-formed SBOM attached to the image: an operator signing by hand cannot tell a
// forged document from the build's. A later `build --sbom --sign` reused an SBOM "signed by this key" without a
// word, so a forged SBOM that an operator once signed stayed the image's, signed, for good. Now a build's own SBOM
// signature says so in its payload (`optional["dev.gamelayer.sbom"]`), a build reuses only an SBOM signed so, and one
// signed by hand is made and compared: the forged one is replaced, and the build warns, naming it.
describe('a forged SBOM signed by hand with gamelayer sign', () => {
  it('is not reused by build --sbom --sign: made and compared, replaced, and named in a warning', async () => {
    const name = 'studio/hand-signed';
    const { dir, repo, v2, key, pub } = await signedBuild(name);

    // The forger swaps the build's SBOM for a copy with one file's sha256 changed (still CycloneDX of this image,
    // gamelayer's key annotation copied), through the referrers tag the build used.
    const { ours, forged, putIndex } = await forgeSbom(fx.reg.url, name, 'v1');
    expect((await putIndex([{ ...ours, digest: sha256(forged), size: forged.length }])).status).toBe(201);

    // The operator signs the image by hand: the forged SBOM is well formed, so it is signed, and verify passes.
    const signed = await runCli(['sign', `${repo}:v1`, '--key', key], { cwd: dir });
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(`signed sbom ${sha256(forged)}`);
    expect((await runCli(['verify', `${repo}:v1`, '--key', pub, '--require-sbom'], { cwd: dir })).code).toBe(0);

    // The next signed build (no change) does not take that signature for its own check.
    const rebuilt = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toContain(`SBOM ${ours.digest}`);
    expect(rebuilt.stdout).toContain(`it replaces ${sha256(forged)}`);
    expect(rebuilt.stderr).toContain(`warning: SBOM ${sha256(forged)} was signed by this key with gamelayer sign, not by a build, and is not the document this build makes of the image`);
    expect((await fetch(`${v2}/manifests/${sha256(forged)}`, { headers: { accept: OCI_MANIFEST } })).status).toBe(404);
    const verified = await runCli(['verify', `${repo}:v1`, '--key', pub, '--require-sbom'], { cwd: dir });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`verified sbom ${ours.digest}`);

    // Its own SBOM, signed by the build, is reused by the next one without a word; a sign by hand adds nothing to it.
    const noop = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
    expect(noop.code, noop.stderr).toBe(0);
    expect(noop.stdout).toContain(`SBOM ${ours.digest}`);
    expect(noop.stdout).toContain('(already attached)');
    expect(noop.stdout).toContain('signatures: 0 new');
    expect(noop.stderr).not.toContain('warning: SBOM');
    const again = await runCli(['sign', `${repo}:v1`, '--key', key], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`already signed sbom ${ours.digest}`);
  });
});
