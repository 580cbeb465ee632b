// A request the registry sent to another host (a blob's storage redirect, as ECR's to S3) that failed there was
// said as the registry's failure: "<registry> refused the connection: is the registry running?", when the registry
// answered and the host it named did not. The host the request went to is named, and who sent it there.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../src/registry/client.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';

const net = useRegistryBehindFaultProxy();

/** A loopback port nothing listens on: a server's, closed. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('a storage redirect to a host that refuses', () => {
  it('names that host and the registry that sent the request there', async () => {
    const away = `127.0.0.1:${await closedPort()}`;
    net.proxy.setRules([{ method: 'GET', path: /\/blobs\/sha256:/, count: 100, action: { kind: 'redirect', status: 307, location: (p) => `http://${away}${p}` } }]);
    const client = new RegistryClient({ host: net.proxy.host, retry: { attempts: 1 } });
    const digest = `sha256:${'a'.repeat(64)}`;
    const read = client.getBlob('studio/x', digest);
    await expect(read).rejects.toMatchObject({ code: 'registry.unreachable' });
    await expect(client.getBlob('studio/x', digest)).rejects.toThrow(`download blob ${digest} from ${net.proxy.host}/studio/x (sent to ${away} by ${net.proxy.host}): ${away} refused the connection`);
    net.proxy.setRules([]);
  });
});
