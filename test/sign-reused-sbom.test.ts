// `build --sbom --sign` reuses an SBOM already attached to the image under the same key annotation (same image, same
// inputs) and signed it without reading it: anyone who may push could attach a document under that annotation and get
// it signed with the studio's key. Now a reused SBOM is read and checked first (digest, CycloneDX schema, the image it
// names); one that fails is not reused, and sign refuses while it is attached.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { repositoryApi } from './support/sbom-referrers.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';

const fx = useSigningFixture('gl-sign-reused-sbom-');

describe('build --sbom --sign with a tampered SBOM under the matching key annotation', () => {
  it('reads it, does not reuse it and signs nothing while it is attached', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const name = 'studio/reused';
    const repo = `${fx.reg.host}/${name}`;
    const api = repositoryApi(fx.reg.url, name);
    const key = path.join(fx.root, 'key.pem');
    const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);

    // The registry's SBOM is swapped for a document of another format, its artifact keeping every annotation (the key).
    const image = await api.imageDigest('v1');
    const index = await api.referrers(image);
    expect(index.manifests).toHaveLength(1);
    const ours = index.manifests[0]!;
    expect(ours.annotations?.['dev.gamelayer.sbom.key']).toMatch(/^sha256:/);
    const swapped = await api.attachCopy(ours, Buffer.from(JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'not what was built' })));
    await api.putReferrers(image, { ...index, manifests: [swapped] });
    const tampered = swapped.digest;

    // The same content under a new tag: the SBOM's key matches the tampered one's annotation.
    const again = await runCli(['build', '-t', 'v2', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`error[sign.sbom-invalid]: ${repo}:v2: ${repo}@${tampered}`);
    expect(again.stderr).toContain('hint: nothing was signed.');
    expect((await api.tags()).filter((t) => t.endsWith('.sig'))).toEqual([]);
    // A fresh SBOM was attached beside it (the tampered one was not reused as this build's own).
    const after = await api.referrers(image);
    expect(after.manifests.map((m) => m.digest)).toContain(tampered);
    expect(after.manifests.length).toBe(2);
  });
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
  const api = repositoryApi(registryUrl, name);
  const index = await api.referrers(await api.imageDigest(tag));
  expect(index.manifests).toHaveLength(1);
  return (await api.manifest<{ layers: { digest: string }[] }>(index.manifests[0]!.digest)).layers[0]!.digest;
}
