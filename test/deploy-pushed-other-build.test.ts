// The same content built twice under two tags, only the first pushed: the second build's images have the very
// digests the first pushed to the repository, so a deploy spec of the second (pinned by digest) pulls. Real
// registry, real CLI.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type GameConfig } from '../src/config/load.js';
import type { BuildRecord } from '../src/types.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

describe('deploy of a build whose images another build pushed', () => {
  let registry: TestRegistry;
  let config: GameConfig;
  let repo: string;
  const cli = (args: string[]) => runCli(['-c', config.file, ...args], { env: { HOME: config.dir } });

  beforeAll(async () => {
    registry = await startRegistry();
    repo = `${registry.host}/studio/sample`;
    const dir = await tempDir('gl-deploy-other-build-');
    copySample(dir);
    config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
  });
  afterAll(async () => registry?.stop());

  it('k8s, ecs and imagedefinitions write the spec of v2 when v1 pushed the same digests', async () => {
    const v1 = await cli(['build', '--tag', 'v1', '--push', repo]);
    expect(v1.stderr).not.toContain('error');
    expect(v1.code).toBe(0);
    const v2 = await cli(['build', '--tag', 'v2']);
    expect(v2.code).toBe(0);
    const v1Record = JSON.parse(await readFile(path.join(config.stateDir, 'records/build-v1.json'), 'utf8')) as BuildRecord;
    const pushed = v1Record.pushed![0]!.images;
    for (const args of [['k8s', '--kind', 'fleet'], ['ecs'], ['codebuild', 'imagedefinitions']]) {
      const r = await cli([...args, '--repository', repo]);
      expect(r.stderr).not.toContain('error');
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`note: build v2 was not pushed to ${repo}, but build v1 pushed ${args[0] === 'k8s' ? 'server' : 'engine, engine-media, app, app-media'} there with the same digest`);
      expect(r.stderr).toContain(`tag v2 and its record are there once you run gamelayer push ${repo}:v2`);
      // Pinned by the digests v1 pushed.
      expect(r.stdout).toContain(`@${pushed.find((i) => i.name === (args[0] === 'k8s' ? 'server' : 'engine'))!.digest}`);
    }
    // Other content under a third tag: its images are in no record's push, so it is refused as before.
    await writeFile(path.join(config.dir, 'app/changed.txt'), 'v3\n');
    expect((await cli(['build', '--tag', 'v3'])).code).toBe(0);
    const v3 = await cli(['k8s', '--kind', 'fleet', '--repository', repo]);
    expect(v3.code).toBe(1);
    expect(v3.stderr).toContain('error[deploy.not-pushed]');
    expect(v3.stderr).toContain(`hint: push it first: gamelayer push ${repo}:v3`);
  }, 240_000);
});
