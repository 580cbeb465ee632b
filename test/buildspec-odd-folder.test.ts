// A game whose folder name holds a blank, a quote or a `$`: the buildspec's own shell lines (the build record's
// copy) name the state folder, and CodeBuild runs them with bash. The old code wrote the path bare, so `my game`
// split into two words and `it's` left a quote open: the post_build phase failed after a successful push.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BATCH_OUT } from '../src/codebuild/batch-buildspec.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const FOLDER = "it's my game $HOME";

async function project(platforms: string[]): Promise<{ root: string; game: string }> {
  const root = await tempDir('gl-bs-odd-');
  const game = path.join(root, FOLDER);
  for (const t of ['engine', 'engine-media', 'app', 'app-media']) await mkdir(path.join(game, t), { recursive: true });
  await writeFile(
    path.join(game, 'gamelayer.yaml'),
    ['game: odd', 'start: [/opt/local/engine/run]', `platforms: [${platforms.join(', ')}]`, 'registry: 123456789012.dkr.ecr.us-east-1.amazonaws.com/odd', 'trees:', ...['engine', 'engine-media', 'app', 'app-media'].map((t) => `  ${t}: {source: ${t}}`), ''].join('\n'),
  );
  // The record a build leaves, for the copy line to copy.
  await mkdir(path.join(game, '.gamelayer', 'records'), { recursive: true });
  await writeFile(path.join(game, '.gamelayer', 'records', 'build-last.json'), '{"the":"record"}\n');
  return { root, game };
}

/** Runs one buildspec command with bash in `cwd`, as CodeBuild does; GAMELAYER_PLATFORM set for the batch branch. */
function bash(command: string, cwd: string, env: Record<string, string> = {}): void {
  execFileSync('bash', ['-c', command], { cwd, env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env }, stdio: 'pipe' });
}

describe('codebuild buildspec in a folder whose name bash would split or run', () => {
  it('buildspec.yml: the record copy line copies the record', async () => {
    const { root } = await project(['linux/amd64']);
    const r = await runCli(['-c', `${FOLDER}/gamelayer.yaml`, 'codebuild', 'buildspec', '--out', 'buildspec.yml'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const spec = parse(await readFile(path.join(root, 'buildspec.yml'), 'utf8')) as { phases: { post_build: { commands: string[] } } };
    const copy = spec.phases.post_build.commands.find((c) => c.startsWith('cp '))!;
    bash(copy, root);
    expect(await readFile(path.join(root, 'gamelayer-build-record.json'), 'utf8')).toBe('{"the":"record"}\n');
  });

  it('the batch buildspec: both branches of the copy line copy the record', async () => {
    const { root } = await project(['linux/amd64', 'linux/arm64']);
    const r = await runCli(['-c', `${FOLDER}/gamelayer.yaml`, 'codebuild', 'buildspec', '--batch', '--out', 'buildspec-batch.yml'], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const spec = parse(await readFile(path.join(root, 'buildspec-batch.yml'), 'utf8')) as { phases: { post_build: { commands: string[] } } };
    const copy = spec.phases.post_build.commands[0]!;
    await mkdir(path.join(root, BATCH_OUT)); // the pre_build phase's mkdir
    bash(copy, root, { GAMELAYER_PLATFORM: 'linux/arm64' });
    expect(await readFile(path.join(root, BATCH_OUT, 'gamelayer-build-record.json'), 'utf8')).toBe('{"the":"record"}\n');
  });
});
