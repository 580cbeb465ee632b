// Anyone who may push can attach an "SBOM" to an image. `gamelayer sign` signed every attached SBOM without reading
// it: a document that is not even JSON got the key's signature (and verify, failing on the document, hinted "sign
// it"). Now sign checks each attached SBOM as verify does before it signs anything, and refuses naming it; verify's
// hint says that signing cannot fix a document that fails its checks.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { repositoryApi } from './support/sbom-referrers.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-sign-foreign-sbom-');

describe('sign with a foreign SBOM attached', () => {
  it('refuses, signing nothing, and names the SBOM; verify does not hint "sign it" for it', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const name = 'studio/foreign';
    const repo = `${fx.reg.host}/${name}`;
    const api = repositoryApi(fx.reg.url, name);
    const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', path.join(fx.root, 'key.pem')], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);

    // Someone attaches a second "SBOM" whose document is not one, through the referrers tag the build used.
    const image = await api.imageDigest('v1');
    const index = await api.referrers(image);
    const attached = await api.attachCopy(index.manifests[0]!, Buffer.from('this is not an sbom'));
    await api.putReferrers(image, { ...index, manifests: [...index.manifests, attached] });
    const foreign = attached.digest;
    const tagsBefore = await api.tags();

    const signed = await runCli(['sign', `${repo}:v1`, '--key', path.join(fx.root, 'key.pem')], { cwd: dir });
    expect(signed.code).toBe(1);
    expect(signed.stderr).toContain(`error[sign.sbom-invalid]: ${repo}:v1: ${repo}@${foreign} is not JSON`);
    expect(signed.stderr).toContain('hint: nothing was signed.');
    // No signature tag for the foreign document, and no other tag moved or added.
    expect(await api.tags()).toEqual(tagsBefore);

    const verified = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem')], { cwd: dir });
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain(`sbom ${foreign}: the document fails its digest, schema or subject check: ${repo}@${foreign} is not JSON`);
    expect(verified.stderr).toContain('hint: an attached SBOM fails its checks');
    expect(verified.stderr).not.toContain('hint: sign it');
  });
});
