// A Bearer registry whose token service refuses a request that carried no credentials: the error says none were
// given and how to give them (it said the service "refused the credentials", and hinted to check a password the
// user never passed).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { RegistryClient } from '../src/registry/client.js';

let server: http.Server;
let host: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const realm = `http://${host}/token`;
    if (req.url?.startsWith('/token')) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="test"`, 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('token service refusing an anonymous request', () => {
  it('registry.unauthorized saying no credentials were given, with how to give them', async () => {
    const client = new RegistryClient({ host });
    const e = await client.getManifest('studio/game', 'v1').then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(GamelayerError);
    expect((e as GamelayerError).code).toBe('registry.unauthorized');
    expect((e as GamelayerError).message).toBe(`${host}: the token service refused a request without credentials (HTTP 401); this registry needs them`);
    expect((e as GamelayerError).hint).toBe('pass --username USER --password-stdin, set GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD, or docker login');
  });
});
