// Authentication against a real registry: htpasswd Basic, Bearer tokens from a token server, docker config.json
// credentials and credential helpers, denied pushes, and clear errors for bad inputs.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { pushImage, resolveCredentials } from '../src/registry/index.js';
import { parseReference } from '../src/registry/reference.js';
import { addTag, randomContent } from './support/make-layout.js';
import { startRegistry, storageProblems, storedTags, type TestRegistry } from './support/registry.js';

let work: string;
let layout: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-auth-'));
  layout = path.join(work, 'layout');
  await addTag(layout, 'v1', [{ layers: [{ files: { 'a.bin': randomContent(20_000) } }, { files: { 'b.cfg': 'x=1' } }] }]);
});
afterAll(async () => rm(work, { recursive: true, force: true }));

async function pushError(p: Promise<unknown>): Promise<GamelayerError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(GamelayerError);
  return e as GamelayerError;
}

/** Everything a user could see of an error: message, hint and the messages of its causes. */
function errorText(e: unknown): string {
  const parts: string[] = [];
  for (let cur = e as { message?: string; hint?: string; cause?: unknown } | undefined; cur; cur = cur.cause as typeof cur) {
    parts.push(String(cur.message ?? ''), String(cur.hint ?? ''), String(cur));
  }
  return parts.join('\n');
}

describe('Basic auth (htpasswd)', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'basic' });
  });
  afterAll(async () => reg?.stop());

  it('pushes with explicit credentials', async () => {
    const u = reg.users[0]!;
    const r = await pushImage({ layout, to: `${reg.host}/team/game:v1`, credentials: { username: u.username, password: u.password } });
    expect(r.blobs.uploaded).toBe(3);
    expect(Object.keys(await storedTags(reg.storageDir, 'team/game'))).toEqual(['v1']);
  });

  it('pushes with credentials from docker config.json auths', async () => {
    const u = reg.users[0]!;
    const dir = path.join(work, 'docker-basic');
    await mkdir(dir, { recursive: true });
    const auth = Buffer.from(`${u.username}:${u.password}`).toString('base64');
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ auths: { [`http://${reg.host}`]: { auth } } }));
    const r = await pushImage({ layout, to: `${reg.host}/team/game:v1`, tags: ['again'], credentials: { dockerConfigDir: dir, env: {} } });
    expect(r.upToDate).toBe(false); // tag "again" is new
    expect(r.blobs.uploaded).toBe(0);
    expect(Object.keys(await storedTags(reg.storageDir, 'team/game')).sort()).toEqual(['again', 'v1']);
  });

  it('without credentials: a clear unauthorized error', async () => {
    const e = await pushError(pushImage({ layout, to: `${reg.host}/team/game:v2`, image: 'v1', credentials: { dockerConfigDir: work, env: {} } }));
    expect(e.code).toBe('registry.unauthorized');
    expect(e.message).toBe(`reach registry ${reg.host}: ${reg.host} requires authentication and none were found for it (no --username, GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD or docker config.json entry)`);
  });

  it('GAMELAYER_REGISTRY_USERNAME without GAMELAYER_REGISTRY_PASSWORD: named, not silently ignored', async () => {
    const e = await pushError(pushImage({ layout, to: `${reg.host}/team/game:v2`, image: 'v1', credentials: { dockerConfigDir: work, env: { GAMELAYER_REGISTRY_USERNAME: reg.users[0]!.username } } }));
    expect(e.code).toBe('registry.credentials');
    expect(e.message).toBe(`credentials for ${reg.host}: GAMELAYER_REGISTRY_USERNAME is set but GAMELAYER_REGISTRY_PASSWORD is not; both are needed`);
  });

  it('a wrong password is refused and never shown', async () => {
    const planted = 'Planted-Secret-91x!';
    const e = await pushError(
      pushImage({ layout, to: `${reg.host}/team/game:v2`, image: 'v1', credentials: { username: 'tester', password: planted } }),
    );
    expect(e.code).toBe('registry.unauthorized');
    const text = errorText(e);
    expect(text).not.toContain(planted);
    expect(text).not.toContain(Buffer.from(`tester:${planted}`).toString('base64'));
  });
});

describe('Bearer tokens', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token', readOnlyRepos: ['frozen/game'] });
  });
  afterAll(async () => reg?.stop());

  it('pushes with a token for pull,push on the repository', async () => {
    const u = reg.users[0]!;
    const r = await pushImage({ layout, to: `${reg.host}/team/game:v1`, credentials: { username: u.username, password: u.password } });
    expect(r.blobs.uploaded).toBe(3);
    expect(await storageProblems(reg.storageDir)).toEqual([]);
    const asked = reg.tokenServer!.issued.filter((i) => i.user === u.username).flatMap((i) => i.scopes);
    expect(asked).toContain('repository:team/game:pull,push');
    // Tokens are cached per scope: a handful of token requests, not one per blob request.
    expect(reg.tokenServer!.issued.length).toBeLessThanOrEqual(3);
  });

  it('gets its credentials from a docker credential helper', async () => {
    const u = reg.users[0]!;
    const bin = path.join(work, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = path.join(bin, 'docker-credential-gltest');
    // The helper protocol: host on stdin, JSON on stdout.
    await writeFile(
      helper,
      `#!/bin/sh\nread host\n[ "$1" = get ] || exit 1\n[ "$host" = "${reg.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\n` +
        `printf '{"ServerURL":"%s","Username":"${u.username}","Secret":"${u.password}"}' "$host"\n`,
    );
    await chmod(helper, 0o755);
    const dir = path.join(work, 'docker-helper');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: 'gltest' } }));
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const creds = await resolveCredentials(reg.host, { dockerConfigDir: dir, env });
    expect(creds).toMatchObject({ username: u.username, source: 'docker-credential-gltest' });
    // credsStore falls back for hosts without their own entry; "not found" means anonymous.
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ credsStore: 'gltest' }));
    expect(await resolveCredentials('other.example.invalid', { dockerConfigDir: dir, env })).toBeUndefined();
    const r = await pushImage({ layout, to: `${reg.host}/team/helper:v1`, credentials: { dockerConfigDir: dir, env } });
    expect(r.blobs.mounted + r.blobs.uploaded).toBe(3);
  });

  it('a repository the user may only pull: denied, with a clear error and no manifest', async () => {
    const u = reg.users[0]!;
    const e = await pushError(pushImage({ layout, to: `${reg.host}/frozen/game:v1`, credentials: { username: u.username, password: u.password } }));
    expect(e.code).toBe('registry.denied');
    expect(e.message).toMatch(new RegExp(`^upload blob sha256:[0-9a-f]{64} \\(.+\\) to frozen/game: ${reg.host} denied access \\(insufficient scope: repository:frozen/game:pull,push\\)$`));
    expect(await storedTags(reg.storageDir, 'frozen/game')).toEqual({});
  });

  it('a wrong password: the token service refuses, and the error names where the credentials came from', async () => {
    const e = await pushError(pushImage({ layout, to: `${reg.host}/team/game:v1`, credentials: { username: 'tester', password: 'nope-Planted-77' } }));
    expect(e.code).toBe('registry.unauthorized');
    expect(e.message).toBe(`${reg.host}: the token service refused the credentials from explicit username/password (HTTP 401)`);
    expect(errorText(e)).not.toContain('nope-Planted-77');
  });
});

describe('bad destinations', () => {
  it('an unknown host', async () => {
    const e = await pushError(pushImage({ layout, to: 'no-such-registry.invalid/game:v1', image: 'v1', credentials: { env: {}, dockerConfigDir: work } }));
    expect(e.code).toBe('registry.unknown-host');
    expect(e.message).toBe('reach registry no-such-registry.invalid: cannot resolve registry host no-such-registry.invalid');
  });

  it('plain HTTP to a non-loopback host without insecure is refused before any traffic', async () => {
    const e = await pushError(pushImage({ layout, to: 'http://10.255.255.1:5000/game:v1', credentials: { env: {}, dockerConfigDir: work } }));
    expect(e.code).toBe('registry.insecure');
    expect(e.message).toBe('refusing plain HTTP to 10.255.255.1:5000: only loopback registries are spoken to without TLS');
  });

  it('a malformed reference', async () => {
    const e = await pushError(pushImage({ layout, to: '127.0.0.1:5000/Game:v1' }));
    expect(e.code).toBe('registry.reference');
    expect(e.message).toContain('invalid image reference "127.0.0.1:5000/Game:v1"');
  });

  it('reference parsing', () => {
    expect(parseReference('127.0.0.1:5000/studio/game:v1')).toEqual({ registry: '127.0.0.1:5000', repository: 'studio/game', tag: 'v1' });
    expect(parseReference('debian')).toEqual({ registry: 'registry-1.docker.io', repository: 'library/debian' });
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`localhost/game@${d}`)).toEqual({ registry: 'localhost', repository: 'game', digest: d });
    expect(parseReference('http://reg.lan/game:v1')).toEqual({ registry: 'reg.lan', repository: 'game', tag: 'v1', scheme: 'http' });
  });
});
