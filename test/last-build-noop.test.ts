// The last build is the one the user just ran, a no-op too. A no-op of an older tag (v2 pushed, v3 built locally
// after it, then `build --tag v2 --push` again: the same build, nothing written) left the last-build pointer naming
// v3, so `k8s` without a tag deployed v3, and `diff --previous` ignored the no-op's note (state/last-run.ts), which
// counts only while the pointer names that build. The no-op now moves the pointer to its record, whose bytes stay.
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();

/** The record's members with `store` last (stop 47's layout). */
function stop47(text: string): string {
  const { store, ...rest } = JSON.parse(text) as Record<string, unknown>;
  return JSON.stringify({ ...rest, store });
}

describe('the last build after a no-op of an older tag', () => {
  it('is that build: k8s and ecs without a tag deploy it, diff --previous compares with it; a stop-47 pointer too', async () => {
    const dir = await tempDir('gl-noop-pointer-');
    await writeTinyGame(dir, ['game: noop-pointer', 'start: [/opt/local/engine/run]']);
    const repo = `${registry.host}/studio/noop-pointer`;
    const records = path.join(dir, '.gamelayer', 'records');
    const pointer = path.join(records, 'build-last.json');
    const v2File = path.join(records, 'build-v2.json');
    const cli = async (args: string[]) => {
      const r = await runCli(args, { cwd: dir });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    const pushV2 = () => cli(['build', '--tag', 'v2', '--push', repo, '--line', 'main', '--json']);
    const first = JSON.parse((await pushV2()).stdout) as { images: { name: string; digest: string }[] };
    const server = first.images.find((i) => i.name === 'server')!.digest;
    const tagOf = async (file: string) => (JSON.parse(await readFile(file, 'utf8')) as { tags: string[] }).tags[0];

    const noopNamesV2 = async (round: string) => {
      const before = await readFile(v2File);
      const noop = JSON.parse((await pushV2()).stdout) as { summary: { built: number } };
      expect([round, noop.summary.built]).toEqual([round, 0]);
      // Without a tag: the last build, v2 (the old code took the local v3, unpushed: "registry: not set").
      const k8s = await runCli(['k8s'], { cwd: dir });
      expect([round, k8s.code, k8s.stdout]).toEqual([round, 0, expect.stringContaining(`${repo}:v2@${server}`)]);
      const ecs = await runCli(['ecs'], { cwd: dir });
      expect([round, ecs.code, ecs.stdout]).toEqual([round, 0, expect.stringContaining('"gamelayer.tag": "v2"')]);
      const diff = await runCli(['diff', '--against', repo, '--previous', '--exit-code'], { cwd: dir });
      expect([round, diff.code, diff.stdout]).toEqual([round, 0, expect.stringContaining('no changes')]);
      expect(diff.stdout).toContain(`${repo}:v2 (the line's previous build: the last build itself, which the last run made again unchanged)`);
      // The no-op's record stays as it was; the pointer is a copy of it, as a real build leaves it.
      expect((await readFile(v2File)).equals(before), round).toBe(true);
      expect((await readFile(pointer)).equals(before), round).toBe(true);
    };

    // v3 built locally from the same content.
    await cli(['build', '--tag', 'v3']);
    expect(await tagOf(pointer)).toBe('v3');
    await noopNamesV2('v3 of the same content');

    // v4 built locally from other content, which then goes back to v2's.
    const changed = path.join(dir, 'app-media', 'f.txt');
    const content = await readFile(changed);
    await appendFile(changed, 'changed\n');
    await cli(['build', '--tag', 'v4']);
    expect(await tagOf(pointer)).toBe('v4');
    await writeFile(changed, content);
    await noopNamesV2('v4 of other content');

    // A pointer and a record of stop 47's layout (`store` last): the record is put in this layout, the pointer made
    // its copy.
    await cli(['build', '--tag', 'v5']);
    await writeFile(pointer, stop47(await readFile(pointer, 'utf8')));
    const v2Before = await readFile(v2File, 'utf8');
    await writeFile(v2File, stop47(v2Before));
    await pushV2();
    const v2After = await readFile(v2File, 'utf8');
    expect(v2After.startsWith('{"kind":"build","store":"oci",')).toBe(true);
    expect(JSON.parse(v2After)).toEqual(JSON.parse(v2Before));
    await noopNamesV2('stop 47 layout');
  }, 240_000);
});
