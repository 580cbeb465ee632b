// Folders a build writes (the state folder .gamelayer, the store) named by a path that cannot be a folder: each is
// refused naming the path, before any work. A file where .gamelayer goes passed the writable check and failed at
// its first mkdir, and a store path through a file or a loop of links failed the check itself: each as an
// error[internal] ENOTDIR or ELOOP.
import { readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

async function sample(store?: string): Promise<string> {
  const dir = path.join(await tempDir('gl-state-kinds-'), 'game');
  copySample(dir);
  if (store) await writeFile(path.join(dir, 'gamelayer.yaml'), `${await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')}\nstore: ${store}\n`);
  return dir;
}

describe('state and store folders that cannot be folders', () => {
  it('a file named .gamelayer', async () => {
    const dir = await sample();
    await writeFile(path.join(dir, '.gamelayer'), 'notes\n');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[state.unwritable]: ${path.join(dir, '.gamelayer')}: is a file, not a folder\n`);
    expect(await readFile(path.join(dir, '.gamelayer'), 'utf8')).toBe('notes\n');
  });

  it('a store path through a file', async () => {
    const dir = await sample('gamelayer.yaml/oci');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[state.unwritable]: ${path.join(dir, 'gamelayer.yaml/oci')}: cannot write: a part of the path is a file, not a folder (ENOTDIR)\n`);
  });

  it('a store path whose symbolic links loop', async () => {
    const dir = await sample('loop-a');
    await symlink('loop-b', path.join(dir, 'loop-a'));
    await symlink('loop-a', path.join(dir, 'loop-b'));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[state.unwritable]: ${path.join(dir, 'loop-a')}: cannot write: its symbolic links loop (ELOOP)\n`);
  });
});
