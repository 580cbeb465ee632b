// A token service's answer is anyone's JSON: `null`, a token that is an object or a number, or one holding a CR/LF.
// Each was used as it came: `null` failed as error[internal], an object went out as "Bearer [object Object]" (and was
// then reported as our credentials refused), a CR/LF failed in Node's header check as a network error to retry later.
// Now each is registry.auth naming the token service and what its answer held; a sound token still works.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';

let server: Server;
let host = '';
/** What the token service answers next (the JSON text). */
let answer = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const realm = `http://${host}/token`;
    if (req.url!.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    } else if (req.headers.authorization === 'Bearer good.token') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name: 'game', tags: [] }));
    } else {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="tokens"`, 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const ls = () => runCli(['ls', `${host}/game`], { env: { GAMELAYER_REGISTRY_RETRIES: '1' } });

describe('a token service answering what is not a token', () => {
  const cases: [string, string, string][] = [
    ['null', 'null', 'answered null, not a JSON object'],
    ['a token that is an object', '{"token":{"a":1}}', 'answered a token that is an object, not a string'],
    ['an access_token that is a number', '{"access_token":12345}', 'answered an access_token that is a number, not a string'],
    ['a token holding CR LF (a header of its own)', '{"token":"abc\\r\\nX-Injected: 1"}', 'answered a token with characters a header cannot carry (only visible ASCII can)'],
  ];
  for (const [name, json, said] of cases) {
    it(`${name}: registry.auth naming the token service`, async () => {
      answer = json;
      const r = await ls();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error[registry.auth]: ${host}: token service http://${host}/token ${said}`);
    });
  }

  it('a sound token is taken (control)', async () => {
    answer = '{"token":"good.token"}';
    const r = await ls();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
