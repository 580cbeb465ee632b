// `init --force` over a gamelayer.yaml that is a symlink (configs kept in a dotfiles or infra folder, linked into
// the build): the old code renamed the new config over the link, so the link was gone, its target kept the old
// config, and the file's mode (0600, say) became the umask's. Now the target is written, its mode kept.
import { chmod, lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const OLD = 'game: old-config\n';

describe('init --force over a symlinked gamelayer.yaml', () => {
  it('writes the new config through the link into its target, the link and the mode kept', async () => {
    const dir = await tempDir('gl-init-link-');
    await mkdir(path.join(dir, 'app'));
    await writeFile(path.join(dir, 'app', 'game.cfg'), 'x\n');
    const configs = await tempDir('gl-init-link-target-');
    const target = path.join(configs, 'game.yaml');
    await writeFile(target, OLD);
    await chmod(target, 0o640);
    await symlink(target, path.join(dir, 'gamelayer.yaml'));

    const r = await runCli(['init', '--force', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((await lstat(path.join(dir, 'gamelayer.yaml'))).isSymbolicLink()).toBe(true);
    expect(await readlink(path.join(dir, 'gamelayer.yaml'))).toBe(target);
    const text = await readFile(target, 'utf8');
    expect(text).not.toBe(OLD);
    expect(text).toContain('trees:');
    expect((await stat(target)).mode & 0o777).toBe(0o640);
    // The config as read through the link loads and points at the build folder's trees.
    const scan = await runCli(['scan', '--json'], { cwd: dir });
    expect(scan.code, scan.stderr).toBe(0);
  });

  it('over a plain file, the mode is kept too', async () => {
    const dir = await tempDir('gl-init-mode-');
    await mkdir(path.join(dir, 'app'));
    await writeFile(path.join(dir, 'app', 'game.cfg'), 'x\n');
    await writeFile(path.join(dir, 'gamelayer.yaml'), OLD);
    await chmod(path.join(dir, 'gamelayer.yaml'), 0o600);
    const r = await runCli(['init', '--force', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')).toContain('trees:');
    expect((await stat(path.join(dir, 'gamelayer.yaml'))).mode & 0o777).toBe(0o600);
  });
});
