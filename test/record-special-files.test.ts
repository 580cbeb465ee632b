// A record path named on the command line that is not a regular file: `diff FIFO` and `k8s --record FIFO` waited
// for a writer for ever, and `run-local --record /dev/zero` read without end (23 GB before it was killed). Every
// record reader opens only a regular file and reads only the bytes it held: a clear record.unreadable instead.
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, type RunningCli } from './support/cli-process.js';
import { mkfifo } from './support/mkfifo.js';
import { sampleGame } from './support/sample.js';

let running: RunningCli | undefined;
afterEach(() => {
  // The old code hangs on these: the test's own timeout ends it, and the child does not outlive it.
  running?.child.kill('SIGKILL');
  running = undefined;
});

describe('record paths that are not regular files', () => {
  it.each([
    ['diff', (f: string, cfg: string) => ['diff', f, '-c', cfg]],
    ['k8s --record', (f: string, cfg: string) => ['k8s', '-c', cfg, '--record', f]],
    ['run-local --record', (f: string, cfg: string) => ['run-local', '-c', cfg, '--record', f]],
  ])('%s of a FIFO and of /dev/zero: refused, naming the file', async (_cmd, args) => {
    const { dir, game } = await sampleGame();
    const cfg = path.join(game, 'gamelayer.yaml');
    const fifo = path.join(dir, 'record.fifo');
    await mkfifo(fifo);
    const zero = path.join(dir, 'record-zero.json');
    await symlink('/dev/zero', zero);
    for (const [file, kind] of [[fifo, 'a FIFO'], [zero, 'a character device']] as const) {
      running = startCli(args(file, cfg));
      const r = await running.result;
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toContain('record.unreadable');
      expect(r.stderr).toContain(`${file}: cannot be read: not a regular file (${kind})`);
    }
  });
});
