// An archive base that cannot be read as one: a missing file crashed the CLI with a stack trace (an 'error' event of
// the tar reader nobody listened to), a folder and a file that is not a tar were internal errors. Each is now the
// base's error naming the file: `base.unreadable`, `base.archive`.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

async function buildOn(base: string, setup: (dir: string) => Promise<void> = async () => {}) {
  const dir = await tempDir('gl-base-unreadable-');
  await writeTinyGame(dir, ['game: unreadable-base', 'start: [/opt/local/engine/run]', `baseImage: ${base}`]);
  await setup(dir);
  return { dir, r: await runCli(['build'], { cwd: dir }) };
}

describe('an archive base that cannot be read as one', () => {
  it('a docker-archive that is not there: base.unreadable naming it, no stack trace', async () => {
    const { dir, r } = await buildOn('docker-archive:gone.tar');
    const file = path.join(dir, 'gone.tar');
    expect(r.stderr).toContain(`error[base.unreadable]: ${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage: ${file}: cannot read: ENOENT: no such file or directory, open '${file}'\n`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(1);
  });

  it('an oci-archive that is a folder: base.unreadable naming it', async () => {
    const { dir, r } = await buildOn('oci-archive:layout', (d) => mkdir(path.join(d, 'layout')).then(() => {}));
    expect(r.stderr).toContain(`error[base.unreadable]: ${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage: ${path.join(dir, 'layout')}: cannot read: a directory, not a regular file`);
    expect(r.code).toBe(1);
  });

  it('an oci-archive that is not a tar: base.archive naming it', async () => {
    const { dir, r } = await buildOn('oci-archive:notes.tar', (d) => writeFile(path.join(d, 'notes.tar'), 'not a tar\n'));
    expect(r.stderr).toMatch(new RegExp(`error\\[base\\.archive\\]: ${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage: ${path.join(dir, 'notes.tar')}: not a readable tar archive: `));
    expect(r.code).toBe(1);
  });
});
