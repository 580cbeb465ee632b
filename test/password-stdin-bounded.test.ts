// --password-stdin read stdin whole, without a bound: `--password-stdin < /dev/zero` (or `yes | gamelayer …`) grew
// without end until the process was killed, and a file piped in by mistake became the password. Now more than
// 64 KiB is cli.password-stdin, before any request; a password piped in as usual still works.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';

let server: Server;
let host = '';

beforeAll(async () => {
  // A registry without auth (the password is not checked): ls asks /v2/ and the tag list.
  server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.url!.startsWith('/v2/game/tags/list') ? JSON.stringify({ name: 'game', tags: ['v1'] }) : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const refused = 'error[cli.password-stdin]: --password-stdin: stdin holds more than 64 KiB, more than a password or token\n';

describe('--password-stdin', () => {
  it('a password piped in as usual is taken (control)', async () => {
    const r = await runCli(['ls', `${host}/game`, '--username', 'ci', '--password-stdin'], { stdin: 'pw-7Gq!x9Zr\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('a megabyte on stdin is refused before any request, not taken as the password', async () => {
    const r = await runCli(['ls', `${host}/game`, '--username', 'ci', '--password-stdin'], { stdin: `${'x'.repeat(1 << 20)}\n` });
    expect(r.stderr).toContain(refused);
    expect(r.code).toBe(2);
  });

  it('stdin from /dev/zero ends in that error, not in a read without end', async () => {
    const r = await runCli(['ls', `${host}/game`, '--username', 'ci', '--password-stdin'], { prefix: ['sh', '-c', 'exec "$@" < /dev/zero', 'sh'] });
    expect(r.stderr).toContain(refused);
    expect(r.code).toBe(2);
  });
});
