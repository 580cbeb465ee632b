// The emitted buildspecs run as CodeBuild runs them (bash, on a fresh folder) for a build with no commit: a project
// whose source is S3 or none has no CODEBUILD_RESOLVED_SOURCE_VERSION, and the buildspec's `IMAGE_TAG` (8 characters
// of it) was empty: `build --tag ""` was refused at the build phase. It is now `build-<number>` (as `gamelayer build`
// tags by default), an IMAGE_TAG set on the project wins, and a batch (whose jobs have no shared number) stops at
// pre_build asking for IMAGE_TAG.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from './support/cli-process.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { writeGame } from './support/trees.js';

let root: string;
let reg: TestRegistry;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-buildspec-no-commit-'));
  reg = await startRegistry();
  await mkdir(path.join(root, 'bin'));
  await writeFile(path.join(root, 'bin/gamelayer'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
});
afterAll(async () => {
  await reg?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

type Spec = { env: { variables: Record<string, string> }; phases: Record<string, { commands: string[] }> };

/** pre_build and build in one bash, a failing command ending the run, as CodeBuild's on-failure: ABORT. */
function run(spec: Spec, dir: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const lines = ['pre_build', 'build'].flatMap((p) => (spec.phases[p]?.commands ?? []).map((c) => `${c} || exit $?`));
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', lines.join('\n')], {
      cwd: dir,
      env: { PATH: `${path.join(root, 'bin')}:${process.env.PATH ?? ''}`, HOME: root, CODEBUILD_SRC_DIR: dir, CODEBUILD_BUILD_ID: 'game:1', CODEBUILD_BUILD_NUMBER: '7', ...spec.env.variables, ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function game(name: string, extra = ''): Promise<string> {
  const dir = path.join(root, name);
  await writeGame(dir);
  if (extra) await writeFile(path.join(dir, 'gamelayer.yaml'), `${await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')}${extra}`);
  return dir;
}

describe('the buildspecs in a CodeBuild build with no commit', () => {
  it('tag build-<number>, or the project IMAGE_TAG', async () => {
    const dir = await game('single');
    expect((await runCli(['codebuild', 'buildspec', '--out', 'buildspec.yml'], { cwd: dir })).code).toBe(0);
    const spec = parse(await readFile(path.join(dir, 'buildspec.yml'), 'utf8')) as Spec;
    const repo = `${reg.host}/studio/single`;
    const r = await run(spec, dir, { REPOSITORY_URI: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(await storedTags(reg.storageDir, 'studio/single'))).toContain('build-7');
    const named = await run(spec, dir, { REPOSITORY_URI: repo, IMAGE_TAG: 'nightly-2026-12-06' });
    expect(named.code, named.stderr).toBe(0);
    expect(Object.keys(await storedTags(reg.storageDir, 'studio/single'))).toContain('nightly-2026-12-06');
  });

  it('a batch job stops at pre_build asking for IMAGE_TAG', async () => {
    const dir = await game('batch', 'platforms: [linux/amd64, linux/arm64]\n');
    expect((await runCli(['codebuild', 'buildspec', '--batch', '--out', 'buildspec.yml'], { cwd: dir })).code).toBe(0);
    const spec = parse(await readFile(path.join(dir, 'buildspec.yml'), 'utf8')) as Spec;
    const r = await run(spec, dir, { REPOSITORY_URI: `${reg.host}/studio/batch`, GAMELAYER_PLATFORM: 'linux/amd64' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('IMAGE_TAG is not set and CodeBuild resolved no commit (CODEBUILD_RESOLVED_SOURCE_VERSION)');
    expect(r.stderr).not.toContain('--tag ""');
    expect(await storedTags(reg.storageDir, 'studio/batch')).toEqual({});
  });
});
