// `verify --json` of an image that does not verify: stdout is one JSON document, as every --json run's (docs/errors.md).
// It printed the result, then the error object after it: two documents, which `JSON.parse` / `jq .error.code` refuse.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { pushedGame, useSigningFixture } from './support/signing-fixture.js';

const fx = useSigningFixture('gl-verify-json-');

describe('verify --json of an unsigned image', () => {
  it('prints one JSON document: the result with the error in it, exit 1; a verified image has no error', async () => {
    const { dir, repo } = await pushedGame(fx);
    const r = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem'), '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; items: { what: string; verified: boolean }[]; error: { code: string; message: string; hint?: string } };
    expect(out.ok).toBe(false);
    expect(out.items.map((i) => i.verified)).not.toContain(true);
    expect(out.error.code).toBe('verify.failed');
    expect(out.error.message).toContain('not verified: no signature');
    expect(out.error.hint).toMatch(/^sign it with gamelayer sign REF --key KEY/);
    // stderr is unchanged: the error for people.
    expect(r.stderr).toMatch(/^error\[verify\.failed\]: /);

    expect((await runCli(['sign', `${repo}:v1`, '--key', path.join(fx.root, 'key.pem')], { cwd: dir })).code).toBe(0);
    const good = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem'), '--json'], { cwd: dir });
    expect(good.code).toBe(0);
    const ok = JSON.parse(good.stdout) as { ok: boolean; error?: unknown };
    expect(ok.ok).toBe(true);
    expect(ok.error).toBeUndefined();
  });
});
