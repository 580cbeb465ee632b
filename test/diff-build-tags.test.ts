// `diff 1.0 1.1` between two local builds: inspect, load and gc take a build by its tag, but diff said
// "1.0: no such record file or directory" and a user had to find .gamelayer/records/build-1.0.json by hand.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-diff-tags-');
  copySample(dir);
  expect((await runCli(['build', '--tag', '1.0'], { cwd: dir })).code).toBe(0);
  await appendFile(path.join(dir, 'app', 'config', 'server.cfg'), 'maxPlayers=64\n');
  expect((await runCli(['build', '--tag', '1.1'], { cwd: dir })).code).toBe(0);
}, 120_000);

describe('diff of local builds named by their tags', () => {
  it('diff 1.0 1.1 compares the two builds\' records', async () => {
    const r = await runCli(['diff', '1.0', '1.1'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${path.join(dir, '.gamelayer', 'records', 'build-1.0.json')} → ${path.join(dir, '.gamelayer', 'records', 'build-1.1.json')}`);
    expect(r.stdout).toContain('~ config/server.cfg');
  });

  it('diff 1.0 compares that build with the working trees', async () => {
    const r = await runCli(['diff', '1.0', '--exit-code'], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toContain('→ working trees');
    expect(r.stdout).toContain('~ config/server.cfg');
  });

  it('a tag no local build has is named, with the builds there are', async () => {
    const r = await runCli(['diff', '0.9', '1.1'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[diff.arg-missing]: 0.9: no such record file, directory or local build');
    expect(r.stderr).toContain('builds here: 1.1, 1.0');
  });
});
