// Ctrl-C during the build phase of `build --push`, before any upload: it exited 130 without a word, where a stop during
// the push says what went up (push-resume-cli.test.ts). Now one line says how far the build got, that nothing was
// pushed, and that running again reuses what was built. The registry here answers its ping and then holds every other
// request open: the build waits on its previous-build lookup, a point in the build phase reached every time.
// A stop after the build and before the push was silent too: it says the build is done and how to push it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { sleep, startCli } from './support/cli-process.js';
import { storedManifests, storedTags } from './support/registry.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
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

describe('build --push stopped after its build, before its push', () => {
  const registry = useRegistry();

  it('Ctrl-C: one line says the build is in the local store, nothing was pushed, and how to push it; exit 130', async () => {
    const dir = await tempDir('gl-build-push-built-interrupt-');
    copySample(dir);
    // Between the build and the push, a signed push opens each target: the second one's credentials come from a
    // docker credential helper that marks that it ran and then waits (until its reader, the CLI, is gone).
    const bin = path.join(dir, 'helper-bin');
    const mark = path.join(dir, 'helper-ran');
    await mkdir(bin);
    await writeFile(path.join(bin, 'docker-credential-held'), '#!/bin/sh\ntouch "$HELPER_MARK"\nwhile echo waiting; do sleep 0.2; done\n');
    await chmod(path.join(bin, 'docker-credential-held'), 0o755);
    const held = '127.0.0.1:1';
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'docker/config.json'), JSON.stringify({ credHelpers: { [held]: 'held' } }));
    execFileSync('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', path.join(dir, 'key.pem')]);
    const repos = [`${registry.host}/studio/built-interrupt`, `${held}/studio/built-interrupt`];
    // -c, --line and the registry flags given to the build are given to the push it names (they were dropped).
    const run = startCli(['-c', './gamelayer.yaml', 'build', '--tag', 'v1', '--line', 'feature-x', '--insecure', '--concurrency', '2', '--push', repos[0]!, '--push', repos[1]!, '--sign', path.join(dir, 'key.pem')], {
      cwd: dir,
      env: { PATH: `${bin}:${process.env.PATH}`, DOCKER_CONFIG: path.join(dir, 'docker'), HELPER_MARK: mark },
    });
    while (!existsSync(mark) && run.child.exitCode === null) await sleep(20);
    run.child.kill('SIGINT');
    const stopped = await run.result;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr.trimEnd().split('\n').at(-1)).toBe(
      `build --push stopped by Ctrl-C after the build, before the push: the build v1 is in the local store; nothing was pushed to ${repos.join(', ')}; ` +
        `push it with gamelayer -c ./gamelayer.yaml push ${repos.map((r) => `${r}:v1`).join(' ')} --line feature-x --insecure --concurrency 2 (or run the same command again: nothing is built again)`,
    );
    expect(existsSync(path.join(dir, '.gamelayer/records/build-v1.json'))).toBe(true);
    // What the line says is so: the reachable registry holds neither tag nor manifest of that repository.
    expect(await storedTags(registry.storageDir, 'studio/built-interrupt')).toEqual({});
    expect(await storedManifests(registry.storageDir, 'studio/built-interrupt')).toEqual([]);
    expect((await registry.accessLog()).filter((e) => e.method === 'PUT' && e.path.includes('/manifests/'))).toEqual([]);
  }, 120_000);
});

// A failure between the build and the push left the stop handlers armed: a Ctrl-C while the error was printed said
// "after the build, before the push" (and exited 130). In process: the handlers must be gone once the command ends.
describe('build --push failing between its build and its push', () => {
  const registry = useRegistry();

  it('leaves no stop handler behind', async () => {
    const dir = await tempDir('gl-build-push-built-fail-');
    copySample(dir);
    execFileSync('openssl', ['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', path.join(dir, 'key.pem')]);
    await mkdir(path.join(dir, 'docker'));
    // The second destination's entry is no base64 of user:password: a signed push opens each destination after the
    // build and before any push, and fails there.
    await writeFile(path.join(dir, 'docker/config.json'), JSON.stringify({ auths: { '127.0.0.1:1': { auth: 'bm8tY29sb24=' } } }));
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = path.join(dir, 'docker');
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    try {
      const code = await main(['-q', '-c', path.join(dir, 'gamelayer.yaml'), 'build', '--tag', 'v1', '--push', `${registry.host}/studio/built-fail`, '--push', '127.0.0.1:1/studio/built-fail', '--sign', path.join(dir, 'key.pem')]);
      expect(code).toBe(1);
      expect(existsSync(path.join(dir, '.gamelayer/records/build-v1.json'))).toBe(true);
      expect(await registry.completedUploads()).toBe(0);
      expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
    }
  }, 120_000);
});
