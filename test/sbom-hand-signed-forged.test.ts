// `gamelayer sign REF` signs any well-formed SBOM attached to the image: an operator signing by hand cannot tell a
// forged document from the build's. A later `build --sbom --sign` reused an SBOM "signed by this key" without a
// word, so a forged SBOM that an operator once signed stayed the image's, signed, for good. Now a build's own SBOM
// signature says so in its payload (`optional["dev.gamelayer.sbom"]`), a build reuses only an SBOM signed so, and one
// signed by hand is made and compared: the forged one is replaced, and the build warns, naming it.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-sbom-hand-');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('a forged SBOM signed by hand with gamelayer sign', () => {
  it('is not reused by build --sbom --sign: made and compared, replaced, and named in a warning', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const name = 'studio/hand-signed';
    const repo = `${fx.reg.host}/${name}`;
    const v2 = `${fx.reg.url}/v2/${name}`;
    const key = path.join(fx.root, 'key.pem');
    const pub = path.join(fx.root, 'pub.pem');
    const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);

    // The forger swaps the build's SBOM for a copy with one file's sha256 changed (still CycloneDX of this image,
    // gamelayer's key annotation copied), through the referrers tag the build used.
    const image = (await fetch(`${v2}/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest')!;
    const referrersTag = image.replace(':', '-');
    const index = (await (await fetch(`${v2}/manifests/${referrersTag}`, { headers: { accept: OCI_INDEX } })).json()) as { manifests: { digest: string; size: number }[] };
    const ours = index.manifests[0]!;
    const artifact = (await (await fetch(`${v2}/manifests/${ours.digest}`, { headers: { accept: OCI_MANIFEST } })).json()) as { layers: { digest: string; size: number }[] };
    const real = await (await fetch(`${v2}/blobs/${artifact.layers[0]!.digest}`)).text();
    const at = real.indexOf('"content":"', real.indexOf('"type":"file"')) + '"content":"'.length;
    expect(at).toBeGreaterThan(20);
    const forgedDoc = Buffer.from(real.slice(0, at) + 'f'.repeat(64) + real.slice(at + 64));
    const upload = await fetch(`${v2}/blobs/uploads/`, { method: 'POST' });
    const put = new URL(upload.headers.get('location')!, fx.reg.url);
    put.searchParams.set('digest', sha256(forgedDoc));
    expect((await fetch(put, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: forgedDoc })).status).toBe(201);
    artifact.layers[0] = { ...artifact.layers[0]!, digest: sha256(forgedDoc), size: forgedDoc.length };
    const forged = Buffer.from(JSON.stringify(artifact));
    expect((await fetch(`${v2}/manifests/${sha256(forged)}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: forged })).status).toBe(201);
    const swapped = { ...index, manifests: [{ ...ours, digest: sha256(forged), size: forged.length }] };
    expect((await fetch(`${v2}/manifests/${referrersTag}`, { method: 'PUT', headers: { 'content-type': OCI_INDEX }, body: JSON.stringify(swapped) })).status).toBe(201);

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
