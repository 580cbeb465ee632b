// Files in the store's blobs/sha256/ that are not blobs (a README someone put there, a folder) are not gc's: it
// counted them as garbage, and `gc --apply` stopped at the first one half done (`error[store.digest]: "sha256:README"
// is not a sha256 digest`) after index.json and the records had changed, leaving the removed build's blobs behind.
// Now they are left alone, and the gc completes.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('gc with files that are not blobs in blobs/sha256', () => {
  it('leaves them alone and removes the old build and its blobs', async () => {
    const dir = await tempDir('gl-gc-foreign-');
    await writeTinyGame(dir, ['game: gc-foreign', 'version: 1.0.0', 'start: [/opt/local/engine/run]']);
    expect((await runCli(['build'], { cwd: dir })).code).toBe(0);
    await writeTinyGame(dir, ['game: gc-foreign', 'version: 2.0.0', 'start: [/opt/local/engine/run]']);
    await writeFile(path.join(dir, 'app', 'new.cfg'), 'changed\n');
    expect((await runCli(['build'], { cwd: dir })).code).toBe(0);
    const blobs = path.join(dir, '.gamelayer', 'oci', 'blobs', 'sha256');
    await writeFile(path.join(blobs, 'README'), 'not a blob\n');
    await mkdir(path.join(blobs, 'a'.repeat(64)));

    const dry = await runCli(['gc', '--json', '--keep', '1'], { cwd: dir });
    expect(dry.code).toBe(0);
    const listed = (JSON.parse(dry.stdout) as { blobs: { digest: string }[] }).blobs.map((b) => b.digest);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.filter((d) => !/^sha256:[a-f0-9]{64}$/.test(d) || d === `sha256:${'a'.repeat(64)}`)).toEqual([]);

    const r = await runCli(['gc', '--apply', '--keep', '1'], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('removed 1 build: 1.0.0');
    const left = await readdir(blobs);
    expect(left).toContain('README');
    expect(left).toContain('a'.repeat(64));
    for (const d of listed) expect(left).not.toContain(d.slice('sha256:'.length));
  });
});
