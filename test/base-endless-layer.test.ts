// A base image's layer is copied into the store as it downloads. The store checked the size its manifest names only
// once the stream had ended: a registry (or something between) sending a layer without end filled the disk before
// anything was said. The copy now stops at the first byte past the named size, naming the blob; nothing is stored.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const NAMED_SIZE = 10;
/** What the server sends at most for the layer: far more than its manifest names. */
const SENT_AT_MOST = 256 << 20;

const layerDigest = sha256('the layer the manifest names');
const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256('its tar')] } }));
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: NAMED_SIZE }],
  }),
);

let server: Server;
let host: string;
let layerBytesSent = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') return res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (url === '/v2/base/manifests/v1' || url === `/v2/base/manifests/${sha256(manifest)}`) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': sha256(manifest), 'content-length': manifest.length });
      return res.end(req.method === 'HEAD' ? undefined : manifest);
    }
    if (url === `/v2/base/blobs/${sha256(config)}`) return res.writeHead(200, { 'content-length': config.length }).end(config);
    if (url === `/v2/base/blobs/${layerDigest}`) {
      // No length, no end in sight: 1 MiB at a time while the client reads, up to SENT_AT_MOST.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(1 << 20, 7);
      const more = () => {
        while (layerBytesSent < SENT_AT_MOST && !res.destroyed) {
          layerBytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('close', () => res.destroy());
      return more();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('a base layer the registry sends without end', () => {
  it('stops at the first byte past the size its manifest names, naming the blob; nothing is stored', async () => {
    const dir = await tempDir('gl-base-endless-');
    await writeTinyGame(dir, ['game: endless-base', 'start: [/opt/local/engine/run]', `baseImage: ${host}/base:v1`]);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(`error[base.blob-corrupt]: base image ${host}/base:v1: the registry sent blob ${layerDigest}: more than ${NAMED_SIZE} bytes`);
    expect(r.code).toBe(1);
    // The download stopped near its start (the old code read all 256 MiB into a temp file, then compared sizes).
    expect(layerBytesSent).toBeLessThan(SENT_AT_MOST / 4);
    const blobs = await readdir(path.join(dir, '.gamelayer', 'oci', 'blobs', 'sha256')).catch(() => [] as string[]);
    expect(blobs).not.toContain(layerDigest.slice('sha256:'.length));
  });
});
