// `gamelayer init` points the trees a build has nothing for at `gamelayer-empty/`, which it creates. What already
// stands at that name must be an empty folder: the old code took a symlink there (to /etc) as the empty tree, so a
// build put the host's /etc into three images, and a file there failed as an internal EEXIST.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

async function buildFolder(): Promise<string> {
  const dir = await tempDir('gl-init-empty-');
  await mkdir(path.join(dir, 'app'));
  await writeFile(path.join(dir, 'app', 'game.cfg'), 'x\n');
  return dir;
}

describe('gamelayer init and what stands at gamelayer-empty', () => {
  it('a symlink there (to a folder full of files): refused by name, nothing written', async () => {
    const dir = await buildFolder();
    const outside = await tempDir('gl-init-outside-');
    await writeFile(path.join(outside, 'secret'), 'not game data\n');
    await symlink(outside, path.join(dir, 'gamelayer-empty'));
    const r = await runCli(['init', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[init.empty-folder]: ${path.join(dir, 'gamelayer-empty')}: a symbolic link; init points the trees this build has nothing for at it`);
    expect(r.stderr).not.toContain('error[internal]');
    expect(existsSync(path.join(dir, 'gamelayer.yaml'))).toBe(false);
    expect(await readlink(path.join(dir, 'gamelayer-empty'))).toBe(outside);
  });

  it('a file there: init.empty-folder (was an internal EEXIST), the file kept', async () => {
    const dir = await buildFolder();
    await writeFile(path.join(dir, 'gamelayer-empty'), 'mine\n');
    const r = await runCli(['init', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[init.empty-folder]: ${path.join(dir, 'gamelayer-empty')}: not a folder`);
    expect(await readFile(path.join(dir, 'gamelayer-empty'), 'utf8')).toBe('mine\n');
    expect(existsSync(path.join(dir, 'gamelayer.yaml'))).toBe(false);
  });

  it('a folder with files there: refused; --force does not change that, and the old config stays', async () => {
    const dir = await buildFolder();
    await mkdir(path.join(dir, 'gamelayer-empty'));
    await writeFile(path.join(dir, 'gamelayer-empty', 'leftover.pak'), 'x');
    await writeFile(path.join(dir, 'gamelayer.yaml'), '# mine\n');
    const r = await runCli(['init', dir, '--force']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[init.empty-folder]: ${path.join(dir, 'gamelayer-empty')}: a folder that is not empty`);
    expect(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')).toBe('# mine\n');
  });

  it('init twice: the empty folder the first made is taken again, and the build of it holds only app', async () => {
    const dir = await buildFolder();
    expect((await runCli(['init', dir])).code).toBe(0);
    const again = await runCli(['init', dir, '--force']);
    expect(again.code, again.stderr).toBe(0);
    const scan = await runCli(['scan', '--json'], { cwd: dir });
    expect(scan.code, scan.stderr).toBe(0);
    const files = (JSON.parse(scan.stdout) as { trees: { tree: string; files: number }[] }).trees.map((t) => [t.tree, t.files]);
    expect(files).toEqual([['engine', 0], ['engine-media', 0], ['app', 1], ['app-media', 0]]);
  });

  it('a build folder this user may not write: init.unwritable saying what init writes (the hint named --out and --store, which init has not)', async () => {
    const dir = await buildFolder();
    await chmod(dir, 0o755); // readable by all, writable by its owner (root) only
    const r = await runCli(['init', dir], { asUser: { uid: 65534, gid: 65534 } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error[init.unwritable]: ${dir}: cannot write gamelayer.yaml or gamelayer-empty/ there (EACCES)\n` +
        'hint: init writes into the build folder: make it writable for this user (or run as its owner), or run init on a writable copy of the build\n',
    );
    expect(existsSync(path.join(dir, 'gamelayer.yaml'))).toBe(false);
  });

  it('a folder named gamelayer.yaml: init.exists, also with --force (was an internal EISDIR), nothing made', async () => {
    const dir = await buildFolder();
    await mkdir(path.join(dir, 'gamelayer.yaml'));
    const r = await runCli(['init', dir, '--force']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error[init.exists]: ${path.join(dir, 'gamelayer.yaml')} is a folder, not a config file\nhint: move the folder gamelayer.yaml away, then run init again\n`);
    expect(existsSync(path.join(dir, 'gamelayer-empty'))).toBe(false);
  });

  it('a build folder this user may not read (0700, another owner): init.unreadable naming it (it said "cannot write", state.unwritable)', async () => {
    const dir = await buildFolder();
    await chmod(dir, 0o700);
    const r = await runCli(['init', dir], { asUser: { uid: 65534, gid: 65534 } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error[init.unreadable]: ${dir}: cannot read the folder (EACCES); init looks at the build's files to propose a config\n` +
        'hint: make the folder readable for this user (or run init as its owner)\n',
    );
    expect(existsSync(path.join(dir, 'gamelayer.yaml'))).toBe(false);
    expect(existsSync(path.join(dir, 'gamelayer-empty'))).toBe(false);
  });

  it('a folder the kernel makes nothing in (/proc answers ENOENT): init.unwritable, not an internal error', async () => {
    const r = await runCli(['init', '/proc']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[init.unwritable]: /proc: cannot write gamelayer.yaml or gamelayer-empty/ there (ENOENT)');
  });
});
