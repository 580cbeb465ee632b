// Local build records for the tests of what is read from a record's head (record-head.ts): as a build writes them
// now (`kind` and `store` first), larger than their head, and damaged past it.

/** A build record as its local file holds it now; `entries` makes it larger than its head. */
export function headRecord(tag: string, store: string, entries = 300): Record<string, unknown> {
  const list = Array.from({ length: entries }, (_, i) => ({ path: `levels/l${i}.dat`, type: 'file', mode: 420, size: i, xxh64: '0123456789abcdef' }));
  return {
    kind: 'build',
    store,
    schemaVersion: 1,
    game: 'g',
    version: '1',
    createdAt: '2026-12-05T00:00:00.000Z',
    tags: [tag, `${tag}-app`],
    platforms: ['linux/amd64'],
    manifests: [{ tree: 'app', entries: list, digest: 'sha256:dd', root: '/opt/local/app', source: { kind: 'dir', path: 'app' } }],
    plan: { layers: [{ tree: 'app', index: 0, entries: list, inputKey: 'k', bytes: 1 }] },
    layers: [{ tree: 'app', index: 0, inputKey: 'k', diffID: 'sha256:cc', digest: 'sha256:aa', size: 3, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    images: [{ name: 'server', digest: `sha256:${tag}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' }],
  };
}

/** The record's text with everything after its tags damaged (its head intact). */
export function damagedAfterHead(r: Record<string, unknown>): string {
  const text = JSON.stringify(r);
  return `${text.slice(0, text.indexOf('"platforms"'))}\u0000 damaged`;
}
