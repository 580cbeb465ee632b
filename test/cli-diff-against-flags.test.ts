// diff's --line, --to and --if-exists act only with --against (--line only with --against host/repo): without it they
// were silently ignored and a local diff ran, exit 0. Each is now refused (exit 2) before anything is read.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

let root: string;
beforeAll(async () => {
  root = await tempDir();
  await mkdir(path.join(root, 'a'));
  await mkdir(path.join(root, 'b'));
  await writeFile(path.join(root, 'b', 'f'), 'x\n');
});

describe('diff flags that go with --against', () => {
  it.each([
    [['--line', 'main'], '--line'],
    [['--to', '127.0.0.1:5000/g:1'], '--to'],
    [['--if-exists'], '--if-exists'],
    [['--no-pull-cost'], '--no-pull-cost'],
    [['--previous'], '--previous'],
  ])('%j without --against is refused', async (flags, name) => {
    const r = await runCli(['diff', 'a', 'b', ...flags], { cwd: root });
    expect(r.code, r.stdout).toBe(2);
    expect(r.stderr).toContain(`error[cli.diff-args]: ${name} goes with --against`);
    expect(r.stdout).toBe('');
  });

  it('--line with --against REPO:TAG is refused before the registry is asked', async () => {
    // Port 9 (discard) on loopback: nothing answers, so reaching the registry would fail with another error.
    const r = await runCli(['diff', '--against', '127.0.0.1:9/g:1.0.0', '--line', 'main'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error[cli.diff-args]: --line main goes with --against host/repo (no tag or digest): 127.0.0.1:9/g:1.0.0 names one build');
  });

  it.each([['127.0.0.1:9/g:1.0.0'], ['127.0.0.1:9/g', '--line', 'main'], ['127.0.0.1:9/g', '--to', '127.0.0.1:9/g:2']])('--previous with --against %s is refused before the registry is asked', async (...against) => {
    const r = await runCli(['diff', '--against', ...against, '--previous'], { cwd: root });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error[cli.diff-args]: --previous goes with --against host/repo alone (no tag or digest, --to or --line)');
  });
});
