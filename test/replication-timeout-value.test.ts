// GAMELAYER_REPLICATION_TIMEOUT was read only when a push to several repositories reached the wait for ECR
// replication: a bad value failed after minutes of scanning and pushing, and only a number of seconds was taken.
// It is now checked before the scan (build) or the push (push), with an error naming the variable, and takes the
// durations the flags take (90s, 45m, 1h30m) as well as seconds.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGamelayerError } from '../src/errors.js';
import { replicationTimeoutMs } from '../src/registry/replication-timeout.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, storedRepositories, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});
const ENV = 'GAMELAYER_REPLICATION_TIMEOUT';

describe(`${ENV}`, () => {
  it('takes seconds as before and the durations the flags take; refuses the rest naming the variable', () => {
    expect(replicationTimeoutMs({})).toBe(30 * 60_000);
    expect(replicationTimeoutMs({ [ENV]: '1800' })).toBe(1_800_000);
    expect(replicationTimeoutMs({ [ENV]: '2.5' })).toBe(2500);
    expect(replicationTimeoutMs({ [ENV]: '90s' })).toBe(90_000);
    expect(replicationTimeoutMs({ [ENV]: '45m' })).toBe(2_700_000);
    expect(replicationTimeoutMs({ [ENV]: '1h30m' })).toBe(5_400_000);
    for (const bad of ['0', '-5', 'soon', '10x', ' ', '0s']) {
      let e: unknown;
      try {
        replicationTimeoutMs({ [ENV]: bad });
      } catch (err) {
        e = err;
      }
      expect(isGamelayerError(e) && e.code, bad).toBe('push.replication-timeout-value');
      expect((e as Error).message).toContain(`${ENV}=${JSON.stringify(bad)}: expected a duration above 0`);
    }
  });

  it('build --push A --push B: a bad value fails before the scan, nothing pushed; --no-replication does not read it', async () => {
    const dir = await tempDir('gl-repl-timeout-');
    await writeGame(dir);
    const pushes = ['--push', `${reg.host}/studio/a`, '--push', `${reg.host}/studio/b`];
    const bad = await runCli(['build', '--tag', 'v1', ...pushes], { cwd: dir, env: { [ENV]: '10x' } });
    expect(bad.code, bad.stderr).toBe(1);
    expect(bad.stderr).toContain(`error[push.replication-timeout-value]: ${ENV}="10x": expected a duration above 0 such as 1800 (seconds), 90s, 45m or 1h30m`);
    // Nothing scanned (no store written), nothing pushed.
    expect(existsSync(path.join(dir, '.gamelayer/oci'))).toBe(false);
    expect(bad.stderr).not.toMatch(/^hash /m);
    expect(await storedRepositories(reg.storageDir)).toEqual([]);

    const off = await runCli(['build', '--tag', 'v1', ...pushes, '--no-replication'], { cwd: dir, env: { [ENV]: '10x' } });
    expect(off.code, off.stderr).toBe(0);
    expect(Object.keys(await storedTags(reg.storageDir, 'studio/a'))).toContain('v1');

    // push A:v1 B:v1 of that build: refused before anything is sent; a duration such as 1h30m is taken.
    const refs = [`${reg.host}/studio/c:v1`, `${reg.host}/studio/d:v1`];
    const refused = await runCli(['push', ...refs], { cwd: dir, env: { [ENV]: '0' } });
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`error[push.replication-timeout-value]: ${ENV}="0"`);
    expect((await storedRepositories(reg.storageDir)).sort()).toEqual(['studio/a', 'studio/b']);
    const pushed = await runCli(['push', ...refs], { cwd: dir, env: { [ENV]: '1h30m' } });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect((await storedRepositories(reg.storageDir)).sort()).toEqual(['studio/a', 'studio/b', 'studio/c', 'studio/d']);
  }, 120_000);
});
