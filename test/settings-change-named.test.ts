// A mount moved in gamelayer.yaml: `diff` said "no changes … 4 reused, 0 to rebuild", then `build` rebuilt the tree
// and said "previous build: none (no earlier build in .gamelayer/)" though the last build was right there. The build
// does not build on a record of other layer settings; both now say so, by field, and diff counts what build rebuilds.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-settings-named-');
  copySample(dir);
  expect((await runCli(['build'], { cwd: dir })).code).toBe(0);
  const yaml = path.join(dir, 'gamelayer.yaml');
  const text = await readFile(yaml, 'utf8');
  expect(text).toContain('    source: ./app\n');
  await writeFile(yaml, text.replace('    source: ./app\n', '    source: ./app\n    mount: /srv/app\n'));
}, 120_000);

describe('a build after a layer setting changed (a mount moved)', () => {
  it('diff says the app layer is rebuilt and why', async () => {
    const r = await runCli(['diff'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^app +0 +\d+ +[\d.]+ KiB +rebuilt$/m);
    expect(r.stdout).toContain('layers: 3 reused, 1 to rebuild');
    expect(r.stdout).toContain('was built with other layer settings (trees.app.mount /opt/local/app → /srv/app)');
    const json = JSON.parse((await runCli(['diff', '--json'], { cwd: dir })).stdout) as { layers: { afresh?: string; rebuilt: number } };
    expect(json.layers).toMatchObject({ afresh: 'trees.app.mount /opt/local/app → /srv/app', rebuilt: 1 });
  });

  it('build names the setting instead of saying there was no earlier build', async () => {
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('previous build: none (the last build (1.0.0) was built with other layer settings (trees.app.mount /opt/local/app → /srv/app)); every tree planned afresh');
    expect(r.stdout).not.toContain('no earlier build');
    expect(r.stdout).toContain('layers: 1 built, 3 reused');
  });
});
