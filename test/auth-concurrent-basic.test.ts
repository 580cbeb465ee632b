// A registry with htpasswd (Basic) auth, asked several things at once by a client that has not learnt its scheme
// yet: every request that went out anonymously and got the Basic challenge is sent again with the credentials.
// The CLI case: a warm host's second `build --push` (its line-record copy lets the line tag's HEAD, the record blob
// and the ping go out side by side) failed with "requires authentication and none were found" though
// --username/--password-stdin were given.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../src/registry/client.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry({ auth: 'basic' });
});
afterAll(async () => reg?.stop());

describe('Basic auth learnt by concurrent requests', () => {
  it('a fresh client: requests sent side by side before the scheme is known all succeed', async () => {
    const u = reg.users[0]!;
    const client = new RegistryClient({ host: reg.host, credentials: { username: u.username, password: u.password, source: 'test' } });
    const ask = (i: number) =>
      client.request({ method: 'GET', target: '/v2/', scopes: [], ok: [200], what: `ask ${i}` }).then((res) => res.discard().then(() => res.status));
    expect(await Promise.all([0, 1, 2, 3].map(ask))).toEqual([200, 200, 200, 200]);
  });

  it('a warm host pushes its second build with --username/--password-stdin', async () => {
    const dir = await tempDir();
    const game = path.join(dir, 'game');
    copySample(game);
    const u = reg.users[0]!;
    const repo = `${reg.host}/studio/warm`;
    const push = (tag: string) =>
      runCli(['build', '--tag', tag, '--push', repo, '--line', 'main', '--username', u.username, '--password-stdin'], { cwd: game, stdin: `${u.password}\n` });
    const first = await push('v1');
    expect(first.stderr).not.toContain('error');
    expect(first.code).toBe(0);
    const second = await push('v2');
    expect(second.stderr).not.toContain('error');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('previous build: ');
  });
});
