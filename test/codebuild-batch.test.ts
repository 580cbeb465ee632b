// Issue 21: CodeBuild batch builds. `codebuild buildspec --batch` writes a build graph (a job per platform on a
// host of that architecture, a merge job depending on them) that the buildspec schema accepts, and the schema's
// batch checks refuse broken graphs. `codebuild start --batch` / `watch --batch` follow a batch and each job, with
// the real SDK signing over HTTP to the local CodeBuild (test/support/fake-codebuild.ts), and the exit rules of a
// single build.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBuildspec } from '../src/codebuild/buildspec-schema.js';
import { startFakeCodeBuild, TEST_CREDENTIALS, TEST_REGION, type FakeCodeBuild } from './support/fake-codebuild.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const CLI = path.resolve('bin/gamelayer.js');
let fake: FakeCodeBuild;
let home: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], opts: { cwd?: string; onStdout?: (all: string, child: ChildProcess) => void } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_REGION: TEST_REGION,
        GAMELAYER_CODEBUILD_ENDPOINT: fake.endpoint,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout, child);
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const BUILD_ERROR = 'Error while executing command: gamelayer build --platform "$GAMELAYER_PLATFORM". Reason: exit status 1';
const GRAPH = [
  { identifier: 'build_linux_amd64' },
  { identifier: 'build_linux_arm64' },
  { identifier: 'merge', dependsOn: ['build_linux_amd64', 'build_linux_arm64'] },
];

beforeAll(async () => {
  home = await tempDir('gl-cbb-');
  fake = await startFakeCodeBuild();
  fake.project('game-batch', { batch: GRAPH });
  fake.project('game-batch-arm-fails', {
    batch: [GRAPH[0]!, { ...GRAPH[1]!, script: { failIn: 'BUILD', failContext: { statusCode: 'COMMAND_EXECUTION_ERROR', message: BUILD_ERROR } } }, GRAPH[2]!],
  });
  fake.project('game-batch-stuck', { batch: [{ identifier: 'build_linux_amd64', script: { hangIn: 'BUILD' } }] });
  fake.project('game-single');
});
afterAll(async () => {
  await fake?.stop();
});

async function twoPlatformGame(): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  await mkdir(path.join(dir, 'engine-arm64/bin'), { recursive: true });
  await writeFile(path.join(dir, 'engine-arm64/bin/arch.txt'), 'arm64\n');
  const yaml = (await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8'))
    .replace('source: ./engine/BinLinux64.Dedicated.tar.gz', 'source: {linux/amd64: ./engine/BinLinux64.Dedicated.tar.gz, linux/arm64: ./engine-arm64}')
    .replace('baseImage: scratch', 'baseImage: scratch\nplatforms: [linux/amd64, linux/arm64]');
  await writeFile(path.join(dir, 'gamelayer.yaml'), yaml);
  return dir;
}

describe('gamelayer codebuild buildspec --batch', () => {
  it('writes a build graph: a job per platform on its architecture, a merge job depending on them, valid for the schema', async () => {
    const dir = await twoPlatformGame();
    const r = await cli(['codebuild', 'buildspec', '--batch'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const spec = parseBuildspec(r.stdout, 'buildspec-batch.yml');
    const graph = spec.batch!['build-graph'];
    expect(graph.map((j) => [j.identifier, j.env?.type, j.env?.image, j.env?.variables?.GAMELAYER_PLATFORM, j['depend-on']])).toEqual([
      ['build_linux_amd64', 'LINUX_CONTAINER', 'aws/codebuild/amazonlinux2-x86_64-standard:5.0', 'linux/amd64', undefined],
      ['build_linux_arm64', 'ARM_CONTAINER', 'aws/codebuild/amazonlinux2-aarch64-standard:3.0', 'linux/arm64', undefined],
      ['merge', 'LINUX_CONTAINER', 'aws/codebuild/amazonlinux2-x86_64-standard:5.0', '', ['build_linux_amd64', 'build_linux_arm64']],
    ]);
    const build = spec.phases.build!.commands.join('\n');
    expect(build).toContain('build --platform "$GAMELAYER_PLATFORM" --push "$REPOSITORY_URI" --tag "$IMAGE_TAG"');
    expect(build).toContain('index "$REPOSITORY_URI" --tag "$IMAGE_TAG"');
    // Every branch of the build and post_build lines is a command the real CLI parses (its --help exits 0).
    for (const args of [['build', '--platform', 'linux/arm64', '--push', 'r/x', '--tag', 't', '--help'], ['index', 'r/x', '--tag', 't', '--help']]) {
      expect((await cli(args, { cwd: dir })).code).toBe(0);
    }
    // One bash runs the phases as CodeBuild does: the branches are valid shell.
    for (const phase of Object.values(spec.phases)) for (const c of phase!.commands) expect((await run('bash', ['-n', '-c', c])).code).toBe(0);
  });

  it('refuses a game of one platform (buildspec.platforms)', async () => {
    const dir = await tempDir();
    copySample(dir);
    const r = await cli(['codebuild', 'buildspec', '--batch'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[buildspec.platforms]');
    expect(r.stderr).toContain('a batch build has one job per platform');
  });

  it('the schema refuses broken graphs, naming the job and field', () => {
    const base = { version: 0.2, phases: { build: { commands: ['true'] } } };
    const bad = (batch: unknown) => () => parseBuildspec(JSON.stringify({ ...base, batch }), 'b.yml');
    expect(bad({ 'build-graph': [{ identifier: 'a', 'depend-on': ['nope'] }] })).toThrow('b.yml: batch.build-graph.0.depend-on: nope: no job has this identifier');
    expect(bad({ 'build-graph': [{ identifier: 'a', 'depend-on': ['b'] }, { identifier: 'b', 'depend-on': ['a'] }] })).toThrow('depend-on cycle: a → b → a');
    expect(bad({ 'build-graph': [{ identifier: 'a' }, { identifier: 'a' }] })).toThrow('batch.build-graph.1.identifier: a is also the identifier of job 0');
    expect(bad({ 'build-graph': [{ identifier: 'arm', env: { type: 'ARM_CONTAINER', image: 'aws/codebuild/amazonlinux2-x86_64-standard:5.0' } }] })).toThrow(
      'batch.build-graph.0.env.image: aws/codebuild/amazonlinux2-x86_64-standard:5.0 is an x86_64 image; ARM_CONTAINER needs an aarch64 one',
    );
    expect(bad({ 'build-graph': [{ identifier: 'x', env: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/amazonlinux2-aarch64-standard:3.0' } }] })).toThrow('is an aarch64 image; it runs on ARM_CONTAINER');
    expect(bad({ 'build-graph': [{ identifier: 'has-dash' }] })).toThrow('batch.build-graph.0.identifier');
    expect(bad({ 'build-list': [{ identifier: 'a' }] })).toThrow('batch');
    expect(parseBuildspec(JSON.stringify({ ...base, batch: { 'build-graph': [{ identifier: 'a' }, { identifier: 'b', 'depend-on': ['a'] }] } }), 'ok.yml').batch!['build-graph']).toHaveLength(2);
  });
});

function run(cmd: string, args: string[]): Promise<{ code: number | null }> {
  return new Promise((resolve) => spawn(cmd, args, { stdio: 'ignore' }).on('close', (code) => resolve({ code })));
}

const callsOf = (target: string) => fake.calls.filter((c) => c.target === target);

describe('gamelayer codebuild start --batch / watch --batch', () => {
  it('starts a batch (StartBuildBatch, signed) and follows each job\'s phases in order; exit 0 when it SUCCEEDED', async () => {
    const r = await cli(['codebuild', 'start', '--project', 'game-batch', '--batch', '--watch', '--poll-interval', '10ms', '--env', 'REPOSITORY_URI=127.0.0.1:5000/g', '--source-version', 'main']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const id = /^started build batch (\S+)$/m.exec(r.stdout)![1]!;
    expect(r.stdout).toContain(`arn arn:aws:codebuild:${TEST_REGION}:123456789012:build-batch/${id}`);
    expect(callsOf('StartBuildBatch').at(-1)!.body).toMatchObject({ projectName: 'game-batch', sourceVersion: 'main', environmentVariablesOverride: [{ name: 'REPOSITORY_URI', value: '127.0.0.1:5000/g', type: 'PLAINTEXT' }] });
    expect(fake.rejected).toEqual([]);
    const lines = r.stdout.split('\n');
    const at = (s: string) => {
      const i = lines.findIndex((l) => l.replace(/\s+/g, ' ').includes(s));
      expect(i, `${s} in:\n${r.stdout}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    // The merge job starts only after both platform jobs ended, and its phases follow.
    expect(at('[build_linux_amd64] BUILD SUCCEEDED')).toBeLessThan(at('[merge] IN_PROGRESS'));
    expect(at('[build_linux_arm64] SUCCEEDED')).toBeLessThan(at('[merge] IN_PROGRESS'));
    expect(at('[merge] BUILD SUCCEEDED')).toBeLessThan(at('[merge] SUCCEEDED'));
    for (const job of ['build_linux_amd64', 'build_linux_arm64', 'merge']) {
      expect(lines.filter((l) => l.startsWith(`[${job}] logs: https://`))).toHaveLength(1);
      expect(lines.filter((l) => l.replace(/\s+/g, ' ').startsWith(`[${job}] POST_BUILD SUCCEEDED`))).toHaveLength(1);
    }
    expect(at('batch DOWNLOAD_BATCHSPEC SUCCEEDED')).toBeLessThan(at('[build_linux_amd64] IN_PROGRESS'));
    // A job ends after its last phase; the batch's IN_PROGRESS after its last job.
    expect(at('[build_linux_amd64] FINALIZING SUCCEEDED')).toBeLessThan(at('[build_linux_amd64] SUCCEEDED'));
    expect(at('[merge] SUCCEEDED')).toBeLessThan(at('batch IN_PROGRESS SUCCEEDED'));
    expect(lines.at(-2)).toMatch(new RegExp(`^build batch ${id} SUCCEEDED in `));
    // The jobs' phases come from BatchGetBuilds of the jobs' build ids.
    const asked = new Set(callsOf('BatchGetBuilds').flatMap((c) => c.body.ids as string[]));
    const batch = fake.batch(id)!;
    for (const j of batch.jobs) expect(asked.has(j.build!.id)).toBe(true);
  });

  it('a job that fails: exit 1 naming the job, its phase and the error, the merge job never started, the job\'s logs as hint', async () => {
    const r = await cli(['codebuild', 'start', '--project', 'game-batch-arm-fails', '--batch', '--watch', '--poll-interval', '10ms']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error[codebuild.build-failed]: build batch game-batch-arm-fails:`,
    );
    expect(r.stderr).toContain(`FAILED: job build_linux_arm64 FAILED: phase BUILD FAILED: COMMAND_EXECUTION_ERROR: ${BUILD_ERROR}; job merge not started (depends on build_linux_amd64, build_linux_arm64)`);
    expect(r.stderr).toMatch(/hint: logs: https:\/\/console\.aws\.amazon\.com\/cloudwatch\/home\?region=eu-west-1#logEvent:group=\/aws\/codebuild\/game-batch-arm-fails;stream=/);
    expect(r.stdout).toMatch(/build batch \S+ FAILED/);
    expect(r.stdout).not.toContain('[merge] IN_PROGRESS');
  });

  it('watch --batch re-attaches to a running batch; --timeout stops watching (exit 1), not the batch', async () => {
    const started = await cli(['codebuild', 'start', '--project', 'game-batch-stuck', '--batch']);
    expect(started.code).toBe(0);
    const id = /^started build batch (\S+)$/m.exec(started.stdout)![1]!;
    expect(started.stdout).toContain(`follow it with: gamelayer codebuild watch --batch ${id}`);
    const r = await cli(['codebuild', 'watch', '--batch', id, '--poll-interval', '10ms', '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[codebuild.watch-timeout]: build batch ${id} is still IN_PROGRESS (jobs: build_linux_amd64 IN_PROGRESS) after`);
    expect(r.stderr).toContain(`hint: watch again with: gamelayer codebuild watch --batch ${id}; stop it with: gamelayer codebuild stop --batch ${id}`);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('[build_linux_amd64] BUILD started');
    expect(callsOf('StopBuildBatch')).toHaveLength(0);
    // The ARN alone says it is a batch; stop --batch stops it.
    const stop = await cli(['codebuild', 'stop', '--batch', id]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`stop requested for build batch ${id}: STOPPED`);
    const after = await cli(['codebuild', 'watch', fake.batch(id)!.arn, '--poll-interval', '10ms']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain(`error[codebuild.build-failed]: build batch ${id} STOPPED`);
  });

  it('SIGINT while watching a batch: --stop-on-interrupt calls StopBuildBatch and exits 130; without it the batch keeps running', async () => {
    const interruptOnceStarted = (all: string, child: ChildProcess) => {
      if (/BUILD\s+started/.test(all) && !child.killed) child.kill('SIGINT');
    };
    const stopped = await cli(['codebuild', 'start', '--project', 'game-batch-stuck', '--batch', '--watch', '--poll-interval', '10ms', '--stop-on-interrupt'], { onStdout: interruptOnceStarted });
    expect(stopped.code).toBe(130);
    const id = /^started build batch (\S+)$/m.exec(stopped.stdout)![1]!;
    expect(callsOf('StopBuildBatch').filter((c) => JSON.stringify(c).includes(id))).toHaveLength(1);
    expect(stopped.stderr).toContain(`interrupted: stop requested for build batch ${id} (STOPPED)`);

    const left = await cli(['codebuild', 'start', '--project', 'game-batch-stuck', '--batch', '--watch', '--poll-interval', '10ms'], { onStdout: interruptOnceStarted });
    expect(left.code).toBe(130);
    const id2 = /^started build batch (\S+)$/m.exec(left.stdout)![1]!;
    expect(callsOf('StopBuildBatch').filter((c) => JSON.stringify(c).includes(id2))).toHaveLength(0);
    expect(left.stderr).toContain(`interrupted: build batch ${id2} keeps running in CodeBuild`);
    expect(left.stderr).toContain(`watch it again with: gamelayer codebuild watch --batch ${id2}; stop it with: gamelayer codebuild stop --batch ${id2}`);
    await cli(['codebuild', 'stop', '--batch', id2]);
  });

  it('a project without batch builds, an unknown batch id: clear errors', async () => {
    const r = await cli(['codebuild', 'start', '--project', 'game-single', '--batch']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[codebuild.api]: StartBuildBatch of project game-single: InvalidInputException: Batch build is not enabled for project game-single');
    const w = await cli(['codebuild', 'watch', '--batch', 'game-batch:00000000-0000-0000-0000-000000000000', '--poll-interval', '10ms']);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain('error[codebuild.not-found]: BatchGetBuildBatches: build batch game-batch:00000000-0000-0000-0000-000000000000 not found');
  });
});

