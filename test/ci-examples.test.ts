// The GitHub Actions and GitLab CI examples beside the buildspecs, run the way buildspec.test.ts runs buildspec.yml:
// their shell steps as scripts (npm ci aside: node_modules is here) against the sample game and a real registry,
// twice, the second time after an asset changed with .gamelayer/ kept as their caches keep it.
import { spawn } from 'node:child_process';
import { appendFile, cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { storedTags } from './support/registry.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const ROOT = path.resolve('.');
const registry = useRegistry();

/** A checkout of the sample game, and a PATH where `npx gamelayer` runs this repository's CLI. */
async function workspace(): Promise<{ src: string; bin: string }> {
  const work = await tempDir();
  const src = path.join(work, 'src');
  await cp(path.join(ROOT, 'fixtures/sample-game'), path.join(src, 'fixtures/sample-game'), { recursive: true, verbatimSymlinks: true, filter: (p) => !p.includes('.gamelayer') });
  const bin = path.join(work, 'bin');
  await mkdir(bin);
  await writeFile(path.join(bin, 'npx'), `#!/bin/sh\n[ "$1" = gamelayer ] || exit 127\nshift\nexec "${process.execPath}" "${path.join(ROOT, 'bin/gamelayer.js')}" "$@"\n`, { mode: 0o755 });
  return { src, bin };
}

function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const shellSteps = (commands: string[]) => commands.filter((c) => !c.startsWith('npm ci'));
const buildTags = (t: string) => [t, `${t}-app`, `${t}-app-media`, `${t}-engine`, `${t}-engine-media`, `${t}.gamelayer-record`];
/** The tag build --push moves to the line's newest record (issue 15); the examples build the default line. */
const LINE_TAG = 'gamelayer-line.default';
/** Pod templates name an image by digest only (issue 18): the digest the registry holds under that tag. */
const pinned = async (storageDir: string, repo: string, host: string, tag: string) =>
  `${host}/${repo}@${(await storedTags(storageDir, repo))[tag]}`;

async function changeAnAsset(src: string): Promise<string> {
  const dir = path.join(src, 'fixtures/sample-game/app-media');
  const asset = (await readdir(dir)).find((n) => n.endsWith('.pak'))!;
  await appendFile(path.join(dir, asset), 'changed by the next commit');
  return asset;
}

describe('buildspecs/ci/github-actions.yml', () => {
  it('uses AWS OIDC, and its steps build, push, diff and write the deployment specs', async () => {
    const wf = parse(await readFile('buildspecs/ci/github-actions.yml', 'utf8'));
    expect(wf.permissions['id-token']).toBe('write');
    const steps = wf.jobs.images.steps as { uses?: string; run?: string; with?: Record<string, string> }[];
    expect(steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))?.with?.['role-to-assume']).toBe('${{ vars.AWS_ROLE_ARN }}');
    expect(steps.find((s) => s.uses?.startsWith('actions/cache@'))?.with?.path).toBe('fixtures/sample-game/.gamelayer');

    const { src, bin } = await workspace();
    const repo = `${registry.host}/studio/gha`;
    const run = async (sha: string) => {
      const env = { PATH: `${bin}:${process.env.PATH}`, HOME: src, GITHUB_SHA: sha, GITHUB_WORKSPACE: src, ...wf.env, REPOSITORY_URI: repo, AWS_REGION: 'eu-west-1' };
      for (const step of shellSteps(steps.flatMap((s) => (s.run ? [s.run] : [])))) {
        const r = await bash(step, src, env);
        expect(r.code, `${step}\n${r.stderr}`).toBe(0);
      }
    };
    await run('1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d');
    expect(Object.keys(await storedTags(registry.storageDir, 'studio/gha')).sort()).toEqual([...buildTags('1a2b3c4d'), LINE_TAG]);
    expect(await readFile(path.join(src, 'gamelayer-diff.txt'), 'utf8')).toBe('no earlier build in the cache: every layer is new\n');
    expect(await readFile(path.join(src, 'k8s-out/pod.yaml'), 'utf8')).toContain(`image: ${await pinned(registry.storageDir, 'studio/gha', registry.host, '1a2b3c4d-app-media')}\n`);

    const asset = await changeAnAsset(src);
    await run('99aa88bb77cc66dd55ee44ff33aa22bb11cc00dd');
    expect(await readFile(path.join(src, 'gamelayer-diff.txt'), 'utf8')).toContain(asset);
    expect(Object.keys(await storedTags(registry.storageDir, 'studio/gha'))).toEqual(expect.arrayContaining(buildTags('99aa88bb')));
    expect(await readFile(path.join(src, 'k8s-out/pod.yaml'), 'utf8')).toContain(`image: ${await pinned(registry.storageDir, 'studio/gha', registry.host, '99aa88bb-app-media')}\n`);
  }, 240_000);
});

describe('buildspecs/ci/gitlab-ci.yml', () => {
  it('hands the job ID token to the AWS SDK, and its script builds, pushes and writes the deployment specs', async () => {
    const ci = parse(await readFile('buildspecs/ci/gitlab-ci.yml', 'utf8'));
    const job = ci['game-images'];
    expect(job.id_tokens.AWS_ID_TOKEN.aud).toBe('sts.amazonaws.com');
    expect(job.cache.paths).toEqual(['fixtures/sample-game/.gamelayer/']);

    const { src, bin } = await workspace();
    const repo = `${registry.host}/studio/gitlab`;
    const run = async (sha: string) => {
      const env = {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: src,
        ...ci.variables,
        CI_PROJECT_DIR: src,
        CI_PIPELINE_ID: '77',
        CI_COMMIT_SHORT_SHA: sha,
        AWS_ID_TOKEN: 'eyJhbGciOiJSUzI1NiJ9.test.token',
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/gitlab-game-images',
        AWS_REGION: 'eu-west-1',
        REPOSITORY_URI: repo,
      };
      // GitLab runs before_script and script in one shell, stopping at the first failure.
      const r = await bash(shellSteps([...job.before_script, ...job.script]).join('\n'), src, env);
      expect(r.code, r.stderr).toBe(0);
    };
    await run('1a2b3c4d');
    expect(await readFile(path.join(src, '.aws-web-identity-token'), 'utf8')).toBe('eyJhbGciOiJSUzI1NiJ9.test.token');
    expect(Object.keys(await storedTags(registry.storageDir, 'studio/gitlab')).sort()).toEqual([...buildTags('1a2b3c4d'), LINE_TAG]);
    const asset = await changeAnAsset(src);
    await run('99aa88bb');
    expect(await readFile(path.join(src, 'gamelayer-diff.txt'), 'utf8')).toContain(asset);
    expect(Object.keys(await storedTags(registry.storageDir, 'studio/gitlab'))).toEqual(expect.arrayContaining(buildTags('99aa88bb')));
    expect(await readFile(path.join(src, 'k8s-out/pod.yaml'), 'utf8')).toContain(`image: ${await pinned(registry.storageDir, 'studio/gitlab', registry.host, '99aa88bb-app-media')}\n`);
  }, 240_000);
});
