// `codebuild buildspec --region-also R…`: one CodeBuild build pushed to the repository of the same name in other
// regions, with deploy specs pinned to each copy. docs/regions.md described the lines to add by hand; the emitted
// buildspec had no such option. Its phases run here as written against two registries (one per "region"), and its
// derivation of a region's ECR repository URI from REPOSITORY_URI runs in bash.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitBuildspec } from '../src/codebuild/buildspec.js';
import { parseBuildspec } from '../src/codebuild/buildspec-schema.js';
import { regionRepositories, regionRepositoryLine } from '../src/codebuild/buildspec-regions.js';
import { loadConfig } from '../src/config/load.js';
import { runBuildspecPhases } from './support/buildspec-run.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let home: TestRegistry;
let away: TestRegistry;
beforeAll(async () => {
  [home, away] = await Promise.all([startRegistry(), startRegistry()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([home?.stop(), away?.stop()]);
});

/** The derivation line of `region` run in bash with REPOSITORY_URI = `uri`: its exit code, the variable, stderr. */
function derive(region: string, uri: string, preset = ''): { code: number; value: string; stderr: string } {
  const r = regionRepositories([region], undefined)[0]!;
  try {
    const out = execFileSync('bash', ['-c', `${regionRepositoryLine(r)} || exit $?\necho "$${r.variable}"`], { env: { REPOSITORY_URI: uri, [r.variable]: preset }, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, value: out.toString().trim(), stderr: '' };
  } catch (e) {
    const err = e as { status: number; stderr: Buffer };
    return { code: err.status, value: '', stderr: err.stderr.toString() };
  }
}

describe('codebuild buildspec --region-also', () => {
  it('derives each region\'s repository from an ECR REPOSITORY_URI, keeps a value set on the project, and stops on one it cannot derive', () => {
    expect(derive('eu-west-1', '123456789012.dkr.ecr.us-east-1.amazonaws.com/studio/game')).toMatchObject({ code: 0, value: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/studio/game' });
    expect(derive('cn-northwest-1', '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/game')).toMatchObject({ code: 0, value: '123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn/game' });
    expect(derive('eu-west-1', 'proxy.corp/game', 'mirror.eu/game')).toMatchObject({ code: 0, value: 'mirror.eu/game' });
    const plain = derive('eu-west-1', 'proxy.corp/game');
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('REPOSITORY_URI_EU_WEST_1 is not set and REPOSITORY_URI is not an ECR repository URI');
    const same = derive('eu-west-1', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/game');
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('REPOSITORY_URI is already in eu-west-1');
  });

  it('refuses a bad region name, a repeated one, and the buildspecs that push one repository or none', async () => {
    const dir = await tempDir('gl-bs-regions-refuse-');
    copySample(dir);
    for (const [args, message] of [
      [['--region-also', 'eu_west_1'], '--region-also "eu_west_1": not an AWS region name'],
      [['--region-also', 'eu-west-1', 'eu-west-1'], '--region-also eu-west-1: given twice'],
      [['--pr-check', '--region-also', 'eu-west-1'], 'a pull-request check pushes nothing'],
      [['--docker', '--region-also', 'eu-west-1'], 'the Docker path pushes one repository'],
    ] as const) {
      const r = await runCli(['codebuild', 'buildspec', ...args], { cwd: dir });
      expect(r.code, r.stdout).toBe(1);
      expect(r.stderr).toContain(`error[buildspec.regions]: `);
      expect(r.stderr).toContain(message);
    }
  });

  it('runs as CodeBuild runs it: one build pushed to both repositories, k8s specs and imagedefinitions pinned to each copy', async () => {
    const src = await tempDir('gl-bs-regions-src-');
    copySample(src);
    const emitted = await runCli(['codebuild', 'buildspec', '--region-also', 'eu-west-1'], { cwd: src });
    expect(emitted.code, emitted.stderr).toBe(0);
    const spec = parseBuildspec(emitted.stdout, 'emitted');
    expect(emitted.stdout).toBe(emitBuildspec(await loadConfig(path.join(src, 'gamelayer.yaml')), { sourceRoot: src, regionsAlso: ['eu-west-1'] }));
    const work = await tempDir('gl-bs-regions-host-');
    const homeRepo = `${home.host}/studio/game`;
    const awayRepo = `${away.host}/studio/game`;
    const r = await runBuildspecPhases(spec, src, { REPOSITORY_URI: homeRepo, REPOSITORY_URI_EU_WEST_1: awayRepo, CODEBUILD_RESOLVED_SOURCE_VERSION: '9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5' }, work);
    expect(r.code, r.stderr).toBe(0);
    const homeTags = await storedTags(home.storageDir, 'studio/game');
    const awayTags = await storedTags(away.storageDir, 'studio/game');
    expect(awayTags['9a8b7c6d']).toBe(homeTags['9a8b7c6d']);
    expect(awayTags['9a8b7c6d']).toMatch(/^sha256:/);
    const defs = JSON.parse(await readFile(path.join(src, 'imagedefinitions-eu-west-1.json'), 'utf8')) as { imageUri: string }[];
    expect(defs.length).toBeGreaterThan(0);
    for (const d of defs) expect(d.imageUri.startsWith(`${awayRepo}:9a8b7c6d`)).toBe(true);
    const homeDefs = await readFile(path.join(src, 'imagedefinitions.json'), 'utf8');
    expect(homeDefs).toContain(homeRepo);
    expect(homeDefs).not.toContain(away.host);
    const k8sAway = execFileSync('sh', ['-c', 'cat "$1"/k8s-out/eu-west-1/*.yaml', 'sh', src]).toString();
    expect(k8sAway).toContain(`${awayRepo}:9a8b7c6d`);
    expect(k8sAway).not.toContain(home.host);
  }, 240_000);
});
