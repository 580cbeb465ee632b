// Two hosts signing or attaching to the same image at once meet the registry race the image push meets
// (test/concurrent-push.test.ts; distribution/distribution#4478): a signature manifest or a referrer artifact PUT
// refused DIGEST_INVALID while its blobs' links read empty. The real registry gives that answer at a known point
// (the fault proxy empties the links around the PUT); the signature and the artifact must be put again and land.
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pushTargetFor } from '../src/registry/connect.js';
import { pushImage } from '../src/registry/push.js';
import { parseReference } from '../src/registry/reference.js';
import { pushReferrer, referrerArtifact } from '../src/registry/referrers.js';
import { signatureTag } from '../src/sign/cosign.js';
import { signerFor } from '../src/sign/keys.js';
import { signImage } from '../src/supply/sign-images.js';
import type { FaultProxy } from './support/fault-proxy.js';
import { useFaultRegistry } from './support/fault-registry.js';
import { randomContent, type WrittenTag } from './support/make-layout.js';
import { storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

const fx = useFaultRegistry('gl-concurrent-sign-', [{ platform: { os: 'linux', architecture: 'amd64' }, layers: [{ files: { 'bin/server': randomContent(50_000) } }] }]);
let layout: string;
let image: WrittenTag;
let reg: TestRegistry;
let proxy: FaultProxy;
let key: string;
beforeAll(async () => {
  ({ layout, image, registry: reg, proxy } = fx);
  const dir = await tempDir('gl-sign-key-');
  key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', key]);
});

const fast = { baseDelayMs: 5, maxDelayMs: 20 };
let counter = 0;
const nextRepo = () => `race-sign/game${++counter}`;

/** Empties the repository's blob links while the registry answers the PUT of `reference`, then puts them back. */
function layerLinksEmptyDuring(repo: string, reference: string) {
  const dir = path.join(reg.storageDir, 'docker/registry/v2/repositories', repo, '_layers', 'sha256');
  let saved: [string, string][] = [];
  return {
    method: 'PUT',
    path: new RegExp(`/v2/${repo}/manifests/${reference.replace(/[.]/g, '\\.')}$`),
    action: {
      kind: 'around' as const,
      before: async () => {
        saved = [];
        for (const hex of await readdir(dir)) {
          const link = path.join(dir, hex, 'link');
          saved.push([link, await readFile(link, 'utf8')]);
          await writeFile(link, '');
        }
      },
      after: async () => {
        for (const [link, text] of saved) await writeFile(link, text);
      },
    },
  };
}

describe('signatures and referrers refused while another push rewrites their blobs\' links', () => {
  it('a signature manifest refused DIGEST_INVALID is put again and tagged', async () => {
    const repo = nextRepo();
    await pushImage({ layout, to: `${reg.host}/${repo}:v1` });
    const tag = signatureTag(image.top.digest);
    proxy.setRules([layerLinksEmptyDuring(repo, tag)]);
    const signed = await signImage({ ref: `${proxy.host}/${repo}:v1`, signer: await signerFor(key), retry: fast });
    expect(proxy.fired).toEqual([1]);
    expect(signed.signed.filter((s) => !s.upToDate)).toHaveLength(1);
    expect(Object.keys(await storedTags(reg.storageDir, repo))).toContain(tag);
  });

  it('a referrer artifact refused DIGEST_INVALID is put again and listed', async () => {
    const repo = nextRepo();
    const pushed = await pushImage({ layout, to: `${reg.host}/${repo}:v1` });
    const artifact = referrerArtifact({
      artifactType: 'application/vnd.example.test+json',
      subject: { mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size },
      blobs: [{ mediaType: 'application/vnd.example.test+json', bytes: Buffer.from('{"hello":"world"}') }],
    });
    proxy.setRules([layerLinksEmptyDuring(repo, artifact.descriptor.digest)]);
    const target = await pushTargetFor(parseReference(`${proxy.host}/${repo}`), { retry: fast });
    const r = await pushReferrer(target, repo, artifact);
    expect(proxy.fired).toEqual([1]);
    expect(r.upToDate).toBe(false);
    const res = await fetch(`${reg.url}/v2/${repo}/manifests/${artifact.descriptor.digest}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status).toBe(200);
  });
});
