// `gamelayer push` as a user runs it (a real process), against real registries with auth. A planted password must
// never appear in stdout or stderr, whether the push succeeds or fails.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTag, randomContent } from './support/make-layout.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';

const CLI = path.resolve('bin/gamelayer.js');
const PLANTED = 'Planted-Pw-4711-zq';
let work: string;
let config: string;
let tokenReg: TestRegistry;
let basicReg: TestRegistry;

function cli(args: string[], env: Record<string, string> = {}, stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, '-c', config, ...args], {
      // A HOME without a docker config: credentials come only from what the test gives.
      env: { PATH: process.env.PATH ?? '', HOME: work, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(stdin);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-cli-'));
  await addTag(path.join(work, 'oci'), 'v1', [{ layers: [{ files: { 'a.bin': randomContent(50_000) } }, { files: { 'b.cfg': 'y=2' } }] }]);
  config = path.join(work, 'gamelayer.yaml');
  tokenReg = await startRegistry({ auth: 'token', users: [{ username: 'ci', password: PLANTED }] });
  basicReg = await startRegistry({ auth: 'basic', users: [{ username: 'ci', password: PLANTED }] });
  await writeFile(
    config,
    `game: my-game\nstart: ./start.sh\nstore: oci\nregistry: ${tokenReg.host}/studio/game\n` +
      `trees:\n  engine: { source: engine }\n  engine-media: { source: engine-media }\n  app: { source: app }\n  app-media: { source: app-media }\n`,
  );
});
afterAll(async () => {
  await tokenReg?.stop();
  await basicReg?.stop();
  await rm(work, { recursive: true, force: true });
});

const noLeak = (r: { stdout: string; stderr: string }) => {
  expect(r.stdout + r.stderr).not.toContain(PLANTED);
  expect(r.stdout + r.stderr).not.toContain(Buffer.from(`ci:${PLANTED}`).toString('base64'));
};

describe('gamelayer push', () => {
  it('pushes a tag to the registry named in gamelayer.yaml, with env credentials; JSON result', async () => {
    const r = await cli(['push', 'v1', '--tag', 'latest', '--json'], { GAMELAYER_REGISTRY_USERNAME: 'ci', GAMELAYER_REGISTRY_PASSWORD: PLANTED });
    noLeak(r);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { repository: string; tags: string[]; blobs: { uploaded: number }; digest: string };
    expect(out.repository).toBe(`${tokenReg.host}/studio/game`);
    expect(out.tags).toEqual(['v1', 'latest']);
    expect(out.blobs.uploaded).toBe(3);
    expect(await storedTags(tokenReg.storageDir, 'studio/game')).toEqual({ v1: out.digest, latest: out.digest });
  });

  it('a second push prints that nothing was sent', async () => {
    const r = await cli(['push', `${tokenReg.host}/studio/game:v1`], { GAMELAYER_REGISTRY_USERNAME: 'ci', GAMELAYER_REGISTRY_PASSWORD: PLANTED });
    noLeak(r);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${tokenReg.host}/studio/game@sha256:[0-9a-f]{64} as v1: already up to date, nothing sent\\n$`));
  });

  it('--password-stdin with Basic auth; plain summary', async () => {
    const r = await cli(['push', `${basicReg.host}/studio/game:v1`, '--username', 'ci', '--password-stdin', '--concurrency', '2'], {}, `${PLANTED}\n`);
    noLeak(r);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('blobs: 3 uploaded, 0 mounted, 0 already there (3 total)');
  });

  it('a wrong password fails with a clear error and exit 1, and neither password shows', async () => {
    const wrong = `${PLANTED}-wrong`;
    const r = await cli(['push', `${basicReg.host}/studio/game:v2`, '--image', 'v1', '--username', 'ci', '--password-stdin'], {}, wrong);
    noLeak(r);
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[registry.unauthorized]: reach registry ${basicReg.host}: ${basicReg.host} requires authentication and refused ours`);
  });

  // A stale `docker login` entry was refused with "refused ours" alone: the user could not tell which credentials
  // were sent, nor that they came from a config.json they had forgotten.
  it('refused credentials are named by user and source (docker config.json, the environment), never by password', async () => {
    const dockerDir = path.join(work, 'docker-stale');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dockerDir, { recursive: true });
    await writeFile(path.join(dockerDir, 'config.json'), JSON.stringify({ auths: { [basicReg.host]: { auth: Buffer.from('old-ci:stale-secret').toString('base64') } } }));
    const stale = await cli(['push', `${basicReg.host}/studio/game:v3`, '--image', 'v1'], { DOCKER_CONFIG: dockerDir });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(`${basicReg.host} requires authentication and refused ours (user old-ci, from ${path.join(dockerDir, 'config.json')} auths)`);
    expect(stale.stdout + stale.stderr).not.toContain('stale-secret');
    const env = await cli(['push', `${basicReg.host}/studio/game:v3`, '--image', 'v1'], { GAMELAYER_REGISTRY_USERNAME: 'ci', GAMELAYER_REGISTRY_PASSWORD: 'env-secret' });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('refused ours (user ci, from GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD)');
    expect(env.stdout + env.stderr).not.toContain('env-secret');
  });

  it('bad flags and destinations are clear errors', async () => {
    const c = await cli(['push', 'v1', '--concurrency', 'many']);
    expect(c.code).toBe(2); // a usage error
    expect(c.stderr).toContain('error[cli.concurrency]: --concurrency: expected a whole number from 1 to 64, got "many"');
    const h = await cli(['push', 'http://10.255.255.1:5000/studio/game:v1']);
    expect(h.code).toBe(1);
    expect(h.stderr).toContain('error[registry.insecure]: refusing plain HTTP to 10.255.255.1:5000');
    expect(h.stderr).toContain('hint: use https, or pass --insecure');
  });
});
