// gc and prune flags as the README gives them: `-t, --tag` names a build for gc too (and is kept), and a bad --keep
// is quoted as typed (it used to read "--keep NaN"), before any store or registry is touched.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeGame } from './support/trees.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-gc-flags-'));
  await writeGame(root);
  for (const tag of ['a', 'b', 'c']) expect((await runCli(['build', '-t', tag], { cwd: root })).code).toBe(0);
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('gc --tag', () => {
  // It used to keep none of them: the named builds were compared by object identity with records read anew.
  for (const flag of ['--tag', '-t']) {
    it(`keeps the build named with ${flag} beside the newest`, async () => {
      const r = await runCli(['gc', '--keep', '1', flag, 'a', '--json'], { cwd: root });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { keptBuilds: string[]; removedBuilds: string[] };
      expect(out.keptBuilds.sort()).toEqual(['a', 'c']);
      expect(out.removedBuilds).toEqual(['b']);
    });
  }

  it('--apply leaves the named build loadable', async () => {
    const r = await runCli(['gc', '--keep', '1', '--tag', 'a', '--apply'], { cwd: root });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kept 2 builds: c, a\nremoved 1 build: b /);
    const ls = await runCli(['ls', '--json'], { cwd: root });
    const tags = (JSON.parse(ls.stdout) as { tags: { tag: string }[] }).tags.map((t) => t.tag);
    expect(tags).toEqual(expect.arrayContaining(['a', 'a-app', 'a-app-media', 'a-engine', 'a-engine-media', 'c']));
    expect(tags).not.toContain('b');
  });
});

describe('--keep that is not a whole number of builds', () => {
  for (const [cmd, args] of [
    ['gc', ['gc']],
    ['prune', ['prune', '127.0.0.1:9/studio/game']],
  ] as const) {
    for (const keep of ['abc', '1.5', '0', '']) {
      it(`${cmd} --keep ${JSON.stringify(keep)}: cli.keep quoting it, exit 2`, async () => {
        const r = await runCli([...args, '--keep', keep], { cwd: root });
        expect(r.stderr).toBe(`error[cli.keep]: --keep ${keep === '' ? '""' : keep}: expected a whole number of builds, at least 1\n`);
        expect(r.code).toBe(2);
      });
    }
  }
});
