// A forger's SBOM for an image `build --sbom` pushed to a test registry: the build's document copied with one file's
// sha256 changed (still CycloneDX of this image), attached as an artifact of its own carrying the build's
// annotations (gamelayer's key copied). Nothing is listed yet: the caller puts the referrers index it wants.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface ForgedSbom {
  /** The image's digest (tag `tag` in `name`). */
  image: string;
  /** The referrers tag (`sha256-<hex>`) the build listed its SBOM under. */
  referrersTag: string;
  index: { manifests: { digest: string; size: number }[] };
  /** The build's SBOM entry of that index. */
  ours: { digest: string; size: number };
  /** The forged artifact manifest's bytes (stored in the registry). */
  forged: Buffer;
  /** Puts the referrers index again with these entries. */
  putIndex(manifests: { digest: string; size: number; mediaType?: string; artifactType?: string }[]): Promise<Response>;
}

/** Forges, in `registryUrl`'s repository `name`, an SBOM of the image tagged `tag` beside the build's one. */
export async function forgeSbom(registryUrl: string, name: string, tag: string): Promise<ForgedSbom> {
  const v2 = `${registryUrl}/v2/${name}`;
  const image = (await fetch(`${v2}/manifests/${tag}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest')!;
  const referrersTag = image.replace(':', '-');
  const index = (await (await fetch(`${v2}/manifests/${referrersTag}`, { headers: { accept: OCI_INDEX } })).json()) as ForgedSbom['index'];
  expect(index.manifests).toHaveLength(1);
  const ours = index.manifests[0]!;
  const artifact = (await (await fetch(`${v2}/manifests/${ours.digest}`, { headers: { accept: OCI_MANIFEST } })).json()) as { layers: { digest: string; size: number }[] };
  const real = await (await fetch(`${v2}/blobs/${artifact.layers[0]!.digest}`)).text();
  const at = real.indexOf('"content":"', real.indexOf('"type":"file"')) + '"content":"'.length;
  expect(at).toBeGreaterThan(20);
  const forgedDoc = Buffer.from(real.slice(0, at) + 'f'.repeat(64) + real.slice(at + 64));
  const upload = await fetch(`${v2}/blobs/uploads/`, { method: 'POST' });
  const put = new URL(upload.headers.get('location')!, registryUrl);
  put.searchParams.set('digest', sha256(forgedDoc));
  expect((await fetch(put, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: forgedDoc })).status).toBe(201);
  artifact.layers[0] = { ...artifact.layers[0]!, digest: sha256(forgedDoc), size: forgedDoc.length };
  const forged = Buffer.from(JSON.stringify(artifact));
  expect((await fetch(`${v2}/manifests/${sha256(forged)}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: forged })).status).toBe(201);
  const putIndex: ForgedSbom['putIndex'] = (manifests) =>
    fetch(`${v2}/manifests/${referrersTag}`, { method: 'PUT', headers: { 'content-type': OCI_INDEX }, body: JSON.stringify({ ...index, manifests }) });
  return { image, referrersTag, index, ours, forged, putIndex };
}
