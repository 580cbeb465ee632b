// gamelayer init on a folder whose engine tarball name is taken by something that is not a file: a FIFO (opening it
// for reading waits for a writer that never comes: init hung forever) or a character device behind a symlink. init
// only reads regular files: it finishes, says so, and never proposes the special file as the engine's source.
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, type RunningCli } from './support/cli-process.js';
import { mkfifo } from './support/mkfifo.js';
import { tempDir } from './support/tmp.js';

let running: RunningCli | undefined;
afterEach(() => {
  // A hung init (the old code on a FIFO) is not left behind.
  running?.child.kill('SIGKILL');
  running = undefined;
});

async function buildFolder(): Promise<string> {
  const dir = await tempDir();
  await mkdir(path.join(dir, 'paks'));
  await writeFile(path.join(dir, 'paks/level.pak'), Buffer.alloc(1024, 7));
  await mkdir(path.join(dir, 'game'));
  await writeFile(path.join(dir, 'game/server.cfg'), 'port=1\n');
  return dir;
}

describe('init and special files named like an engine tarball', () => {
  it.each([
    ['a FIFO', (p: string) => mkfifo(p)],
    ['a symlink to /dev/zero', (p: string) => symlink('/dev/zero', p)],
  ])('%s: init finishes and does not take it as the engine', async (_what, make) => {
    const dir = await buildFolder();
    const special = path.join(dir, 'BinLinux64.Dedicated.tar.gz');
    await make(special);
    running = startCli(['init', dir, '--game', 'odd']);
    const r = await running.result;
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${special} is not a regular file or a folder: left out`);
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    expect(yaml).not.toContain('BinLinux64.Dedicated.tar.gz"');
  });
});
