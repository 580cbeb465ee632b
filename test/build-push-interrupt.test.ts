// Ctrl-C during the build phase of `build --push`, before any upload: it exited 130 without a word, where a stop during
// the push says what went up (push-resume-cli.test.ts). Now one line says how far the build got, that nothing was
// pushed, and that running again reuses what was built. The registry here answers its ping and then holds every other
// request open: the build waits on its previous-build lookup, a point in the build phase reached every time.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

describe('build --push stopped before its push', () => {
  let server: http.Server;
  let host: string;
  let dir: string;
  let held: () => void = () => {};
  const asked = new Promise<void>((resolve) => (held = resolve));

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      // Held open: the build is waiting on the registry.
      held();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await tempDir('gl-build-push-interrupt-');
    copySample(dir);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('Ctrl-C: one line says nothing was pushed and that running again reuses what was built; exit 130', async () => {
    const run = startCli(['build', '--push', `${host}/studio/sample`, '--tag', 'v1'], { cwd: dir, env: { HOME: dir } });
    await asked;
    run.child.kill('SIGINT');
    const stopped = await run.result;
    expect(stopped.code, stopped.stderr).toBe(130);
    const last = stopped.stderr.trimEnd().split('\n').at(-1);
    expect(last).toBe(
      `build stopped by Ctrl-C before the push: no layer packed yet; nothing was pushed to ${host}/studio/sample; ` +
        'run the same command again: the layers finished and the scanned hashes are reused, not built again',
    );
  }, 120_000);
});
