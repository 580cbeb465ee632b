// A no-op `build --push` (issue 17 item 3) writes nothing to the local layout: its images, tags and blobs are all
// in place, so index.json is not replaced, no file is created in the layout (not even a lock made and removed again:
// the layout folder's own mtime would move), and no blob is rewritten. The build's hold on the store (`.holds/`,
// gc's protocol) is the one thing a build always makes and removes.
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');
const registry = useRegistry();

/** Every file and folder under `dir` (but `.holds/`) with its inode, size and mtime in nanoseconds. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const st = await stat(d, { bigint: true });
    out.push(`${path.relative(dir, d) || '.'} ino=${st.ino} size=${st.size} mtime=${st.mtimeNs}`);
    if (!st.isDirectory()) return;
    for (const name of (await readdir(d)).sort()) if (name !== '.holds') await walk(path.join(d, name));
  };
  await walk(dir);
  return out;
}

describe('a no-op build', () => {
  it('with --push, writes nothing to the local layout: index.json, the folders and the blobs as they were', async () => {
    const dir = await tempDir();
    copySample(dir);
    const repo = `${registry.host}/studio/noop-writes`;
    const build = () => run(process.execPath, [BIN, 'build', '--push', repo, '--tag', 'v1', '--line', 'main'], { cwd: dir });
    await build();
    // A second build settles what only the first one does (the copy of the line's record, the layer cache).
    await build();
    const layout = path.join(dir, '.gamelayer', 'oci');
    const before = await snapshot(layout);
    expect(before.some((l) => l.startsWith('index.json '))).toBe(true);
    // File times have a coarse clock on some file systems: a write in the same tick would not show.
    await new Promise((r) => setTimeout(r, 20));
    await build();
    expect(await snapshot(layout)).toEqual(before);
  });

  it('without --push, the same: a tag already naming its image is not written again', async () => {
    const dir = await tempDir();
    copySample(dir);
    const build = () => run(process.execPath, [BIN, 'build', '--tag', 'v1'], { cwd: dir });
    await build();
    const layout = path.join(dir, '.gamelayer', 'oci');
    const before = await snapshot(layout);
    await new Promise((r) => setTimeout(r, 20));
    await build();
    expect(await snapshot(layout)).toEqual(before);
  });
});
