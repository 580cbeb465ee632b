// The CLI bundle's V8 code cache (src/cli/code-cache.ts, issue 17): the installed command, copied with its bundle
// into a folder of its own, run as a user runs it. A cache is written once and then used as it is; a damaged,
// truncated, foreign or stale cache is never used (V8 alone would take bytecode of another source of the same
// length, and damaged bytecode), the command works as without it and the cache is written anew; a cache that
// cannot be written is not an error.
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const DESCRIPTION = 'Ship large game servers as containers';

/** A copy of the installed package: bin/, dist/cli-bundle/, package.json, node_modules linked. */
async function installCopy(): Promise<string> {
  const dir = path.join(await tempDir(), 'pkg');
  await mkdir(path.join(dir, 'dist'), { recursive: true });
  await cp(path.resolve('bin'), path.join(dir, 'bin'), { recursive: true });
  await cp(path.resolve('dist/cli-bundle'), path.join(dir, 'dist/cli-bundle'), { recursive: true });
  await cp(path.resolve('package.json'), path.join(dir, 'package.json'));
  await symlink(path.resolve('node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

async function gamelayer(pkg: string, cache: string, args: string[]) {
  const r = await run(process.execPath, [path.join(pkg, 'bin/gamelayer.js'), ...args], { env: { ...process.env, GAMELAYER_CODE_CACHE: cache } });
  return { stdout: r.stdout, stderr: r.stderr };
}

/** The one cache file in `dir`, with its identity (a rewrite is a new file renamed into place: a new inode). */
async function cacheFile(dir: string): Promise<{ file: string; id: string; mode: number }> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.v8cache'));
  expect(files).toHaveLength(1);
  const file = path.join(dir, files[0]!);
  const st = await stat(file, { bigint: true });
  return { file, id: `${st.ino}/${st.mtimeNs}`, mode: Number(st.mode) & 0o777 };
}

let pkg: string;
let version: string;
beforeAll(async () => {
  pkg = await installCopy();
  version = (JSON.parse(await readFile(path.resolve('package.json'), 'utf8')) as { version: string }).version;
});

describe('the CLI code cache', () => {
  it('is written by the first run, then used as it is', async () => {
    const cache = path.join(await tempDir(), 'cache');
    expect((await gamelayer(pkg, cache, ['--version'])).stdout).toBe(`${version}\n`);
    const first = await cacheFile(cache);
    expect(first.mode).toBe(0o600);
    expect((await gamelayer(pkg, cache, ['--version'])).stdout).toBe(`${version}\n`);
    expect((await cacheFile(cache)).id).toBe(first.id);
    // Another command loads other files: they join the cache, which is then stable again.
    expect((await gamelayer(pkg, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    const joined = await cacheFile(cache);
    expect(joined.id).not.toBe(first.id);
    expect((await gamelayer(pkg, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    expect((await cacheFile(cache)).id).toBe(joined.id);
  });

  it('ignores a damaged or truncated cache and writes a good one', async () => {
    const cache = path.join(await tempDir(), 'cache');
    await gamelayer(pkg, cache, ['--help']);
    const { file } = await cacheFile(cache);
    const bytes = await readFile(file);
    // A flipped byte in the bytecode, far from the header: V8 itself would take it.
    const damaged = Buffer.from(bytes);
    const at = Math.floor(damaged.length * 0.75);
    damaged[at] = damaged[at]! ^ 0x5a;
    await writeFile(file, damaged);
    await chmod(file, 0o600);
    const before = (await cacheFile(cache)).id;
    expect((await gamelayer(pkg, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    const repaired = await cacheFile(cache);
    expect(repaired.id).not.toBe(before);
    expect((await gamelayer(pkg, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    expect((await cacheFile(cache)).id).toBe(repaired.id);

    await writeFile(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await chmod(file, 0o600);
    const truncated = (await cacheFile(cache)).id;
    const r = await gamelayer(pkg, cache, ['--help']);
    expect(r.stdout).toContain(DESCRIPTION);
    expect(r.stderr).toBe('');
    expect((await cacheFile(cache)).id).not.toBe(truncated);
  });

  it('never runs bytecode of an earlier bundle: a changed file of the same length is compiled afresh', async () => {
    const own = await installCopy();
    const cache = path.join(await tempDir(), 'cache');
    expect((await gamelayer(own, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    const main = path.join(own, 'dist/cli-bundle/main.js');
    const text = await readFile(main, 'utf8');
    expect(text).toContain(DESCRIPTION);
    const changed = DESCRIPTION.replace('large', 'LARGE');
    await writeFile(main, text.replace(DESCRIPTION, changed)); // same length: V8's own check would pass it
    const out = (await gamelayer(own, cache, ['--help'])).stdout;
    expect(out).toContain(changed);
    expect(out).not.toContain(DESCRIPTION);
  });

  it('does not read a cache file others can write, and replaces it with one only its owner can', async () => {
    const cache = path.join(await tempDir(), 'cache');
    await gamelayer(pkg, cache, ['--version']);
    const { file, id } = await cacheFile(cache);
    await chmod(file, 0o666);
    expect((await gamelayer(pkg, cache, ['--version'])).stdout).toBe(`${version}\n`);
    const now = await cacheFile(cache);
    expect(now.id).not.toBe(id);
    expect(now.mode).toBe(0o600);
  });

  it('is not an error when it cannot be written, and is off with GAMELAYER_CODE_CACHE=off', async () => {
    const dir = await tempDir();
    const notAFolder = path.join(dir, 'file');
    await writeFile(notAFolder, 'a file where the cache folder would be\n');
    const r = await gamelayer(pkg, notAFolder, ['--version']);
    expect(r).toEqual({ stdout: `${version}\n`, stderr: '' });
    expect(await readFile(notAFolder, 'utf8')).toBe('a file where the cache folder would be\n');

    const off = await gamelayer(pkg, 'off', ['--version']);
    expect(off).toEqual({ stdout: `${version}\n`, stderr: '' });
    await expect(stat(path.resolve('off'))).rejects.toThrow(/ENOENT/);
  });
});
