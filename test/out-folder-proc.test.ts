// A folder that cannot be made although its parent exists (a path under /proc): Node's recursive mkdir retried it
// forever at full CPU, so `gamelayer k8s --out /proc/x` never returned. Every level is now tried once and the
// error named.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFolders } from '../src/util/make-folders.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

describe('making the folders of an output path', () => {
  it('fails on a path under /proc instead of spinning', async () => {
    await expect(makeFolders('/proc/gamelayer-out/k8s')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(writeFileAtomic('/proc/gamelayer-out/pod.yaml', 'x')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('makes missing levels, accepts existing folders, refuses a file in the way', async () => {
    const dir = await tempDir();
    await makeFolders(path.join(dir, 'a/b/c'));
    await makeFolders(path.join(dir, 'a/b/c'));
    await mkdir(path.join(dir, 'x'));
    await writeFileAtomic(path.join(dir, 'x/f'), 'x');
    await expect(makeFolders(path.join(dir, 'x/f'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeFolders(path.join(dir, 'x/f/g'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('k8s --out /proc/… ends with the error', async () => {
    const game = path.join(await tempDir(), 'game');
    copySample(game);
    expect((await runCli(['build'], { cwd: game })).code).toBe(0);
    const r = await runCli(['k8s', '--out', '/proc/gamelayer-out', '--repository', '127.0.0.1:9/studio/game', '--local'], { cwd: game });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[deploy.write]: /proc/gamelayer-out/pod.yaml: cannot write: ENOENT');
  });
});
