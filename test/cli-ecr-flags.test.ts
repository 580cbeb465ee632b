// ECR-only flags (--endpoint, --create-repo, --scan-on-push, --immutable-tags) given for a destination that is not an
// ECR host name, without --ecr, were silently ignored: a trial's `build --push 127.0.0.1:PORT/repo --endpoint URL
// --create-repo` (a local ECR endpoint) hashed and built the game, then failed with "requires authentication and none
// were found", no word of --ecr; against an open registry the repository was never "created" immutable, silently.
// They are refused before anything runs, naming the flags and the host, and pointing at --ecr.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeGame } from './support/trees.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gl-ecr-flags-'));
  await writeGame(dir);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Nothing listens on port 9: a command that went past the check fails on the connection, with another code.
const PLAIN = '127.0.0.1:9/studio/game';
const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/studio/game';

describe('ECR-only flags for a registry that is not ECR', () => {
  it('build --push: refused before the build, naming the flags and the host, pointing at --ecr', async () => {
    const r = await runCli(['build', '--push', PLAIN, '--endpoint', 'http://127.0.0.1:9', '--create-repo'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'error[cli.ecr-flags]: --endpoint, --create-repo: options of Amazon ECR, but 127.0.0.1:9 is not an ECR host (<account>.dkr.ecr.<region>.amazonaws.com): they would be ignored',
    );
    expect(r.stderr).toContain('hint: pass --ecr to treat 127.0.0.1:9 as ECR (a proxy or a local ECR API endpoint), or drop them');
    expect(r.stderr).not.toMatch(/^build /m); // nothing was built
  });

  it('push: refused the same way; with --no-ecr the flags contradict it', async () => {
    const r = await runCli(['push', `${PLAIN}:1.0.0`, '--immutable-tags'], { cwd: dir });
    expect(r.stderr).toContain('error[cli.ecr-flags]: --immutable-tags: options of Amazon ECR, but 127.0.0.1:9 is not an ECR host');
    const n = await runCli(['push', `${ECR_HOST}:1.0.0`, '--no-ecr', '--scan-on-push'], { cwd: dir });
    expect(n.stderr).toContain('error[cli.ecr-flags]: --scan-on-push: options of Amazon ECR, but --no-ecr treats the registry as a plain one: they would be ignored');
  });

  it('taken with --ecr, or for an ECR host name (the command then goes on to the registry)', async () => {
    const forced = await runCli(['push', `${PLAIN}:1.0.0`, '--ecr', '--endpoint', 'http://127.0.0.1:9', '--create-repo'], { cwd: dir });
    expect(forced.stderr).not.toContain('cli.ecr-flags');
    const ecr = await runCli(['push', `${ECR_HOST}:1.0.0`, '--create-repo', '--endpoint', 'http://127.0.0.1:9'], { cwd: dir });
    expect(ecr.stderr).not.toContain('cli.ecr-flags');
    // Several destinations: the flags apply to the ECR ones.
    const mixed = await runCli(['build', '--push', PLAIN, '--push', ECR_HOST, '--create-repo', '--endpoint', 'http://127.0.0.1:9'], { cwd: dir });
    expect(mixed.stderr).not.toContain('cli.ecr-flags');
  });
});
