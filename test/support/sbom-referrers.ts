// One repository of a plain test registry read and written by hand, as the SBOM tests do to forge what anyone who may
// push could attach: an image's digest, its referrers index (the `sha256-<hex>` tag a build attaches SBOMs through),
// and a copy of the build's SBOM artifact holding another document.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface Referrer {
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ReferrersIndex {
  manifests: Referrer[];
}

/** The API of `registryUrl`'s repository `name` (`v2`: its base URL). */
export function repositoryApi(registryUrl: string, name: string) {
  const v2 = `${registryUrl}/v2/${name}`;
  const json = async <T>(url: string, accept: string) => (await (await fetch(url, { headers: { accept } })).json()) as T;
  const api = {
    v2,
    /** The digest the registry answers for a manifest reference (HEAD). */
    imageDigest: async (reference: string) => (await fetch(`${v2}/manifests/${reference}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest')!,
    /** The referrers index kept under the image's `sha256-<hex>` tag. */
    referrers: (image: string) => json<ReferrersIndex>(`${v2}/manifests/${image.replace(':', '-')}`, OCI_INDEX),
    putReferrers: async (image: string, index: ReferrersIndex) =>
      expect((await fetch(`${v2}/manifests/${image.replace(':', '-')}`, { method: 'PUT', headers: { 'content-type': OCI_INDEX }, body: JSON.stringify(index) })).status).toBe(201),
    manifest: <T>(digest: string) => json<T>(`${v2}/manifests/${digest}`, OCI_MANIFEST),
    /** The repository's tags, sorted. */
    tags: async () => ((await (await fetch(`${v2}/tags/list`)).json()) as { tags: string[] }).tags.sort(),
    /** `bytes` uploaded as a blob (POST, then PUT with the digest). */
    async putBlob(bytes: Buffer): Promise<void> {
      const upload = await fetch(`${v2}/blobs/uploads/`, { method: 'POST' });
      const at = new URL(upload.headers.get('location')!, registryUrl);
      at.searchParams.set('digest', sha256(bytes));
      expect((await fetch(at, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) })).status).toBe(201);
    },
    /**
     * A copy of the SBOM artifact `ours` (a referrer the build listed) whose document is `doc` instead, pushed by
     * digest; its referrer entry (ours's annotations kept) for the caller to list.
     */
    async attachCopy(ours: Referrer, doc: Buffer): Promise<Referrer> {
      const artifact = await api.manifest<{ layers: { digest: string; size: number }[] }>(ours.digest);
      await api.putBlob(doc);
      artifact.layers[0] = { ...artifact.layers[0]!, digest: sha256(doc), size: doc.length };
      const copy = Buffer.from(JSON.stringify(artifact));
      expect((await fetch(`${v2}/manifests/${sha256(copy)}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: new Uint8Array(copy) })).status).toBe(201);
      return { ...ours, digest: sha256(copy), size: copy.length };
    },
  };
  return api;
}
