// A Bearer token that expires in the middle of a push: the registry refuses it (401 with a new challenge) on a
// request of a push already under way. Never exercised before (the test token server's tokens lived 5 minutes, the
// fake ECR's password never expires). `build --push` must get a new token and go on: every blob completed once, each
// manifest put only after the blobs and manifests it names, the push whole.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { readStoredBlob, startRegistry, storedTags, type AccessLogEntry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

/** How long after its issue the registry refuses a token issued with exp = issue - 57 s (its leeway is 60 s). */
const SHORT_MS = 3000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

let reg: TestRegistry;
let proxy: FaultProxy | undefined;
beforeAll(async () => {
  reg = await startRegistry({ auth: 'token' });
});
afterAll(async () => {
  await proxy?.stop();
  await reg?.stop();
});

const digestOf = (e: AccessLogEntry) => new URL(e.path, 'http://x').searchParams.get('digest');

describe('a token that expires during build --push', () => {
  it('is refused by the registry mid-push; the push gets a new token and completes, each blob once, manifests last', async () => {
    const ts = reg.tokenServer!;
    const dir = await tempDir();
    const game = path.join(dir, 'game');
    copySample(game);
    const repoName = 'studio/expiry';
    // The third blob upload waits until every token issued so far has expired, then goes on with the token it
    // carries; tokens issued from then on live 5 minutes.
    let switchedAt = 0;
    proxy = await startFaultProxy(reg.host, [{
      method: 'POST',
      path: new RegExp(`^/v2/${repoName}/blobs/uploads/`),
      after: 2,
      action: {
        kind: 'around',
        before: async () => {
          ts.expSeconds = 300;
          switchedAt = Date.now();
          await sleep(Math.max(...ts.issued.map((t) => t.at)) + SHORT_MS + 1000 - Date.now());
        },
      },
    }]);
    ts.expSeconds = -57;
    const u = reg.users[0]!;
    const r = await runCli(['build', '--tag', 'v1', '--push', `${proxy.host}/${repoName}`, '--username', u.username, '--password-stdin', '--json'], { cwd: game, stdin: `${u.password}\n` });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(proxy.fired).toEqual([1]);

    // The held request carried a short-lived token, and the registry refused it: a 401 on an upload after others
    // had gone through with that token. A new push token was then issued, one per scope set (shared by the uploads in flight).
    const held = proxy.seen.find((s) => s.fault === 0)!;
    const sent = String(held.headers?.authorization ?? '');
    const heldToken = ts.issued.find((t) => `Bearer ${t.token}` === sent);
    expect(heldToken, 'the held upload carried a token of the token server').toBeDefined();
    expect(heldToken!.at).toBeLessThanOrEqual(switchedAt);
    const log = await reg.accessLog();
    const uploads = log.filter((e) => e.path.startsWith(`/v2/${repoName}/blobs/uploads/`));
    const firstAccepted = uploads.findIndex((e) => e.status === 202 || e.status === 201);
    expect(uploads.slice(firstAccepted).some((e) => e.status === 401), 'a token refused mid-push').toBe(true);
    const pushTokensAfter = ts.issued.filter((t) => t.at >= switchedAt && t.scopes.some((s) => s === `repository:${repoName}:pull,push`));
    expect(pushTokensAfter.length).toBeGreaterThanOrEqual(1);
    expect(new Set(pushTokensAfter.map((t) => t.scopes.join(' '))).size).toBe(pushTokensAfter.length); // one per scope set

    // Each blob completed once (a PUT ...?digest= answered 201), none twice.
    const completed = uploads.filter((e) => e.method === 'PUT' && e.status === 201).map(digestOf);
    expect(completed.filter((d, i) => completed.indexOf(d) !== i)).toEqual([]);
    const out = JSON.parse(r.stdout) as { push: { blobs: { uploaded: number } } };
    expect(completed.length).toBeGreaterThanOrEqual(out.push.blobs.uploaded); // the images' blobs, and the build record's

    // Every manifest put (201) comes after the blobs and manifests it names were in the repository.
    const tags = await storedTags(reg.storageDir, repoName);
    const at = new Map<string, number>();
    log.forEach((e, i) => {
      if (e.method === 'PUT' && e.status === 201 && e.path.startsWith(`/v2/${repoName}/blobs/uploads/`)) at.set(digestOf(e)!, i);
    });
    let manifests = 0;
    for (const [i, e] of log.entries()) {
      const m = new RegExp(`^/v2/${repoName}/manifests/([^?]+)`).exec(e.path);
      if (!m || e.method !== 'PUT' || e.status !== 201) continue;
      const digest = m[1]!.startsWith('sha256:') ? m[1]! : tags[m[1]!]!;
      const doc = JSON.parse((await readStoredBlob(reg.storageDir, digest))!.toString('utf8')) as { config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[] };
      const named = [doc.config?.digest, ...(doc.layers ?? []).map((l) => l.digest), ...(doc.manifests ?? []).map((x) => x.digest)].filter((d): d is string => d !== undefined);
      for (const d of named) expect(at.get(d), `${d}, named by manifest ${digest}, was in before it`).toBeLessThan(i);
      at.set(digest, i);
      manifests++;
    }
    expect(manifests).toBeGreaterThanOrEqual(5); // the server image and the four tree images
  });
});
