// Anyone who may push can attach an "SBOM" to an image. `gamelayer sign` signed every attached SBOM without reading
// it: a document that is not even JSON got the key's signature (and verify, failing on the document, hinted "sign
// it"). Now sign checks each attached SBOM as verify does before it signs anything, and refuses naming it; verify's
// hint says that signing cannot fix a document that fails its checks.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-sign-foreign-sbom-');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('sign with a foreign SBOM attached', () => {
  it('refuses, signing nothing, and names the SBOM; verify does not hint "sign it" for it', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const name = 'studio/foreign';
    const repo = `${fx.reg.host}/${name}`;
    const v2 = `${fx.reg.url}/v2/${name}`;
    const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', path.join(fx.root, 'key.pem')], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);

    // Someone attaches a second "SBOM" whose document is not one, through the referrers tag the build used.
    const image = (await fetch(`${v2}/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest')!;
    const referrersTag = image.replace(':', '-');
    const index = (await (await fetch(`${v2}/manifests/${referrersTag}`, { headers: { accept: OCI_INDEX } })).json()) as { manifests: { digest: string; size: number }[] };
    const ours = index.manifests[0]!;
    const artifact = (await (await fetch(`${v2}/manifests/${ours.digest}`, { headers: { accept: OCI_MANIFEST } })).json()) as { layers: { digest: string; size: number }[] };
    const junk = Buffer.from('this is not an sbom');
    const upload = await fetch(`${v2}/blobs/uploads/`, { method: 'POST' });
    const at = new URL(upload.headers.get('location')!, fx.reg.url);
    at.searchParams.set('digest', sha256(junk));
    expect((await fetch(at, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: junk })).status).toBe(201);
    artifact.layers[0] = { ...artifact.layers[0]!, digest: sha256(junk), size: junk.length };
    const foreign = Buffer.from(JSON.stringify(artifact));
    expect((await fetch(`${v2}/manifests/${sha256(foreign)}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: foreign })).status).toBe(201);
    index.manifests.push({ ...ours, digest: sha256(foreign), size: foreign.length });
    expect((await fetch(`${v2}/manifests/${referrersTag}`, { method: 'PUT', headers: { 'content-type': OCI_INDEX }, body: JSON.stringify(index) })).status).toBe(201);
    const tagsBefore = ((await (await fetch(`${v2}/tags/list`)).json()) as { tags: string[] }).tags.sort();

    const signed = await runCli(['sign', `${repo}:v1`, '--key', path.join(fx.root, 'key.pem')], { cwd: dir });
    expect(signed.code).toBe(1);
    expect(signed.stderr).toContain(`error[sign.sbom-invalid]: ${repo}:v1: ${repo}@${sha256(foreign)} is not JSON`);
    expect(signed.stderr).toContain('hint: nothing was signed.');
    // No signature tag for the foreign document, and no other tag moved or added.
    expect(((await (await fetch(`${v2}/tags/list`)).json()) as { tags: string[] }).tags.sort()).toEqual(tagsBefore);

    const verified = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem')], { cwd: dir });
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain(`sbom ${sha256(foreign)}: the document fails its digest, schema or subject check: ${repo}@${sha256(foreign)} is not JSON`);
    expect(verified.stderr).toContain('hint: an attached SBOM fails its checks');
    expect(verified.stderr).not.toContain('hint: sign it');
  });
});
