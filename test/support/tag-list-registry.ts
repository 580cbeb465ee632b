// A registry without auth that answers just what `gamelayer ls HOST/game` asks (`/v2/` and the tag list, tag `v1`):
// for tests of what happens before and around the requests (credentials, flags), not of the registry.
import { createServer } from 'node:http';
import { afterAll, beforeAll } from 'vitest';

/** Starts it before the file's tests and stops it after; `host()` is its `127.0.0.1:PORT`. */
export function useTagListRegistry(): { host: () => string } {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url!.startsWith('/v2/game/tags/list') ? JSON.stringify({ name: 'game', tags: ['v1'] }) : '{}');
  });
  let host = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { host: () => host };
}
