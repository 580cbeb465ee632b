// Pull cost from the registry's own manifests: the compressed bytes a node that runs the old images has to
// download to run the new ones (layers whose digest it does not hold yet; a node keeps blobs by digest).
export interface LayerRef {
  digest: string;
  size: number;
}

const ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

interface ManifestDoc {
  layers?: LayerRef[];
  manifests?: (LayerRef & { platform?: { os?: string; architecture?: string } })[];
}

async function getManifest(registryUrl: string, repo: string, ref: string): Promise<ManifestDoc> {
  const res = await fetch(`${registryUrl}/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } });
  if (!res.ok) throw new Error(`GET ${registryUrl}/v2/${repo}/manifests/${ref}: HTTP ${res.status}`);
  return (await res.json()) as ManifestDoc;
}

/** The layers of `repo:tag` (of its linux/amd64 manifest when it is an index). */
export async function imageLayers(registryUrl: string, repo: string, tag: string): Promise<LayerRef[]> {
  let doc = await getManifest(registryUrl, repo, tag);
  if (doc.manifests) {
    const m = doc.manifests.find((d) => d.platform?.os === 'linux' && d.platform.architecture === 'amd64') ?? doc.manifests[0];
    if (!m) throw new Error(`${repo}:${tag}: empty index`);
    doc = await getManifest(registryUrl, repo, m.digest);
  }
  return (doc.layers ?? []).map((l) => ({ digest: l.digest, size: l.size }));
}

/** Bytes of the distinct layers of `next` (all of a set of images) that are not among `held`. */
export function pullBytes(held: LayerRef[], next: LayerRef[]): number {
  const have = new Set(held.map((l) => l.digest));
  const seen = new Set<string>();
  let bytes = 0;
  for (const l of next) {
    if (have.has(l.digest) || seen.has(l.digest)) continue;
    seen.add(l.digest);
    bytes += l.size;
  }
  return bytes;
}
