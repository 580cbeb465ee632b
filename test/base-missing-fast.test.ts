// A base image that is not in its registry (a mistyped tag, a tag deleted) fails the build before the trees are
// hashed: the base is read beside the scan and its failure stops the scan. The old code read it only when planning,
// after every tree was hashed (minutes on a big game). Here the second build's game gains a 16 GiB sparse file, which
// a scan would hash (a build with an earlier one hashes in the scan); strace counts the reads of it: the whole file
// takes 16,384 reads of 1 MiB (some seconds of hashing), the registry's 404 comes back within milliseconds.
import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();

describe('a base image the registry does not have', () => {
  it('fails the build at baseImage before the trees are hashed', async () => {
    const dir = await tempDir('gl-base-missing-');
    await writeTinyGame(dir, ['game: base-missing', 'start: [/opt/local/engine/run]']);
    expect((await runCli(['build'], { cwd: dir })).code).toBe(0);

    await writeTinyGame(dir, ['game: base-missing', 'start: [/opt/local/engine/run]', `baseImage: ${registry.host}/os/base:mistyped`]);
    await writeFile(path.join(dir, 'app-media', 'big.pak'), '');
    await truncate(path.join(dir, 'app-media', 'big.pak'), 16 * 2 ** 30);
    const trace = path.join(dir, 'reads.txt');
    const big = path.join(dir, 'app-media', 'big.pak');
    const prefix = ['strace', '-f', '-qq', '-o', trace, '-P', big, '-e', 'trace=read,pread64,readv,preadv,preadv2'];
    const r = await runCli(['build'], { cwd: dir, prefix });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[base.pull]: ${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage:`);
    // The scan was stopped long before the big file's end.
    const reads = (await readFile(trace, 'utf8')).split('\n').filter((l) => /read/.test(l)).length;
    expect(reads).toBeLessThan(16 * 1024 / 4);
  });
});
