// `gamelayer run-local --tag v1` (as `load --tag v1`, `build --tag v1`, `gc --tag v1` name a build) was "unknown option
// '--tag'": only the last build ran, or another by the path of its record file. -t, --tag now runs that local build;
// an unknown tag names the builds there, and --tag with --record is refused as naming the build twice.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeBusyboxGame } from './support/busybox-layout.js';
import { tempDir } from './support/tmp.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-run-tag-');
  await writeBusyboxGame(dir, 'run-tag', 'echo "version $(cat /opt/local/app/v.txt)"\n');
  for (const v of ['one', 'two']) {
    await writeFile(path.join(dir, 'app', 'v.txt'), v);
    const b = await runCli(['build', '--tag', v], { cwd: dir });
    expect(b.code, b.stderr).toBe(0);
  }
}, 120_000);

describe('run-local --tag', () => {
  it('runs the build of that tag; without it, the last build', async () => {
    const tagged = await runCli(['run-local', '--tag', 'one', '--volumes', 'none'], { cwd: dir });
    expect(tagged.code, tagged.stderr).toBe(0);
    expect(tagged.stdout + tagged.stderr).toContain('version one');
    const last = await runCli(['run-local', '--volumes', 'none'], { cwd: dir });
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout + last.stderr).toContain('version two');
  }, 120_000);

  it('an unknown tag names the builds there; --tag with --record is refused', async () => {
    const unknown = await runCli(['run-local', '--tag', 'three'], { cwd: dir });
    expect(unknown.stderr).toBe(`error[record.no-build]: no build three in ${path.join(dir, '.gamelayer', 'records')}\nhint: builds here: two, one\n`);
    expect(unknown.code).toBe(1);
    const both = await runCli(['run-local', '--tag', 'one', '--record', 'x.json'], { cwd: dir });
    expect(both.stderr).toBe('error[run.option]: --tag one and --record x.json both name the build to run\nhint: give one of them\n');
    expect(both.code).toBe(2);
  });
});
