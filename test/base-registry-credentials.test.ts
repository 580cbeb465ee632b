// The credentials given for a push as GAMELAYER_REGISTRY_USERNAME / GAMELAYER_REGISTRY_PASSWORD were sent to any
// registry gamelayer.yaml's baseImage named: a build (with or without --push elsewhere) whose base is on another host
// sent that host the pair in Basic auth (a CI's private registry password to Docker Hub, or to a vendor's registry).
// `--username … --password-stdin` was already kept to the push's registry; the environment's pair is now too. A
// base's own host still gets what is kept for it (docker config.json auths, credential helpers).
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

/** A registry that wants Basic auth on every request and answers 404 to any it gets: it only notes what it was sent. */
let server: Server;
let host: string;
const seen: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    if (!req.headers.authorization) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="base"', 'content-type': 'application/json' });
      return res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function gameOnRegistryBase(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: cred-base', 'start: [/opt/local/engine/run]', `baseImage: ${host}/lib/base:1`]);
  return dir;
}

const ENV_PAIR = { GAMELAYER_REGISTRY_USERNAME: 'corp-ci', GAMELAYER_REGISTRY_PASSWORD: 'corp-secret-4711', GAMELAYER_REGISTRY_RETRIES: '1' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe("a registry base on another host than the push's", () => {
  it('is not sent the GAMELAYER_REGISTRY_USERNAME/PASSWORD pair (was: Basic corp-ci:corp-secret-4711)', async () => {
    const dir = await gameOnRegistryBase('gl-base-env-cred-');
    // An empty docker config: nothing is kept for the base's host.
    await mkdir(path.join(dir, 'docker'));
    seen.length = 0;
    for (const args of [['build'], ['build', '--push', '127.0.0.1:9/studio/game']]) {
      const r = await runCli(args, { cwd: dir, env: { ...ENV_PAIR, DOCKER_CONFIG: path.join(dir, 'docker') } });
      expect(r.code, args.join(' ')).toBe(1);
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).not.toContain(basic('corp-ci', 'corp-secret-4711'));
  });

  it("still gets the credentials docker config.json keeps for its host", async () => {
    const dir = await gameOnRegistryBase('gl-base-own-cred-');
    await mkdir(path.join(dir, 'docker'));
    await writeFile(path.join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from('reader:base-pw').toString('base64') } } }));
    seen.length = 0;
    const r = await runCli(['build'], { cwd: dir, env: { ...ENV_PAIR, DOCKER_CONFIG: path.join(dir, 'docker') } });
    expect(r.stderr).toContain('MANIFEST_UNKNOWN');
    expect(r.code).toBe(1);
    expect(seen).toContain(basic('reader', 'base-pw'));
    expect(seen).not.toContain(basic('corp-ci', 'corp-secret-4711'));
  });
});
