// `gamelayer k8s --tag v1` and `ecs --tag v1` were "unknown option '--tag'" (run-local, load, build and gc take it,
// and the README says -t, --tag names a build's tag everywhere): only --record with the record's path deployed an
// older build. -t, --tag now deploys that local build; an unknown tag names the builds there, and --tag with
// --record is refused as naming the build twice.
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeBusyboxGame } from './support/busybox-layout.js';
import { tempDir } from './support/tmp.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-deploy-tag-');
  await writeBusyboxGame(dir, 'deploy-tag', '');
  for (const v of ['one', 'two']) {
    await writeFile(path.join(dir, 'app', 'v.txt'), v);
    const b = await runCli(['build', '--tag', v], { cwd: dir });
    expect(b.code, b.stderr).toBe(0);
  }
}, 120_000);

async function recordOf(tag: string): Promise<string> {
  const records = path.join(dir, '.gamelayer', 'records');
  const file = (await readdir(records)).find((f) => f.includes(tag) && f.endsWith('.json'));
  expect(file, `a record of ${tag} in ${records}`).toBeDefined();
  return path.join(records, file!);
}

describe.each([
  ['k8s', ['k8s', '--local', '--repository', '127.0.0.1:1/deploy-tag']],
  ['ecs', ['ecs', '--local', '--repository', '127.0.0.1:1/deploy-tag']],
])('%s --tag', (_name, command) => {
  it('deploys the build of that tag (as --record with its file); without it, the last build', async () => {
    const one = await runCli([...command, '--tag', 'one'], { cwd: dir });
    expect(one.code, one.stderr).toBe(0);
    const byFile = await runCli([...command, '--record', await recordOf('one')], { cwd: dir });
    expect(one.stdout).toBe(byFile.stdout);
    const two = await runCli([...command, '-t', 'two'], { cwd: dir });
    const last = await runCli(command, { cwd: dir });
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toBe(last.stdout);
    expect(one.stdout).not.toBe(two.stdout);
  });

  it('an unknown tag names the builds there; --tag with --record is refused', async () => {
    const unknown = await runCli([...command, '--tag', 'three'], { cwd: dir });
    expect(unknown.stderr).toBe(`error[record.no-build]: no build three in ${path.join(dir, '.gamelayer', 'records')}\nhint: builds here: two, one\n`);
    expect(unknown.code).toBe(1);
    const both = await runCli([...command, '--tag', 'one', '--record', 'x.json'], { cwd: dir });
    expect(both.stderr).toBe('error[deploy.option]: --tag one and --record x.json both name the build to deploy\nhint: give one of them\n');
    expect(both.code).toBe(2);
  });
});
