// diff --limit is a count of paths listed per tree. "abc" and 0 were read as 20, and -5 listed all but the last five
// paths with "… and N more" counting them; each is now either used as given (0: none listed) or refused (exit 2).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { mkdir } from 'node:fs/promises';

let root: string;
beforeAll(async () => {
  root = await tempDir();
  await mkdir(path.join(root, 'a'));
  await mkdir(path.join(root, 'b'));
  for (let i = 0; i < 6; i++) await writeFile(path.join(root, 'b', `f${i}`), `${i}\n`);
});

describe('diff --limit', () => {
  it.each(['abc', '-5', '1.5', ''])('%j is refused', async (limit) => {
    const r = await runCli(['diff', 'a', 'b', '--limit', limit], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error[cli.diff-args]: --limit ${limit}: expected a whole number of paths per tree, 0 or more`);
  });

  it('0 lists no path, 2 lists two', async () => {
    const none = await runCli(['diff', 'a', 'b', '--limit', '0'], { cwd: root });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).not.toMatch(/^ {2}\+ f/m);
    expect(none.stdout).toContain('… and 6 more');
    const two = await runCli(['diff', 'a', 'b', '--limit', '2'], { cwd: root });
    expect(two.stdout.match(/^ {2}\+ f\d/gm)).toHaveLength(2);
    expect(two.stdout).toContain('… and 4 more');
  });
});
