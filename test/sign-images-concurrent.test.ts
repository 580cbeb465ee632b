// Signing several digests side by side (build --sign and index --sign sign ~15, and one after another most of such a
// run was waiting on the registry): distinct digests are signed at once, and what lands is what one signature after
// another leaves: a digest two images share is signed once under each name, its names in the loop's order (they are
// layers of one signature manifest, which each signing rewrites), and the second time a name comes it is "already
// signed", as a loop found it.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pushTargetFor } from '../src/registry/connect.js';
import { pushImage } from '../src/registry/push.js';
import { parseReference } from '../src/registry/reference.js';
import { pushReferrer, referrerArtifact } from '../src/registry/referrers.js';
import { SBOM_ARTIFACT_TYPE } from '../src/sbom/attach.js';
import { signatureTag } from '../src/sign/cosign.js';
import { signerFor, type Signer } from '../src/sign/keys.js';
import { verifyImage } from '../src/supply/image-signatures.js';
import { signImage, signImages } from '../src/supply/sign-images.js';
import { useFaultRegistry } from './support/fault-registry.js';
import { randomContent } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';

const fx = useFaultRegistry('gl-sign-images-', [
  { platform: { os: 'linux', architecture: 'amd64' }, layers: [{ files: { 'bin/server': randomContent(20_000) } }] },
  { platform: { os: 'linux', architecture: 'arm64' }, layers: [{ files: { 'bin/server': randomContent(20_000) } }] },
]);
let key: string;
let signer: Signer;
beforeAll(async () => {
  key = path.join(await tempDir('gl-sign-images-key-'), 'key.pem');
  execFileSync('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', key]);
  signer = await signerFor(key);
});

const SIG_TAG = /\/manifests\/sha256-[0-9a-f]{64}\.sig$/;

/** The two-platform image pushed to `repo` as `a` and `b`, with an SBOM-typed artifact attached; its digest. */
async function twoTagsWithSbom(repo: string): Promise<{ sbom: string }> {
  const { registry } = fx;
  await pushImage({ layout: fx.layout, image: 'v1', to: `${registry.host}/${repo}:a`, tags: ['b'] });
  const top = fx.image.top;
  const artifact = referrerArtifact({
    artifactType: SBOM_ARTIFACT_TYPE,
    subject: { mediaType: top.mediaType, digest: top.digest, size: top.size },
    blobs: [{ mediaType: SBOM_ARTIFACT_TYPE, bytes: Buffer.from(`{"bomFormat":"CycloneDX","for":"${repo}"}`) }],
  });
  await pushReferrer(await pushTargetFor(parseReference(`${registry.host}/${repo}`), {}), repo, artifact);
  return { sbom: artifact.descriptor.digest };
}

/** The signature manifest of `digest` in `repo`: each layer's payload, the repository's name replaced by REPO. */
async function signaturePayloads(repo: string, digest: string): Promise<unknown[]> {
  const base = `${fx.registry.url}/v2/${repo}`;
  const res = await fetch(`${base}/manifests/${signatureTag(digest)}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  expect(res.status, `${repo} ${signatureTag(digest)}`).toBe(200);
  const manifest = (await res.json()) as { layers: { digest: string; mediaType: string }[] };
  const payloads = [];
  for (const l of manifest.layers) {
    const text = await (await fetch(`${base}/blobs/${l.digest}`)).text();
    payloads.push({ mediaType: l.mediaType, payload: JSON.parse(text.replaceAll(`${fx.registry.host}/${repo}`, 'REPO')) as unknown });
  }
  return payloads;
}

describe('signing several digests', () => {
  it('signs distinct digests side by side: a second signature starts while the first is held', async () => {
    const repo = 'sign-images/side-by-side';
    await pushImage({ layout: fx.layout, image: 'v1', to: `${fx.registry.host}/${repo}:v1` });
    // The first look at a signature tag waits until another digest's is asked for: one after another, it never is
    // (and the test times out there).
    let another!: () => void;
    const asked = new Promise<void>((r) => (another = r));
    fx.proxy.setRules([
      { method: 'GET', path: SIG_TAG, action: { kind: 'hold', until: asked } },
      { method: 'GET', path: SIG_TAG, action: { kind: 'around', before: async () => another() } },
    ]);
    const signed = await signImage({ ref: `${fx.proxy.host}/${repo}:v1`, signer });
    expect(fx.proxy.fired).toEqual([1, 1]);
    expect(signed.signed.map((s) => [s.what, s.upToDate])).toEqual([
      ['image', false],
      ['platform manifest', false],
      ['platform manifest', false],
    ]);
    const v = await verifyImage({ ref: `${fx.proxy.host}/${repo}:v1`, key: await signer.publicKey() });
    expect(v.problems).toEqual([]);
  }, 60_000);

  it('a digest two images share: signed once under each name, in the loop\'s order; the shared SBOM is "already signed" the second time', async () => {
    const together = 'sign-images/together';
    const oneByOne = 'sign-images/one-by-one';
    const { sbom } = await twoTagsWithSbom(together);
    const { sbom: sbom2 } = await twoTagsWithSbom(oneByOne);
    const refs = (repo: string) => ['a', 'b'].map((t) => `${fx.registry.host}/${repo}:${t}`);
    const results = await signImages({ refs: refs(together), signer, madeHere: new Set([sbom]) });
    const sequential = await signImages({ refs: refs(oneByOne), signer, madeHere: new Set([sbom2]), concurrency: 1 });
    const shape = (r: typeof results) => r.map((i) => i.signed.map((s) => [s.what, s.upToDate, s.identity.replace(/\/sign-images\/[a-z-]+/, '/REPO')]));
    expect(shape(results)).toEqual([
      [
        ['image', false, `${fx.registry.host}/REPO:a`],
        ['platform manifest', false, `${fx.registry.host}/REPO:a`],
        ['platform manifest', false, `${fx.registry.host}/REPO:a`],
        ['sbom', false, `${fx.registry.host}/REPO`],
      ],
      [
        ['image', false, `${fx.registry.host}/REPO:b`],
        ['platform manifest', false, `${fx.registry.host}/REPO:b`],
        ['platform manifest', false, `${fx.registry.host}/REPO:b`],
        ['sbom', true, `${fx.registry.host}/REPO`],
      ],
    ]);
    expect(shape(sequential)).toEqual(shape(results));
    expect(results[1]!.signed[3]!.bytesSent).toBe(0);

    // Each digest's signature manifest: both names, a's first (none lost to the other's rewrite), as one by one.
    const digests = [fx.image.top.digest, ...fx.image.images.map((i) => i.manifest.digest)];
    for (const d of digests) {
      const payloads = await signaturePayloads(together, d);
      expect(payloads.map((p) => (p as { payload: { critical: { identity: { 'docker-reference': string } } } }).payload.critical.identity['docker-reference'])).toEqual(['REPO:a', 'REPO:b']);
      expect(payloads).toEqual(await signaturePayloads(oneByOne, d));
    }
    expect(await signaturePayloads(together, sbom)).toHaveLength(1);

    // Every signature verifies (the SBOM here is a stand-in document: its schema check is not this test's).
    for (const t of ['a', 'b']) {
      const v = await verifyImage({ ref: `${fx.registry.host}/${together}:${t}`, key: await signer.publicKey() });
      expect(v.items.map((i) => [i.what, i.verified])).toEqual([['image', true], ['platform manifest', true], ['platform manifest', true], ['sbom', true]]);
    }
    // Again: nothing new.
    const again = await signImages({ refs: refs(together), signer, madeHere: new Set([sbom]) });
    expect(again.flatMap((i) => i.signed).every((s) => s.upToDate && s.bytesSent === 0)).toBe(true);
  }, 60_000);
});
