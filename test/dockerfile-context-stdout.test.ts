// `dockerfile --context -` streams the build context, a tar of the whole game, to stdout. The old code wrote it to
// a terminal too (gigabytes of binary that the terminal acts on), and with --json printed the JSON after the tar
// into the same stream `docker build -` reads.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

// The CLI on a pseudo-terminal: Python's pty module runs it with stdout a tty and copies what it writes.
const ON_TTY = ['python3', '-c', 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)'];
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-ctx-stdout-');
  await writeTinyGame(dir, ['game: ctx', 'start: [/opt/local/engine/run]']);
});

describe('dockerfile --context -', () => {
  it('on a terminal: refused before any work, no tar written to it', async () => {
    const r = await runCli(['dockerfile', '--context', '-', '--out', 'df'], { cwd: dir, prefix: ON_TTY });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('error[cli.context-stdout]: --context -: stdout is a terminal; the build context is a tar archive');
    expect(r.stdout).not.toContain('ustar');
  });

  it('with --json: refused (the JSON would follow the tar on stdout)', async () => {
    const r = await runCli(['dockerfile', '--context', '-', '--json', '--out', 'df'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr + r.stdout).toContain('--context - with --json: both would go to stdout');
    expect(r.stdout).not.toContain('ustar');
  });

  it('into a pipe: the tar, as before', async () => {
    const r = await runCli(['dockerfile', '--context', '-', '--out', 'df'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.slice(257, 262)).toBe('ustar');
  });
});
