// `build --push` takes --line (the line of work whose tag moves to the build's record); `push` had no --line, so a
// build made without --push could only be pushed on the default line (GAMELAYER_LINE, the git branch, "default"). It
// takes --line now, with build's meaning: the named line's tag moves to the pushed record when it is the line's
// newest, to one repository or several; a push of one image (--image), of no local build, or of one platform's build
// (which moves no line, as build --platform P --push does not) refuses it as a usage error.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliOk, registryRecords, runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();
const env = { GAMELAYER_LINE: undefined };

const cli = (dir: string, args: string[]) => cliOk(dir, args, env);
const records = (dir: string, repo: string) => registryRecords(dir, repo, env);

describe('push --line', () => {
  it("moves the named line's tag to the pushed build, as build --push --line does", async () => {
    const dir = await tempDir('gl-push-line-flag-');
    const repo = `${registry.host}/studio/push-line-flag`;
    const other = `${registry.host}/studio/push-line-flag-eu`;
    await writeTinyGame(dir, ['game: push-line-flag', 'start: [/opt/local/engine/run]', `registry: ${repo}`]);
    await cli(dir, ['build', '--tag', 'v1']);
    await cli(dir, ['push', 'v1', '--line', 'release']);
    const lineTag = Object.keys(await records(dir, repo)).find((t) => t.startsWith('gamelayer-line.'));
    expect(await records(dir, repo)).toEqual({ [lineTag!]: 'record of v1 (line release)', 'v1.gamelayer-record': 'record of v1' });
    // build --push --line names the same line tag.
    await writeFile(path.join(dir, 'app', 'f.txt'), 'two\n');
    await cli(dir, ['build', '--tag', 'v2', '--push', '--line', 'release']);
    expect((await records(dir, repo))[lineTag!]).toBe('record of v2 (line release)');

    // Several repositories: the line moves in each.
    await cli(dir, ['push', `${repo}:v2`, `${other}:v2`, '--line', 'hotfix']);
    for (const r of [repo, other]) expect(Object.values(await records(dir, r))).toContain('record of v2 (line hotfix)');
  }, 120_000);

  it.each([
    [['push', 'v1', '--image', 'v1', '--line', 'main'], '--line main goes with the push of a build'],
    [['push', 'nothing-built', '--line', 'main'], '--line main: '],
  ])('%j is a usage error', async (args, said) => {
    const dir = await tempDir('gl-push-line-usage-');
    await writeTinyGame(dir, ['game: push-line-usage', 'start: [/opt/local/engine/run]', `registry: ${registry.host}/studio/push-line-usage`]);
    await cli(dir, ['build', '--tag', 'v1']);
    const r = await runCli(args, { cwd: dir, env });
    expect(r.stderr).toContain(`error[cli.usage]: ${said}`);
    expect(r.code).toBe(2);
  });

  it("refuses it for one platform's build, which moves no line, and pushes that build without moving one", async () => {
    const dir = await tempDir('gl-push-line-platform-');
    const repo = `${registry.host}/studio/push-line-platform`;
    await writeTinyGame(dir, ['game: push-line-platform', 'start: [/opt/local/engine/run]', 'platforms: [linux/amd64, linux/arm64]', `registry: ${repo}`]);
    await cli(dir, ['build', '--platform', 'linux/amd64', '--tag', 'v1', '--push']);
    const r = await runCli(['push', 'v1-linux-amd64', '--line', 'main'], { cwd: dir, env });
    expect(r.stderr).toContain('error[cli.usage]: --line main: v1-linux-amd64 is a build of linux/amd64 alone, which moves no line');
    expect(r.code).toBe(2);
    // Pushed again without --line: still no line tag (it took the default line and moved it to this record before).
    await cli(dir, ['push', 'v1-linux-amd64']);
    expect(Object.keys(await records(dir, repo)).filter((t) => t.startsWith('gamelayer-line.'))).toEqual([]);
  }, 120_000);
});
