// readRegistryImage (the library's registry source) fed manifests of the wrong shape by a registry: `null`, a
// `layers` that is no list, a `manifests` entry that is no descriptor, a size that is a string, a config that is
// `null`. Each was `error[internal]` (a TypeError where a field was taken on trust); each is now `registry.protocol`
// naming the image as asked for and the field, with the same checks the local layout reader makes
// (src/oci/document-shape.ts).
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { RegistryClient } from '../src/registry/client.js';
import { readRegistryImage } from '../src/registry/image-source.js';

const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

const blobs = new Map<string, Buffer>();
const tags = new Map<string, string>();

function put(v: unknown): { digest: string; size: number } {
  const bytes = Buffer.from(JSON.stringify(v));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  blobs.set(digest, bytes);
  return { digest, size: bytes.length };
}

/** Tags `tag` as the document `v` (any JSON) and returns its digest. */
function tag(name: string, v: unknown): string {
  const { digest } = put(v);
  tags.set(name, digest);
  return digest;
}

const server = createServer((req, res) => {
  const ref = /^\/v2\/studio\/game\/manifests\/(.+)$/.exec(req.url ?? '')?.[1];
  const blob = /^\/v2\/studio\/game\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
  if (req.url === '/v2/') return res.writeHead(200).end('{}');
  const digest = blob ?? (ref && (tags.get(ref) ?? ref));
  const bytes = digest ? blobs.get(digest) : undefined;
  if (!digest || !bytes) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': blob ? 'application/octet-stream' : MT.manifest, 'docker-content-digest': digest, 'content-length': bytes.length }).end(bytes);
});

let host: string;
let client: RegistryClient;
const config = put({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${'1'.repeat(64)}`] } });
const configDescriptor = { mediaType: MT.config, ...config };
const layer = { mediaType: MT.layer, digest: `sha256:${'2'.repeat(64)}`, size: 10 };

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new RegistryClient({ host, retry: { attempts: 1 } });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function refusal(reference: string): Promise<GamelayerError> {
  const e = await readRegistryImage(client, 'studio/game', reference).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(GamelayerError);
  return e as GamelayerError;
}

describe('readRegistryImage refuses a badly shaped document as registry.protocol, naming the image and the field', () => {
  it('a manifest that is null', async () => {
    const d = tag('null', null);
    const e = await refusal('null');
    expect(e.code).toBe('registry.protocol');
    expect(e.message).toBe(`${host}/studio/game:null (${d}): not a manifest or an index`);
  });

  it('layers: {} (not a list)', async () => {
    const d = tag('layers-object', { schemaVersion: 2, mediaType: MT.manifest, config: configDescriptor, layers: {} });
    const e = await refusal('layers-object');
    expect(e.code).toBe('registry.protocol');
    expect(e.message).toBe(`${host}/studio/game:layers-object (${d}): layers: not a list`);
  });

  it('manifests: [null]', async () => {
    const d = tag('null-child', { schemaVersion: 2, mediaType: MT.index, manifests: [null] });
    const e = await refusal('null-child');
    expect(e.code).toBe('registry.protocol');
    expect(e.message).toBe(`${host}/studio/game:null-child (${d}): manifests[0]: not a descriptor object`);
  });

  it('a layer whose size is "1"', async () => {
    const d = tag('size-string', { schemaVersion: 2, mediaType: MT.manifest, config: configDescriptor, layers: [{ ...layer, size: '1' }] });
    const e = await refusal('size-string');
    expect(e.code).toBe('registry.protocol');
    expect(e.message).toBe(`${host}/studio/game:size-string (${d}): layers[0]: size "1" is not a byte count`);
  });

  it('a config descriptor without a digest, in a manifest an index lists (named under the image asked for)', async () => {
    const child = put({ schemaVersion: 2, mediaType: MT.manifest, config: { mediaType: MT.config, size: 2 }, layers: [layer] });
    tag('child-bad', { schemaVersion: 2, mediaType: MT.index, manifests: [{ mediaType: MT.manifest, ...child }] });
    const e = await refusal('child-bad');
    expect(e.code).toBe('registry.protocol');
    expect(e.message).toBe(`${host}/studio/game@${child.digest} (listed by ${host}/studio/game:child-bad): config: digest undefined is not a sha256 digest`);
  });

  it('a config blob that is null, or whose diff_ids is no list of digests', async () => {
    for (const [name, body, why] of [
      ['config-null', null, 'not a JSON object'],
      ['diff-ids-string', { rootfs: { diff_ids: 'sha256:x' } }, 'rootfs.diff_ids: not a list of digests'],
      ['diff-ids-number', { rootfs: { diff_ids: [1] } }, 'rootfs.diff_ids: not a list of digests'],
    ] as const) {
      const c = put(body);
      const d = tag(name, { schemaVersion: 2, mediaType: MT.manifest, config: { mediaType: MT.config, ...c }, layers: [layer] });
      const e = await refusal(name);
      expect(e.code, name).toBe('registry.protocol');
      expect(e.message, name).toBe(`${host}/studio/game:${name} (${d}) config ${c.digest}: ${why}`);
    }
  });

  it('a sound manifest is read as before', async () => {
    tag('sound', { schemaVersion: 2, mediaType: MT.manifest, config: configDescriptor, layers: [layer] });
    const image = await readRegistryImage(client, 'studio/game', 'sound');
    expect(image.kind).toBe('image');
    if (image.kind === 'image') expect(image.layers.map((l) => [l.digest, l.diffID])).toEqual([[layer.digest, `sha256:${'1'.repeat(64)}`]]);
  });
});
