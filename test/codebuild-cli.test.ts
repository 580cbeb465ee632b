// `gamelayer codebuild start/watch/stop` as a user runs them (real processes), with the real AWS SDK serialising
// and signing over real HTTP to a local CodeBuild stand-in that checks every signature.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCodeBuild, TEST_CREDENTIALS, TEST_REGION, type FakeCodeBuild } from './support/fake-codebuild.js';
import { tempDir } from './support/tmp.js';

const CLI = path.resolve('bin/gamelayer.js');
let fake: FakeCodeBuild;
let home: string;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}, onStdout?: (all: string, child: ChildProcess) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_REGION: TEST_REGION,
        GAMELAYER_CODEBUILD_ENDPOINT: fake.endpoint,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout, child);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const callsOf = (target: string, id?: string) =>
  fake.calls.filter((c) => c.target === target && (id === undefined || c.body.id === id || (c.body.ids as string[] | undefined)?.includes(id)));

function startedId(r: Run): string {
  const m = /^started build (\S+)$/m.exec(r.stdout);
  expect(m, r.stdout + r.stderr).not.toBeNull();
  return m![1]!;
}

const BUILD_ERROR = 'Error while executing command: gamelayer build --tag "$IMAGE_TAG". Reason: exit status 1';

beforeAll(async () => {
  home = await tempDir('gl-cb-');
  fake = await startFakeCodeBuild();
  fake.project('game-ok');
  fake.project('game-broken', { failIn: 'BUILD', failContext: { statusCode: 'COMMAND_EXECUTION_ERROR', message: BUILD_ERROR } });
  fake.project('game-busy', { throttleFirst: 3 });
  fake.project('game-stuck', { hangIn: 'BUILD' });
});
afterAll(async () => {
  await fake?.stop();
});

describe('gamelayer codebuild start', () => {
  it('starts a build with source version and env overrides, signed with SigV4; without --watch prints the id and returns', async () => {
    const r = await cli(['codebuild', 'start', '--project', 'game-ok', '--source-version', 'refs/heads/main', '--env', 'REPOSITORY_URI=127.0.0.1:5000/g', '--env', 'EMPTY=']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = startedId(r);
    expect(id).toMatch(/^game-ok:[0-9a-f-]{36}$/);
    expect(r.stdout).toContain(`arn arn:aws:codebuild:${TEST_REGION}:123456789012:build/${id}`);
    const start = callsOf('StartBuild').at(-1)!;
    expect(start.accessKeyId).toBe(TEST_CREDENTIALS.accessKeyId);
    expect(start.body).toMatchObject({
      projectName: 'game-ok',
      sourceVersion: 'refs/heads/main',
      environmentVariablesOverride: [
        { name: 'REPOSITORY_URI', value: '127.0.0.1:5000/g', type: 'PLAINTEXT' },
        { name: 'EMPTY', value: '', type: 'PLAINTEXT' },
      ],
    });
    expect(start.body.idempotencyToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(callsOf('BatchGetBuilds', id)).toHaveLength(0);
    expect(fake.rejected).toEqual([]);
  });

  it('--watch follows a build through its phases and exits 0 when it succeeds', async () => {
    const r = await cli(['codebuild', 'start', '--project', 'game-ok', '--watch', '--poll-interval', '20ms']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const id = startedId(r);
    const ended = [...r.stdout.matchAll(/^(\w+) +SUCCEEDED +7s$/gm)].map((m) => m[1]);
    expect(ended).toEqual(['SUBMITTED', 'QUEUED', 'PROVISIONING', 'DOWNLOAD_SOURCE', 'INSTALL', 'PRE_BUILD', 'BUILD', 'POST_BUILD', 'UPLOAD_ARTIFACTS', 'FINALIZING']);
    // Each phase is shown starting before it is shown ending (SUBMITTED had ended by the first look).
    expect(r.stdout.indexOf('BUILD             started')).toBeLessThan(r.stdout.indexOf('BUILD             SUCCEEDED'));
    const links = r.stdout.match(/^logs: .*$/gm) ?? [];
    expect(links).toEqual([`logs: https://console.aws.amazon.com/cloudwatch/home?region=${TEST_REGION}#logEvent:group=/aws/codebuild/game-ok;stream=${id.split(':')[1]}`]);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(`build ${id} SUCCEEDED in 1m 17s`);
    expect(fake.build(id)!.step).toBe(11);
  });

  it('a failing build exits 1 naming the failing phase and its context message, and the logs link', async () => {
    const r = await cli(['codebuild', 'start', '--project', 'game-broken', '--watch', '--poll-interval', '20ms']);
    expect(r.code).toBe(1);
    const id = startedId(r);
    expect(r.stdout).toContain(`BUILD             FAILED     7s  COMMAND_EXECUTION_ERROR: ${BUILD_ERROR}`);
    expect(r.stdout).toContain(`build ${id} FAILED in 1m 17s`);
    expect(r.stderr).toContain(`error[codebuild.build-failed]: build ${id} FAILED: phase BUILD FAILED: COMMAND_EXECUTION_ERROR: ${BUILD_ERROR}\n`);
    expect(r.stderr).toMatch(/^hint: logs: https:\/\/console\.aws\.amazon\.com\/cloudwatch\/.*stream=/m);
  });

  it('--json: start prints the build id, arn and number; with --watch its status and seconds; a failed build the same with its error', async () => {
    const started = await cli(['codebuild', 'start', '--project', 'game-ok', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const s = JSON.parse(started.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ id: expect.stringMatching(/^game-ok:[0-9a-f-]{36}$/), batch: false });
    expect(s.arn).toBe(`arn:aws:codebuild:${TEST_REGION}:123456789012:build/${s.id as string}`);
    const watched = await cli(['codebuild', 'watch', s.id as string, '--poll-interval', '20ms', '--json']);
    expect(watched.code, watched.stderr).toBe(0);
    expect(JSON.parse(watched.stdout)).toEqual({ id: s.id, arn: s.arn, batch: false, status: 'SUCCEEDED', seconds: 77 });

    const failed = await cli(['codebuild', 'start', '--project', 'game-broken', '--watch', '--poll-interval', '20ms', '--json']);
    expect(failed.code).toBe(1);
    const f = JSON.parse(failed.stdout) as { id: string; status: string; error: { code: string } };
    expect(f.status).toBe('FAILED');
    expect(f.error.code).toBe('codebuild.build-failed');
    expect(f.id).toMatch(/^game-broken:/);
  });

  it('throttled polls back off (growing waits), are reported, and the watch still ends in success', async () => {
    const before = fake.throttled;
    const r = await cli(['codebuild', 'start', '--project', 'game-busy', '--watch', '--poll-interval', '20ms']);
    expect(r.code).toBe(0);
    const id = startedId(r);
    expect(fake.throttled - before).toBe(3);
    expect(r.stderr.match(/^warning: CodeBuild throttled BatchGetBuilds \(\d in a row\)/gm)).toHaveLength(3);
    const polls = callsOf('BatchGetBuilds', id).map((c) => c.at);
    const gaps = polls.slice(1, 4).map((t, i) => t - polls[i]!);
    // Full-jitter backoff from 250 ms: the third wait is at least half of 1 s, far above the 20 ms poll interval.
    expect(gaps[2]).toBeGreaterThanOrEqual(450);
    expect(gaps[2]).toBeGreaterThan(gaps[0]!);
    expect(r.stdout).toContain(`build ${id} SUCCEEDED`);
  });

  it('--timeout bounds the watch of a build that never finishes: clear error, non-zero, build left running', async () => {
    const r = await cli(['codebuild', 'start', '--project', 'game-stuck', '--watch', '--poll-interval', '50ms', '--timeout', '1500ms']);
    expect(r.code).toBe(1);
    const id = startedId(r);
    expect(r.stderr).toContain(`error[codebuild.watch-timeout]: build ${id} is still IN_PROGRESS in phase BUILD after 2s (--timeout): stopped watching; the build itself keeps running`);
    expect(r.stderr).toContain(`hint: watch again with: gamelayer codebuild watch ${id}; stop it with: gamelayer codebuild stop ${id}`);
    expect(callsOf('StopBuild', id)).toHaveLength(0);
    // Nothing changed for a second: the interval grew, so far fewer than 1500/50 = 30 polls.
    expect(callsOf('BatchGetBuilds', id).length).toBeLessThan(20);
  });

  it('SIGINT with --stop-on-interrupt calls StopBuild for the watched build and exits 130', async () => {
    let sent = false;
    const r = await cli(['codebuild', 'start', '--project', 'game-stuck', '--watch', '--poll-interval', '50ms', '--stop-on-interrupt'], {}, (out, child) => {
      if (!sent && out.includes('BUILD             started')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    const id = startedId(r);
    expect(callsOf('StopBuild', id)).toHaveLength(1);
    expect(fake.build(id)!.stopped).toBe(true);
    expect(r.stderr).toContain(`interrupted: stop requested for build ${id} (STOPPED)`);
  });

  it('SIGINT in a non-interactive run without --stop-on-interrupt leaves the build running', async () => {
    let sent = false;
    const r = await cli(['codebuild', 'start', '--project', 'game-stuck', '--watch', '--poll-interval', '50ms'], {}, (out, child) => {
      if (!sent && out.includes('BUILD             started')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(r.code).toBe(130);
    const id = startedId(r);
    expect(callsOf('StopBuild', id)).toHaveLength(0);
    expect(fake.build(id)!.stopped).toBe(false);
    expect(r.stderr).toContain(`interrupted: build ${id} keeps running in CodeBuild`);
  });
});

describe('gamelayer codebuild watch / stop and errors', () => {
  it('watch resumes following a build by id; stop stops it', async () => {
    const started = await cli(['codebuild', 'start', '--project', 'game-ok']);
    const id = startedId(started);
    const w = await cli(['codebuild', 'watch', id, '--poll-interval', '20ms']);
    expect(w.code).toBe(0);
    expect(w.stdout).toContain(`build ${id} SUCCEEDED`);

    const stuck = startedId(await cli(['codebuild', 'start', '--project', 'game-stuck']));
    const s = await cli(['codebuild', 'stop', stuck]);
    expect(s.code).toBe(0);
    expect(s.stdout).toBe(`stop requested for build ${stuck}: STOPPED\n`);
    expect(callsOf('StopBuild', stuck)).toHaveLength(1);
  });

  it('an unknown project is a clear error naming the project and endpoint', async () => {
    const r = await cli(['codebuild', 'start', '--project', 'no-such-game', '--watch']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[codebuild.not-found]: StartBuild of project no-such-game (endpoint ${fake.endpoint}): Project cannot be found`);
    expect(r.stderr).toContain('hint: check the project name and the region');
  });

  it('a wrong secret key fails the signature check (the fake verifies SigV4) and is reported as denied', async () => {
    const rejectedBefore = fake.rejected.length;
    const r = await cli(['codebuild', 'start', '--project', 'game-ok'], { AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('InvalidSignatureException: signature mismatch');
    expect(fake.rejected.slice(rejectedBefore)).toEqual(['signature mismatch']);
  });

  it('--endpoint overrides the environment; bad flags are usage errors naming the flag', async () => {
    const r = await cli(['codebuild', 'start', '--project', 'game-ok', '--endpoint', fake.endpoint], { GAMELAYER_CODEBUILD_ENDPOINT: 'http://127.0.0.1:9' });
    expect(r.code).toBe(0);
    const bad = await cli(['codebuild', 'start', '--project', 'game-ok', '--endpoint', 'ftp://x']);
    expect(bad.stderr).toContain('error[codebuild.endpoint]: --endpoint "ftp://x": expected an http:// or https:// URL');
    const env = await cli(['codebuild', 'start', '--project', 'game-ok', '--env', 'NOEQUALS']);
    expect(env.stderr).toContain('error[cli.env]: --env "NOEQUALS": expected NAME=VALUE');
    const timeout = await cli(['codebuild', 'start', '--project', 'game-ok', '--watch', '--timeout', 'soon']);
    expect(timeout.stderr).toContain('error[cli.duration]: --timeout "soon": expected a duration such as 90s, 45m, 1h30m or 500ms');
    expect([bad.code, env.code, timeout.code]).toEqual([1, 2, 2]); // cli.* exits 2; the endpoint may come from the environment
  });

  it('an endpoint that does not answer is reported as unreachable', async () => {
    const r = await cli(['codebuild', 'start', '--project', 'game-ok'], { GAMELAYER_CODEBUILD_ENDPOINT: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[codebuild.unreachable]: StartBuild of project game-ok: cannot reach CodeBuild (endpoint http://127.0.0.1:9): ECONNREFUSED');
  });
});

describe('Ctrl-C on a terminal', () => {
  /** The CLI on a pseudo-terminal (util-linux `script`): ^C typed into the pty reaches it as a real SIGINT. */
  function onTty(project: string, answer: string): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      const cmd = `"${process.execPath}" "${CLI}" codebuild start --project ${project} --watch --poll-interval 50ms`;
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          TERM: 'dumb',
          AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
          AWS_REGION: TEST_REGION,
          GAMELAYER_CODEBUILD_ENDPOINT: fake.endpoint,
        },
      });
      let out = '';
      let step = 0;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (step === 0 && out.includes('BUILD             started')) {
          step = 1;
          child.stdin.write('\x03');
        }
        if (step === 1 && out.includes('in CodeBuild? [y/N] ')) {
          step = 2;
          child.stdin.write(`${answer}\r`);
        }
      });
      child.on('close', (code) => resolve({ code, out: out.replace(/\r/g, '') }));
    });
  }

  it('asks before stopping: "y" stops the build', async () => {
    const r = await onTty('game-stuck', 'y');
    expect(r.code).toBe(130);
    const id = /^started build (\S+)$/m.exec(r.out)![1]!;
    expect(r.out).toContain(`stop build ${id} in CodeBuild? [y/N] y`);
    expect(r.out).toContain(`interrupted: stop requested for build ${id} (STOPPED)`);
    expect(callsOf('StopBuild', id)).toHaveLength(1);
  });

  it('asks before stopping: Enter (no) leaves it running', async () => {
    const r = await onTty('game-stuck', '');
    expect(r.code).toBe(130);
    const id = /^started build (\S+)$/m.exec(r.out)![1]!;
    expect(r.out).toContain(`interrupted: build ${id} keeps running in CodeBuild`);
    expect(callsOf('StopBuild', id)).toHaveLength(0);
  });
});
