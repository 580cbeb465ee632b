// Registries send blob reads elsewhere (ECR answers with a 307 to a pre-signed S3 URL): the credentials for the
// registry must never follow. A registry with Basic auth sits behind a proxy that redirects every blob read to a
// storage server on another loopback host (127.0.0.2); what that host receives is recorded and checked.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../src/registry/client.js';
import { pushImage } from '../src/registry/index.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { addTag, randomContent, type WrittenTag } from './support/make-layout.js';
import { readStoredBlob, startRegistry, type TestRegistry } from './support/registry.js';

let work: string;
let image: WrittenTag;
let reg: TestRegistry;
let proxy: FaultProxy;
let storage: Server;
let storageHost: string;
const storageSeen: { path: string; headers: IncomingHttpHeaders }[] = [];
const REPO = 'redirect/game';

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-redirect-'));
  const layout = path.join(work, 'layout');
  image = await addTag(layout, 'v1', [{ layers: [{ files: { 'bin/server': randomContent(200_000) } }] }]);
  reg = await startRegistry({ auth: 'basic' });
  proxy = await startFaultProxy(reg.host);
  // "S3": serves a blob's bytes from the registry's storage, by the digest in its path, to anyone who asks.
  storage = createServer((req, res) => {
    storageSeen.push({ path: req.url ?? '', headers: req.headers });
    const digest = /\/(sha256:[0-9a-f]{64})/.exec(req.url ?? '')?.[1];
    void (digest ? readStoredBlob(reg.storageDir, digest) : Promise.resolve(undefined)).then((bytes) => {
      if (!bytes) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) });
      res.end(bytes);
    });
  });
  await new Promise<void>((resolve) => storage.listen(0, '127.0.0.2', resolve));
  storageHost = `127.0.0.2:${(storage.address() as { port: number }).port}`;
  const credentials = { username: reg.users[0]!.username, password: reg.users[0]!.password };
  await pushImage({ layout, to: `${proxy.host}/${REPO}:v1`, credentials });
});
afterAll(async () => {
  await proxy?.stop();
  await reg?.stop();
  storage?.closeAllConnections();
  await new Promise<void>((resolve) => (storage ? storage.close(() => resolve()) : resolve()));
  await rm(work, { recursive: true, force: true });
});

describe('a blob read redirected to another host', () => {
  it('reaches it with no Authorization header (nor any other credential), and the bytes are the blob', async () => {
    proxy.setRules([
      {
        method: 'GET',
        path: /\/blobs\/sha256:/,
        count: 10,
        action: { kind: 'redirect', status: 307, location: (p) => `http://${storageHost}/bucket/${p.split('/blobs/')[1]}?X-Amz-Signature=abc` },
      },
    ]);
    const layer = image.images[0]!.layers[0]!;
    const client = new RegistryClient({ host: proxy.host, credentials: { username: reg.users[0]!.username, password: reg.users[0]!.password, source: 'test' } });
    await client.ping(); // as every command does first: the client learns the registry wants Basic auth
    const chunks: Buffer[] = [];
    for await (const c of await client.getBlob(REPO, layer.digest)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals((await readStoredBlob(reg.storageDir, layer.digest))!)).toBe(true);

    // Control: the registry's own host was asked with the credentials...
    const atRegistry = proxy.seen.filter((s) => s.fault !== undefined);
    expect(atRegistry).toHaveLength(1);
    expect(atRegistry[0]!.headers?.authorization).toMatch(/^Basic /);
    // ...and the other host got the request, with the signed query kept and nothing that identifies us.
    expect(storageSeen.map((s) => s.path)).toEqual([`/bucket/${layer.digest}?X-Amz-Signature=abc`]);
    const headers = storageSeen[0]!.headers;
    expect(headers.authorization).toBeUndefined();
    expect(headers['proxy-authorization']).toBeUndefined();
    expect(headers.cookie).toBeUndefined();
    expect(JSON.stringify(headers)).not.toContain(reg.users[0]!.password);
    expect(JSON.stringify(headers)).not.toContain(Buffer.from(`${reg.users[0]!.username}:${reg.users[0]!.password}`).toString('base64'));
  });
});
