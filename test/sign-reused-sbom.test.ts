// `build --sbom --sign` reuses an SBOM already attached to the image under the same key annotation (same image, same
// inputs) and signed it without reading it: anyone who may push could attach a document under that annotation and get
// it signed with the studio's key. Then it was read and checked (digest, CycloneDX schema, the image it names), which
// a well-formed forged document of this image passes. Now an SBOM this key has not signed is reused only when it is
// byte for byte the document the build makes (made and compared); any other under the key annotation is replaced.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';

const fx = useSigningFixture('gl-sign-reused-sbom-');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * Swaps the SBOM `build --sbom` attached to `repo:tag` for `forge(its document)`, its artifact keeping every
 * annotation (the key); returns the image, the forged artifact's digest and the genuine document.
 */
async function swapSbom(name: string, tag: string, forge: (doc: Buffer) => Buffer): Promise<{ image: string; forged: string; genuine: Buffer }> {
  const v2 = `${fx.reg.url}/v2/${name}`;
  const image = (await fetch(`${v2}/manifests/${tag}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest')!;
  const referrersTag = image.replace(':', '-');
  const index = (await (await fetch(`${v2}/manifests/${referrersTag}`, { headers: { accept: OCI_INDEX } })).json()) as { manifests: { digest: string; size: number; annotations?: Record<string, string> }[] };
  expect(index.manifests).toHaveLength(1);
  const ours = index.manifests[0]!;
  expect(ours.annotations?.['dev.gamelayer.sbom.key']).toMatch(/^sha256:/);
  const artifact = (await (await fetch(`${v2}/manifests/${ours.digest}`, { headers: { accept: OCI_MANIFEST } })).json()) as { layers: { digest: string; size: number }[] };
  const genuine = Buffer.from(await (await fetch(`${v2}/blobs/${artifact.layers[0]!.digest}`)).arrayBuffer());
  const lie = forge(genuine);
  const upload = await fetch(`${v2}/blobs/uploads/`, { method: 'POST' });
  const at = new URL(upload.headers.get('location')!, fx.reg.url);
  at.searchParams.set('digest', sha256(lie));
  expect((await fetch(at, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(lie) })).status).toBe(201);
  artifact.layers[0] = { ...artifact.layers[0]!, digest: sha256(lie), size: lie.length };
  const tampered = Buffer.from(JSON.stringify(artifact));
  expect((await fetch(`${v2}/manifests/${sha256(tampered)}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: tampered })).status).toBe(201);
  index.manifests = [{ ...ours, digest: sha256(tampered), size: tampered.length }];
  expect((await fetch(`${v2}/manifests/${referrersTag}`, { method: 'PUT', headers: { 'content-type': OCI_INDEX }, body: JSON.stringify(index) })).status).toBe(201);
  expect((await fetch(`${v2}/manifests/${ours.digest}`, { method: 'DELETE' })).status).toBe(202);
  return { image, forged: sha256(tampered), genuine };
}

/** The SBOMs the referrers tag of `image` lists. */
async function listed(name: string, image: string): Promise<string[]> {
  const index = (await (await fetch(`${fx.reg.url}/v2/${name}/manifests/${image.replace(':', '-')}`, { headers: { accept: OCI_INDEX } })).json()) as { manifests: { digest: string }[] };
  return index.manifests.map((m) => m.digest);
}

describe('build --sbom --sign with an SBOM someone else attached under the matching key annotation', () => {
  // The key annotation is a copy, and the document is not the one this build makes: reused and signed before, the
  // build vouched for a document it did not make. Now the build makes its own, compares, and replaces the other.
  for (const [what, forge] of [
    ['a document of another format', () => Buffer.from(JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'not what was built' }))],
    // Well-formed CycloneDX of this image (passes verify's checks), one file's hash changed: what a forger would attach.
    ['a well-formed CycloneDX document of this image listing another hash', (doc: Buffer) => Buffer.from(doc.toString('utf8').replace(/"content":"[0-9a-f]{64}"/, `"content":"${'e'.repeat(64)}"`))],
  ] as const) {
    it(`${what}: not reused nor signed, replaced by the build's own`, async () => {
      const dir = path.join(fx.root, `game-${what.length}`);
      await writeGame(dir);
      const name = `studio/forged-${what.length}`;
      const repo = `${fx.reg.host}/${name}`;
      const v2 = `${fx.reg.url}/v2/${name}`;
      const key = path.join(fx.root, 'key.pem');
      const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom'], { cwd: dir });
      expect(built.code, built.stderr).toBe(0);
      const { image, forged, genuine } = await swapSbom(name, 'v1', forge);
      expect((await runCli(['sbom', `${repo}:v1`], { cwd: dir })).code === 0).toBe(what.startsWith('a well-formed'));

      // The same content under a new tag, signed: the build's SBOM key matches the forged one's annotation.
      const again = await runCli(['build', '-t', 'v2', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`it replaces ${forged}`);
      const now = await listed(name, image);
      expect(now).toHaveLength(1);
      expect(now).not.toContain(forged);
      const tags = ((await (await fetch(`${v2}/tags/list`)).json()) as { tags: string[] }).tags;
      expect(tags).not.toContain(`${forged.replace(':', '-')}.sig`);
      const out = path.join(dir, 'signed.cdx.json');
      const signed = await runCli(['sbom', `${repo}:v2`, '--key', path.join(fx.root, 'pub.pem'), '-o', out], { cwd: dir });
      expect(signed.code, signed.stderr).toBe(0);
      expect((await readFile(out)).equals(genuine)).toBe(true);
      const verified = await runCli(['verify', `${repo}:v2`, '--key', path.join(fx.root, 'pub.pem'), '--require-sbom'], { cwd: dir });
      expect(verified.code, verified.stderr).toBe(0);
    });
  }
});

describe('build --sbom --sign reusing its own SBOM', () => {
  const behind = useRegistryBehindFaultProxy();

  it('does not read back an SBOM it made, one this key signed, or one it will not sign', async () => {
    const dir = path.join(fx.root, 'game-own');
    await writeGame(dir);
    const repo = `${behind.proxy.host}/studio/own`;
    const key = path.join(fx.root, 'key.pem');
    // v1 signs the SBOM it made (not read back); v2 is another tag of the same content: reused, already signed by
    // this key, so neither read nor signed again; v3 the same without --sign: the annotation is enough.
    for (const [tag, sign] of [['v1', true], ['v2', true], ['v3', false]] as const) {
      const before = behind.proxy.seen.length;
      const r = await runCli(['build', '-t', tag, '--push', repo, '--sbom', ...(sign ? ['--sign', key] : [])], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const gets = behind.proxy.seen.slice(before).filter((q) => q.method === 'GET' && /\/blobs\/sha256:/.test(q.path));
      const sbomLayer = await sbomLayerDigest(behind.registry.url, 'studio/own', tag);
      expect(gets.map((g) => g.path), tag).not.toContain(`/v2/studio/own/blobs/${sbomLayer}`);
    }
  });
});

/** The digest of the SBOM document attached to the image `tag` names (the first SBOM referrer's layer). */
async function sbomLayerDigest(registryUrl: string, name: string, tag: string): Promise<string> {
  const v2 = `${registryUrl}/v2/${name}`;
  const image = (await fetch(`${v2}/manifests/${tag}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest')!;
  const index = (await (await fetch(`${v2}/manifests/${image.replace(':', '-')}`, { headers: { accept: OCI_INDEX } })).json()) as { manifests: { digest: string }[] };
  expect(index.manifests).toHaveLength(1);
  const artifact = (await (await fetch(`${v2}/manifests/${index.manifests[0]!.digest}`, { headers: { accept: OCI_MANIFEST } })).json()) as { layers: { digest: string }[] };
  return artifact.layers[0]!.digest;
}
