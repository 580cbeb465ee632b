// Two configs beside each other share `.gamelayer/` and each keeps its own record of a tag (`build-v9.json` and
// `build-v9@<key>.json`). The same content built as v9 by both, only B's pushed: A's deploy pins the digests B's
// record lists as pushed. Only the build deployed (its own file) is passed over, not every record of its tag.
// Real registry, real CLI.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

describe('deploy of a build whose images the same tag of another store pushed', () => {
  let registry: TestRegistry;
  let dir: string;
  let repo: string;
  const cli = (config: string, args: string[]) => runCli(['-c', path.join(dir, config), ...args], { env: { HOME: dir } });

  beforeAll(async () => {
    registry = await startRegistry();
    repo = `${registry.host}/studio/sample`;
    dir = await tempDir('gl-deploy-other-store-');
    copySample(dir);
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    await writeFile(path.join(dir, 'gamelayer-b.yaml'), `${yaml.replace(/^store:.*\n/m, '')}store: b-store\n`);
  });
  afterAll(async () => registry?.stop());

  it('k8s, ecs and imagedefinitions of A write the spec when B pushed the same digests under the same tag', async () => {
    const b = await cli('gamelayer-b.yaml', ['build', '--tag', 'v9', '--push', repo]);
    expect(b.stderr).not.toContain('error');
    expect(b.code).toBe(0);
    expect((await cli('gamelayer.yaml', ['build', '--tag', 'v9'])).code).toBe(0);
    const records = (await readdir(path.join(dir, '.gamelayer/records'))).filter((n) => n.startsWith('build-v9'));
    expect(records).toHaveLength(2);
    for (const args of [['k8s', '--kind', 'fleet'], ['ecs'], ['codebuild', 'imagedefinitions']]) {
      const r = await cli('gamelayer.yaml', [...args, '--repository', repo]);
      expect(r.stderr).not.toContain('error');
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`note: build v9 was not pushed to ${repo}, but build v9 pushed`);
    }
  }, 240_000);
});
