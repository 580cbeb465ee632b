// A registry's refusal is carried as fields (HTTP status, the registry's own error code and message), and gamelayer
// branches on those, never on words found in its own message: a message that merely mentions "DENIED" or
// "already exists" decides nothing.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, RegistryError } from '../src/registry/client.js';

let server: Server;
let host: string;
/** What the server answers next: status and OCI error body. */
let answer: { status: number; body: unknown } = { status: 400, body: {} };

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function refusal(status: number, code: string, message: string): Promise<RegistryError> {
  answer = { status, body: { errors: [{ code, message }] } };
  const client = new RegistryClient({ host, retry: { attempts: 1 } });
  const e = await client.getManifest('errors/game', 'v1').then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(RegistryError);
  return e as RegistryError;
}

describe('registry refusals carry their code as a field', () => {
  it('status, code and message are fields of the error', async () => {
    const e = await refusal(400, 'MANIFEST_UNKNOWN', 'manifest unknown');
    expect({ code: e.code, status: e.status, registryCode: e.registryCode, registryMessage: e.registryMessage }).toEqual({
      code: 'registry.http',
      status: 400,
      registryCode: 'MANIFEST_UNKNOWN',
      registryMessage: 'manifest unknown',
    });
  });

  it('DENIED as the code means denied; "denied" in a message of another code does not', async () => {
    expect((await refusal(400, 'DENIED', 'requested access to the resource is denied')).code).toBe('registry.denied');
    const other = await refusal(400, 'UNSUPPORTED', 'the operation was DENIED by a policy the registry does not explain');
    expect(other.code).toBe('registry.http');
    expect(other.message).toBe(`get manifest errors/game:v1: ${host} answered HTTP 400: UNSUPPORTED the operation was DENIED by a policy the registry does not explain`);
  });

  it('NAME_UNKNOWN as the code gets the create-the-repository hint; the words in a message do not', async () => {
    expect((await refusal(404, 'NAME_UNKNOWN', 'repository name not known to registry')).hint).toMatch(/^the repository does not exist/);
    expect((await refusal(404, 'MANIFEST_UNKNOWN', 'not NAME_UNKNOWN but a missing tag')).hint).toBeUndefined();
  });
});
