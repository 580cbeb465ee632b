// A warm host's no-op `build --push` to a registry with token auth (issue 17): its questions go out in one round,
// before the registry named its realm (the line tag's HEAD, the ping, the tags' HEADs, and from the host's copy of
// the line's record the kept layers' HEADs and the record blob's GET). Every one that got the challenge is sent again
// with a token, the tokens shared per scope set (not one per request), and nothing is sent.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerAuth } from '../src/registry/auth.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry({ auth: 'token' });
});
afterAll(async () => reg?.stop());

describe('a no-op build --push to a token registry', () => {
  it('a request that went without a token, challenged after a sibling got one for its scopes, retries with that one', async () => {
    const u = reg.users[0]!;
    const auth = new DockerAuth(reg.host, { username: u.username, password: u.password, source: 'test' }, true);
    const ts = reg.tokenServer!;
    const scopes = ['repository:studio/siblings:pull'];
    const challenge = `Bearer realm="${ts.realm}",service="${ts.service}",scope="${scopes[0]}"`;
    const before = ts.issued.length;
    // Both sent before the realm was known (no authorization); the first challenge fetches the token.
    expect(await auth.refresh(challenge, scopes, undefined)).toBe(true);
    const token = await auth.authorization(scopes);
    expect(ts.issued.length).toBe(before + 1);
    // The second one's challenge: the token now cached covers it, so it is retried with it, not fetched again (on
    // the code before, a second token was fetched and the first dropped).
    expect(await auth.refresh(challenge, scopes, undefined)).toBe(true);
    expect(ts.issued.length).toBe(before + 1);
    expect(await auth.authorization(scopes)).toBe(token);
    // A token refused itself is dropped and fetched anew, as before.
    expect(await auth.refresh(challenge, scopes, token)).toBe(true);
    expect(ts.issued.length).toBe(before + 2);
    // A challenge asking more than the cached token was fetched for gets a token of its own.
    const wider = `Bearer realm="${ts.realm}",service="${ts.service}",scope="repository:studio/siblings:pull,push"`;
    expect(await auth.refresh(wider, scopes, undefined)).toBe(true);
    expect(ts.issued.length).toBe(before + 3);
  });

  it('asks in one round before the realm is known, shares the tokens, and sends nothing', async () => {
    const dir = await tempDir();
    const game = path.join(dir, 'game');
    copySample(game);
    const u = reg.users[0]!;
    const repo = `${reg.host}/studio/token-noop`;
    const push = () =>
      runCli(['build', '--tag', 'v1', '--push', repo, '--line', 'main', '--username', u.username, '--password-stdin', '--json'], { cwd: game, stdin: `${u.password}\n` });
    const first = await push();
    expect(first.code).toBe(0);
    await reg.resetAccessLog();
    const issuedBefore = reg.tokenServer!.issued.length;
    const again = await push();
    expect(again.stderr).not.toContain('error');
    expect(again.code).toBe(0);
    const out = JSON.parse(again.stdout) as { push: { bytesSent: number; images: { upToDate: boolean }[] }; summary: { previous: { source: string } } };
    expect(out.summary.previous.source).toBe('registry');
    expect(out.push.bytesSent).toBe(0);
    expect(out.push.images.every((i) => i.upToDate)).toBe(true);
    // One token per scope set the no-op asks with (the line's pull, the push's pull,push), not one per request.
    const issued = reg.tokenServer!.issued.slice(issuedBefore);
    expect(new Set(issued.map((t) => t.scopes.join(' '))).size).toBe(issued.length);
    // Nothing but reads, and no question answered twice with a 200.
    await new Promise((r) => setTimeout(r, 100));
    const log = await reg.accessLog();
    expect(log.filter((e) => e.method !== 'GET' && e.method !== 'HEAD')).toEqual([]);
    const ok = log.filter((e) => e.status === 200).map((e) => `${e.method} ${e.path}`);
    expect(ok.filter((r, i) => ok.indexOf(r) !== i)).toEqual([]);
  });
});
