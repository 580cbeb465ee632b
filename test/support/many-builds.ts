// A repository of many builds made cheaply: every manifest is a small OCI index (no blobs), PUT straight through the
// distribution API. Each build has its record tag (`<tag>.gamelayer-record`, created time in its annotations), its
// image tag and four tree-image tags; tree images that "did not change" between builds share a digest, as real
// builds' do. A few line tags, cosign-style signature tags and referrers indexes are mixed in, so prune meets every
// kind of tag it reads. Used by test/prune-many-tags.test.ts, test/prune-ecr-many.test.ts and bench/prune.ts.
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const TREES = ['engine', 'engine-media', 'app', 'app-media'];

export interface ManyBuilds {
  /** Build tags, oldest first. */
  builds: string[];
  /** Tags written in all. */
  tags: number;
}

function index(annotations: Record<string, string>, manifests: { digest: string; size: number }[] = []): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: manifests.map((m) => ({ mediaType: INDEX, ...m })), annotations }));
}

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** `count` builds in `repo` at `url` (http://host:port, `headers` for its auth); build i is created i minutes after a fixed start. */
export async function writeManyBuilds(url: string, repo: string, count: number, opts: { concurrency?: number; headers?: Record<string, string> } = {}): Promise<ManyBuilds> {
  const limit = pLimit(opts.concurrency ?? 16);
  const put = async (ref: string, body: Buffer) => {
    const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, { method: 'PUT', headers: { ...opts.headers, 'content-type': INDEX }, body: new Uint8Array(body) });
    if (res.status !== 201) throw new Error(`PUT ${repo}:${ref}: ${res.status} ${await res.text()}`);
  };
  const start = Date.parse('2026-01-01T00:00:00Z');
  const builds: string[] = [];
  const writes: [string, Buffer][] = [];
  for (let i = 0; i < count; i++) {
    const tag = `b${String(i).padStart(5, '0')}`;
    builds.push(tag);
    // Two builds share one creation time now and then (ties go by tag); engine changes every 10th build only.
    const created = new Date(start + Math.floor(i - (i % 7 === 6 ? 1 : 0)) * 60_000).toISOString();
    const trees = TREES.map((t) => {
      const version = t === 'engine' || t === 'engine-media' ? Math.floor(i / 10) : t === 'app' ? Math.floor(i / 3) : i;
      return index({ 'gamelayer.tree': t, 'gamelayer.version': String(version) });
    });
    const image = index({ 'gamelayer.image': tag }, trees.map((b) => ({ digest: digestOf(b), size: b.length })));
    for (const [j, t] of TREES.entries()) writes.push([`${tag}-${t}`, trees[j]!]);
    writes.push([tag, image]);
    writes.push([`${tag}.gamelayer-record`, index({ 'org.opencontainers.image.created': created, 'gamelayer.record': tag })]);
    // Every 5th build's image is signed, every 9th has a referrers index listing an SBOM with its own signature.
    if (i % 5 === 0) writes.push([`${digestOf(image).replace(':', '-')}.sig`, index({ 'gamelayer.signature': tag })]);
    if (i % 9 === 0) {
      const sbom = index({ 'gamelayer.sbom': tag });
      writes.push([digestOf(sbom), sbom]); // untagged, as cosign attaches it
      writes.push([`${digestOf(sbom).replace(':', '-')}.sig`, index({ 'gamelayer.signature': `${tag} sbom` })]);
      writes.push([digestOf(image).replace(':', '-'), index({}, [{ digest: digestOf(sbom), size: sbom.length }])]);
    }
  }
  // What lists nothing first: an index PUT needs the manifests it lists.
  const lists = (b: Buffer) => (JSON.parse(b.toString('utf8')) as { manifests: unknown[] }).manifests.length > 0;
  for (const phase of [writes.filter(([, b]) => !lists(b)), writes.filter(([, b]) => lists(b))]) {
    await Promise.all(phase.map(([t, b]) => limit(() => put(t, b))));
  }
  return { builds, tags: writes.filter(([ref]) => !ref.startsWith('sha256:')).length };
}

/** Points `gamelayer-line.<line>` at build `tag`'s record. */
export async function writeLineTag(url: string, repo: string, line: string, tag: string, headers: Record<string, string> = {}): Promise<void> {
  const got = await fetch(`${url}/v2/${repo}/manifests/${tag}.gamelayer-record`, { headers: { ...headers, accept: INDEX } });
  if (got.status !== 200) throw new Error(`GET ${repo}:${tag}.gamelayer-record: ${got.status}`);
  const res = await fetch(`${url}/v2/${repo}/manifests/gamelayer-line.${line}`, { method: 'PUT', headers: { ...headers, 'content-type': INDEX }, body: Buffer.from(await got.arrayBuffer()) });
  if (res.status !== 201) throw new Error(`PUT line tag ${line}: ${res.status}`);
}
