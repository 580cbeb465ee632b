// The store's temp folder (.gamelayer/oci/.tmp) made a symlink to another file system, as one does to put a folder
// on a bigger disk: every blob is written there and renamed into blobs/sha256, and a rename cannot cross file
// systems (EXDEV). That was error[internal] with a hint to report a bug; now disk.cross-device names both paths and
// says to move the whole store; nothing half-written is kept and the store's tags are as before.
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';

let root: string;
let mnt: string;
let mounted = false;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-tmp-other-disk-'));
  mnt = path.join(root, 'other-fs');
  await mkdir(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt]);
  mounted = true;
});
afterAll(async () => {
  if (mounted) execFileSync('umount', [mnt]);
  if (root) await rm(root, { recursive: true, force: true });
});

describe("the store's temp folder on another file system", () => {
  it('a build that writes a blob fails with disk.cross-device naming both paths; nothing half-written is kept', async () => {
    const game = path.join(root, 'game');
    copySample(game);
    const first = await runCli(['build'], { cwd: game });
    expect(first.code, first.stderr).toBe(0);
    const store = path.join(game, '.gamelayer/oci');
    const index = await readFile(path.join(store, 'index.json'), 'utf8');
    const blobs = await readdir(path.join(store, 'blobs/sha256'));
    await rm(path.join(store, '.tmp'), { recursive: true });
    await mkdir(path.join(mnt, 'tmp'));
    await symlink(path.join(mnt, 'tmp'), path.join(store, '.tmp'));
    await appendFile(path.join(game, 'app/new-file.txt'), 'a new layer\n');

    const r = await runCli(['build'], { cwd: game });
    expect(r.stderr).toMatch(
      new RegExp(`^error\\[disk\\.cross-device\\]: ${path.join(store, '.tmp')}/\\S+ -> ${path.join(store, 'blobs/sha256')}/[0-9a-f]{64}: cannot rename across file systems \\(EXDEV\\)`, 'm'),
    );
    expect(r.stderr).toContain('hint: files are written in a temp folder and renamed into place, on one file system');
    expect(r.code).toBe(1);
    // Nothing half-written: no temp file left on the other disk, the same tags, no blob added.
    expect(await readdir(path.join(mnt, 'tmp'))).toEqual([]);
    expect(await readFile(path.join(store, 'index.json'), 'utf8')).toBe(index);
    expect((await readdir(path.join(store, 'blobs/sha256'))).sort()).toEqual(blobs.sort());
  });
});
