// The line of work of a CodeBuild build that no webhook started. Under CodePipeline, CODEBUILD_SOURCE_VERSION is the
// S3 ARN of the run's input artifact (`arn:aws:s3:::codepipeline-…/<pipeline>/SourceArti/<random>.zip`, another
// object every run) and the artifact holds no .git: it was taken for a branch, so every daily build was the first of
// a new line (a new `gamelayer-line.arn-aws-s3-…` tag each day, one more manifest read per build to find the newest
// line, and prune keeping every build as the newest of its line). The same for an S3 source's object version, and a
// build started by hand on `refs/heads/main^{<commit>}` got a line per commit. Through the CLI, on fresh hosts.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { storedTags } from './support/registry.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

/** A fresh CodeBuild host (a copy of the sample with no .gamelayer/, no .git) building `tag` with `env`. */
async function freshBuild(repo: string, tag: string, env: Record<string, string>, change?: string) {
  const dir = await tempDir('gl-source-line-');
  copySample(dir);
  if (change) await appendFile(path.join(dir, 'app/config/server.cfg'), `\n${change}\n`);
  const commit = `${tag}${'0'.repeat(40)}`.slice(0, 40);
  return runCli(['build', '--push', repo, '--tag', tag], {
    cwd: dir,
    env: { CODEBUILD_BUILD_ID: `sample-game:${tag}`, CODEBUILD_RESOLVED_SOURCE_VERSION: commit, GAMELAYER_LINE: undefined, CODEBUILD_WEBHOOK_HEAD_REF: undefined, ...env },
  });
}

const lineTags = async (repo: string) => Object.keys(await storedTags(registry.storageDir, repo.slice(registry.host.length + 1))).filter((t) => t.startsWith('gamelayer-line.')).sort();

describe('the line of a CodeBuild build without a webhook', () => {
  it('CodePipeline runs: one line, the pipeline, whatever the input artifact of each run', async () => {
    const repo = `${registry.host}/studio/pipeline`;
    const run = (tag: string, artifact: string, change?: string) =>
      freshBuild(repo, tag, { CODEBUILD_INITIATOR: 'codepipeline/sample-game-main', CODEBUILD_SOURCE_VERSION: `arn:aws:s3:::codepipeline-eu-west-1-123456789012/sample-game-main/SourceArti/${artifact}.zip` }, change);
    const day0 = await run('aaaa0000', 'OGgJCVJ');
    expect(day0.code, day0.stderr).toBe(0);
    const day1 = await run('bbbb1111', 'Xr1bZk4', 'max_players=64');
    expect(day1.code, day1.stderr).toBe(0);
    expect(`${day1.stdout}${day1.stderr}`).toContain(`previous build: ${repo}:gamelayer-line.sample-game-main (line sample-game-main)`);
    expect(day1.stderr).not.toContain('has no build in');
    expect(await lineTags(repo)).toEqual(['gamelayer-line.sample-game-main']);
  }, 180_000);

  it('a build started by hand on refs/heads/main^{commit} is of line main; an S3 source\'s object version is no line', async () => {
    const repo = `${registry.host}/studio/by-hand`;
    const first = await freshBuild(repo, 'cccc2222', { CODEBUILD_SOURCE_VERSION: `refs/heads/main^{${'c'.repeat(40)}}` });
    expect(first.code, first.stderr).toBe(0);
    const second = await freshBuild(repo, 'dddd3333', { CODEBUILD_SOURCE_VERSION: `refs/heads/main^{${'d'.repeat(40)}}` }, 'max_players=64');
    expect(second.code, second.stderr).toBe(0);
    expect(`${second.stdout}${second.stderr}`).toContain(`previous build: ${repo}:gamelayer-line.main (line main)`);
    expect(await lineTags(repo)).toEqual(['gamelayer-line.main']);

    const s3 = `${registry.host}/studio/s3-source`;
    const env = (version: string) => ({ CODEBUILD_SOURCE_REPO_URL: 's3://game-drops/sample-game/server.zip', CODEBUILD_SOURCE_VERSION: version });
    expect((await freshBuild(s3, 'eeee4444', env('3sL4kqtJlcpXroDTDmJ-rmSpXd3dIbrH'))).code).toBe(0);
    const next = await freshBuild(s3, 'ffff5555', env('Mo1q5.RsSVEKMTcDv9CFTz7vZIdhGwzq'), 'max_players=64');
    expect(next.code, next.stderr).toBe(0);
    expect(`${next.stdout}${next.stderr}`).toContain(`previous build: ${s3}:gamelayer-line.default (line default)`);
    expect(await lineTags(s3)).toEqual(['gamelayer-line.default']);
  }, 240_000);
});
