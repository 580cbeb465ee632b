// `build --push` to ECR under a host name that does not name its region (a proxy or a local ECR API endpoint, with
// --ecr --region R) recorded the push without its region, so `k8s --region R` / `ecs --region R` refused the build
// it had just pushed there: "has no copy in region R". The local record now notes the region of an ECR push when
// it is known (--region, or the host name), as the push to several destinations always did.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useEcrGame } from './support/ecr-game.js';
import { writeGame } from './support/trees.js';

const ecrGame = useEcrGame('gl-ecr-region-');

describe('build --push to ECR behind another host name', () => {
  it('records the region, and k8s / ecs --region pin that copy', async () => {
    const { dir, ecr } = ecrGame;
    const repo = `${ecr.host}/studio/game`;
    const r = await ecrGame.buildPush('studio/game', 'v1', ['--create-repo']); // --region eu-west-1
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records/build-v1.json'), 'utf8')) as { pushed: { repository: string; region?: string }[] };
    expect(record.pushed.map((p) => [p.repository, p.region])).toEqual([[repo, 'eu-west-1']]);
    const k8s = await runCli(['k8s', '--region', 'eu-west-1'], { cwd: dir });
    expect(k8s.stderr).not.toContain('error');
    expect(k8s.code).toBe(0);
    expect(k8s.stdout).toContain(`${repo}:v1@sha256:`);
    const ecs = await runCli(['ecs', '--region', 'eu-west-1'], { cwd: dir });
    expect(ecs.code, ecs.stderr).toBe(0);
    const other = await runCli(['k8s', '--region', 'us-east-1'], { cwd: dir });
    expect(other.stderr).toContain('no copy in region us-east-1');
  });

  // The region from AWS_REGION alone (no --region, a host that names none): the SDK used it to sign, yet the record
  // had no region, and `k8s --region` refused the build just pushed there.
  it('records the region the SDK took from AWS_REGION', async () => {
    const { ecr } = ecrGame;
    const game = await mkdtemp(path.join(os.tmpdir(), 'gl-ecr-region-env-'));
    try {
      await writeGame(game);
      const repo = `${ecr.host}/studio/env-game`;
      const r = await runCli(['build', '--tag', 'v1', '--push', repo, '--ecr', '--endpoint', ecr.endpoint, '--create-repo'], { cwd: game, env: { ...ecrGame.env(), HOME: game, AWS_REGION: 'ap-south-1' } });
      expect(r.code, r.stderr).toBe(0);
      // The SDK did sign for that region: the region recorded is the one the API calls went to.
      expect(ecr.calls.filter((c) => c.body.repositoryName === 'studio/env-game').map((c) => c.region)).toContain('ap-south-1');
      const record = JSON.parse(await readFile(path.join(game, '.gamelayer/records/build-v1.json'), 'utf8')) as { pushed: { repository: string; region?: string }[] };
      expect(record.pushed.map((p) => [p.repository, p.region])).toEqual([[repo, 'ap-south-1']]);
      const k8s = await runCli(['k8s', '--region', 'ap-south-1'], { cwd: game });
      expect(k8s.code, k8s.stderr).toBe(0);
      expect(k8s.stdout).toContain(`${repo}:v1@sha256:`);
    } finally {
      await rm(game, { recursive: true, force: true });
    }
  });
});
