// An OCI layout whose image is an index listing the same index twice, that one listing another twice, and so on: a
// few KiB of JSON, but 2^depth manifests once each listing is read. `push --store` (and load, run-local, attach) read
// the image so, each listing anew: at depth 16 the read took 12 s, at depth 30 it ran for ever with its memory
// growing. The read now stops past MAX_MANIFESTS listings under one image, naming the image and an index.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_MANIFESTS } from '../src/oci/layout.js';
import { RegistryClient } from '../src/registry/client.js';
import { readRegistryImage } from '../src/registry/image-source.js';
import { useReapedCli } from './support/reaped-cli.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const run = useReapedCli();

const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

/** A layout tagged `t`: one image, under `depth` indexes that each list the one below `fanout` times. */
async function nestedLayout(dir: string, depth: number, fanout: number): Promise<string> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(path.join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const tar = Buffer.alloc(1024);
  const layer = await put(gzipSync(tar));
  const diffID = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const config = await put(json({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffID] } }));
  const manifest = await put(json({ schemaVersion: 2, mediaType: MT.manifest, config: { mediaType: MT.config, ...config }, layers: [{ mediaType: MT.layer, ...layer }] }));
  let top: Record<string, unknown> = { mediaType: MT.manifest, ...manifest, platform: { architecture: 'amd64', os: 'linux' } };
  for (let i = 0; i < depth; i++) {
    const index = await put(json({ schemaVersion: 2, mediaType: MT.index, manifests: Array.from({ length: fanout }, () => top), annotations: { level: String(i) } }));
    top = { mediaType: MT.index, ...index };
  }
  await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': 't' } }] }));
  return top.digest as string;
}

async function game(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: fanout', 'start: [/opt/local/engine/run]']);
  return dir;
}

const UNREACHABLE = ['127.0.0.1:9/studio/game'];
const ONE_TRY = { env: { GAMELAYER_REGISTRY_RETRIES: '1' } };

describe('an index that lists the same index again and again', () => {
  it('30 deep, 2 each (2^30 listings): push --store refuses it at once, naming the image (was: ran for ever)', async () => {
    const dir = await game('gl-fanout-deep-');
    const top = await nestedLayout(path.join(dir, 'foreign'), 30, 2);
    const r = await run(['push', '--store', 'foreign', '--image', 't', ...UNREACHABLE], dir, ONE_TRY);
    expect(r.stderr).toContain(
      `error[layout.invalid]: ${path.join(dir, 'foreign', 'index.json')}: image t (${top}): lists more than ${MAX_MANIFESTS} manifests, counting those its nested indexes list (index sha256:`,
    );
    expect(r.code).toBe(1);
  });

  it('2 deep, 3 each (9 listings) is read as before: the push goes on to the registry', async () => {
    const dir = await game('gl-fanout-sane-');
    await nestedLayout(path.join(dir, 'foreign'), 2, 3);
    const r = await run(['push', '--store', 'foreign', '--image', 't', ...UNREACHABLE], dir, ONE_TRY);
    expect(r.stderr).toContain('error[registry.unreachable]');
    expect(r.code).toBe(1);
  });
});

describe('the same index served by a registry (readRegistryImage, the library\'s registry source)', () => {
  it('30 deep, 2 each: refused once past MAX_MANIFESTS reads, naming the image (was: 2^30 GETs)', async () => {
    const layout = await tempDir('gl-fanout-registry-');
    const top = await nestedLayout(layout, 30, 2);
    let gets = 0;
    // Serves the layout's blobs by digest (as manifests and as blobs), and `t` as the top index.
    const server = createServer((req, res) => {
      const ref = /^\/v2\/studio\/game\/manifests\/(.+)$/.exec(req.url ?? '')?.[1];
      const blob = /^\/v2\/studio\/game\/blobs\/(sha256:[0-9a-f]{64})$/.exec(req.url ?? '')?.[1];
      if (req.url === '/v2/') return res.writeHead(200).end('{}');
      if (blob) return void readFile(path.join(layout, 'blobs', 'sha256', blob.slice(7))).then((b) => res.writeHead(200, { 'content-length': b.length }).end(b), () => res.writeHead(404).end());
      if (!ref) return res.writeHead(404).end();
      gets++;
      const digest = ref === 't' ? top : ref;
      readFile(path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length))).then(
        (bytes) => {
          const mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType: string }).mediaType;
          res.writeHead(200, { 'content-type': mediaType, 'docker-content-digest': digest, 'content-length': bytes.length }).end(bytes);
        },
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const client = new RegistryClient({ host, retry: { attempts: 1 } });
      await expect(readRegistryImage(client, 'studio/game', 't')).rejects.toThrow(
        `${host}/studio/game:t: lists more than ${MAX_MANIFESTS} manifests, counting those its nested indexes list (index sha256:`,
      );
      expect(gets).toBeLessThanOrEqual(MAX_MANIFESTS + 1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
