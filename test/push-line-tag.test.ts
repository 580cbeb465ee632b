// `gamelayer push TAG` of a build made without --push sent its record with no line of work: the line tag stayed on
// an older build, or on the record that the pushed tag's record tag had just moved off (ls: `record of ? (line
// default)`; prune kept a build the line tag did not name). A pushed build now takes the line build --push gives it:
// the line tag names it when it is the line's newest, and never moves back to an older build.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();
const env = { GAMELAYER_LINE: undefined };

async function cli(dir: string, args: string[]): Promise<string> {
  const r = await runCli(args, { cwd: dir, env });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** ls REPO's record rows: tag → KIND column. */
async function records(dir: string, repo: string): Promise<Record<string, string>> {
  const out = await cli(dir, ['ls', repo]);
  return Object.fromEntries(out.split('\n').filter((l) => l.includes('record of')).map((l) => [l.split(/\s+/)[0]!, /record of [^\n]*?(?=\s{2,})/.exec(l)![0]]));
}

describe('push of a build made without --push', () => {
  it('moves the line tag to it when it is the line newest, never back to an older build', async () => {
    const dir = await tempDir('gl-push-line-');
    const repo = `${registry.host}/studio/push-line`;
    await writeTinyGame(dir, ['game: push-line', 'start: [/opt/local/engine/run]', `registry: ${repo}`]);
    const edit = (text: string) => writeFile(path.join(dir, 'app', 'f.txt'), text);

    await cli(dir, ['build', '--tag', 'v0']); // older than v1, pushed last
    await edit('1\n');
    await cli(dir, ['build', '--tag', 'v1', '--push']);
    await edit('1b\n');
    await cli(dir, ['build', '--tag', 'v1']); // v1 built again, then pushed again by push
    await cli(dir, ['push', 'v1']);
    expect(await records(dir, repo)).toEqual({ 'gamelayer-line.default': 'record of v1 (line default)', 'v1.gamelayer-record': 'record of v1' });

    await edit('2\n');
    await cli(dir, ['build', '--tag', 'v2']);
    await cli(dir, ['push', 'v2']);
    await cli(dir, ['push', 'v0']);
    expect((await records(dir, repo))['gamelayer-line.default']).toBe('record of v2 (line default)');

    const prune = await cli(dir, ['prune', repo, '--keep', '1']);
    expect(prune).toContain('kept 1 build: v2');
  }, 120_000);
});
