// The CLI bundle's V8 code cache (src/cli/code-cache.ts, issue 17): the installed command, copied with its bundle
// into a folder of its own, run as a user runs it. An entry is written once per bundle file and command, then used
// as it is; a damaged, truncated, foreign or stale entry is never used (V8 alone would take bytecode of another
// source of the same length, and damaged bytecode), the command works as without it and the entry is written anew;
// a cache that cannot be written is not an error.
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, readdir, readFile, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
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

async function gamelayer(pkg: string, cache: string, args: string[], nodeArgs: string[] = []) {
  const r = await run(process.execPath, [...nodeArgs, path.join(pkg, 'bin/gamelayer.js'), ...args], { env: { ...process.env, GAMELAYER_CODE_CACHE: cache } });
  return { stdout: r.stdout, stderr: r.stderr };
}

/** `gamelayer ARGS` with a preload counting what went through sha256 (the last line of its stderr). */
async function hashedBy(pkg: string, cache: string, args: string[]): Promise<{ stdout: string; hashed: number }> {
  const preload = path.join(await tempDir(), 'count-sha256.cjs');
  await writeFile(
    preload,
    `const crypto = require('node:crypto');\nconst create = crypto.createHash;\nlet bytes = 0;\n` +
      `crypto.createHash = function (algorithm, ...rest) {\n  const h = create.call(this, algorithm, ...rest);\n` +
      `  if (String(algorithm).toLowerCase() === 'sha256') {\n    const update = h.update;\n    h.update = function (data, ...more) {\n      bytes += data.length;\n      return update.call(this, data, ...more);\n    };\n  }\n  return h;\n};\n` +
      `process.on('exit', () => process.stderr.write('sha256 ' + bytes + '\\n'));\n`,
  );
  const r = await gamelayer(pkg, cache, args, ['-r', preload]);
  const m = /sha256 (\d+)\n$/.exec(r.stderr);
  expect(m).not.toBeNull();
  return { stdout: r.stdout, hashed: Number(m![1]) };
}

/** Longer than the code cache's SETTLED_MS: files last changed before it are remembered by identity once checked. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 2_100));

/** The cache's entries (one folder for this install): file name → identity (a rewrite renames a new file into place). */
async function entries(cache: string): Promise<Map<string, string>> {
  const folders = await readdir(cache);
  expect(folders).toHaveLength(1);
  const dir = path.join(cache, folders[0]!);
  const out = new Map<string, string>();
  for (const f of (await readdir(dir)).sort()) {
    const st = await stat(path.join(dir, f), { bigint: true });
    out.set(f, `${st.ino}/${st.mtimeNs}/${(Number(st.mode) & 0o777).toString(8)}`);
  }
  return out;
}

function withoutVerified(m: Map<string, string>): Map<string, string> {
  return new Map([...m].filter(([name]) => name !== 'verified.json'));
}

async function entryFile(cache: string, bundleFile: string): Promise<string> {
  const [folder] = await readdir(cache);
  return path.join(cache, folder!, `${bundleFile}.v8cache`);
}

/** Flips a byte of the entry's bytecode, far from the header (V8 itself would take it); the damaged bytes. */
async function damage(file: string): Promise<Buffer> {
  const damaged = Buffer.from(await readFile(file));
  const at = Math.floor(damaged.length * 0.75);
  damaged[at] = damaged[at]! ^ 0x5a;
  await writeFile(file, damaged);
  return damaged;
}

/** Changes the bundle file's description to one of the same length (V8's own check would pass it); the new one. */
async function changeDescription(main: string): Promise<string> {
  const text = await readFile(main, 'utf8');
  expect(text).toContain(DESCRIPTION);
  const changed = DESCRIPTION.replace('large', 'LARGE');
  await writeFile(main, text.replace(DESCRIPTION, changed));
  return changed;
}

let pkg: string;
let version: string;
beforeAll(async () => {
  pkg = await installCopy();
  version = (JSON.parse(await readFile(path.resolve('package.json'), 'utf8')) as { version: string }).version;
});

describe('the CLI code cache', () => {
  it('is written by the first run of a command, then used as it is', async () => {
    const cache = path.join(await tempDir(), 'cache');
    expect((await gamelayer(pkg, cache, ['--version'])).stdout).toBe(`${version}\n`);
    const first = await entries(cache);
    expect([...first.keys()]).toContain('main.js.v8cache');
    expect([...first.values()].every((id) => id.endsWith('/600'))).toBe(true);
    expect((await gamelayer(pkg, cache, ['--version'])).stdout).toBe(`${version}\n`);
    expect(await entries(cache)).toEqual(first);
    // Another command loads more files (their entries join) and runs more of main.js (its entry is written again).
    expect((await gamelayer(pkg, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    const joined = await entries(cache);
    expect(joined.size).toBeGreaterThan(first.size);
    expect(joined.get('main.js.v8cache')).not.toBe(first.get('main.js.v8cache'));
    expect((await gamelayer(pkg, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    expect((await gamelayer(pkg, cache, ['--version'])).stdout).toBe(`${version}\n`);
    expect(await entries(cache)).toEqual(joined);
  });

  it('removes the folders of other installs left unwritten for 90 days when it writes, and keeps the others', async () => {
    const cache = path.join(await tempDir(), 'cache');
    const idle = path.join(cache, `cli-${'a'.repeat(24)}`);
    const recent = path.join(cache, `cli-${'b'.repeat(24)}`);
    const foreign = path.join(cache, 'mine-keep');
    for (const d of [idle, recent, foreign]) {
      await mkdir(d, { recursive: true });
      await writeFile(path.join(d, 'main.js.v8cache'), 'x');
    }
    const at = (days: number) => new Date(Date.now() - days * 86_400_000);
    await utimes(idle, at(91), at(91));
    await utimes(recent, at(60), at(60));
    await utimes(foreign, at(400), at(400));
    expect((await gamelayer(pkg, cache, ['--version'])).stdout).toBe(`${version}\n`);
    const left = (await readdir(cache)).sort();
    expect(left).not.toContain(path.basename(idle));
    expect(left).toContain(path.basename(recent));
    expect(left).toContain('mine-keep'); // not a folder of ours
    expect(left).toHaveLength(3); // this install's own folder, written now
  });

  it('ignores a damaged or truncated entry and writes a good one', async () => {
    const cache = path.join(await tempDir(), 'cache');
    await gamelayer(pkg, cache, ['--help']);
    const file = await entryFile(cache, 'main.js');
    const length = (await stat(file)).size;
    const damaged = await damage(file);
    const before = await entries(cache);
    expect((await gamelayer(pkg, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    const repaired = await entries(cache);
    expect(repaired.get('main.js.v8cache')).not.toBe(before.get('main.js.v8cache'));
    expect(await readFile(file)).not.toEqual(damaged);
    expect((await gamelayer(pkg, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    // The bytecode entries stay as repaired. verified.json may be written now: it notes the repaired entry's check
    // once that entry is SETTLED_MS old, which this run is or is not depending on the machine's load.
    expect(withoutVerified(await entries(cache))).toEqual(withoutVerified(repaired));

    await truncate(file, Math.floor(length / 2));
    const truncated = await entries(cache);
    const r = await gamelayer(pkg, cache, ['--help']);
    expect(r.stdout).toContain(DESCRIPTION);
    expect(r.stderr).toBe('');
    expect((await entries(cache)).get('main.js.v8cache')).not.toBe(truncated.get('main.js.v8cache'));
  });

  it('never runs bytecode of an earlier bundle: a changed file of the same length is compiled afresh', async () => {
    const own = await installCopy();
    const cache = path.join(await tempDir(), 'cache');
    expect((await gamelayer(own, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    const changed = await changeDescription(path.join(own, 'dist/cli-bundle/main.js'));
    const out = (await gamelayer(own, cache, ['--help'])).stdout;
    expect(out).toContain(changed);
    expect(out).not.toContain(DESCRIPTION);
  });

  it('does not read an entry others can write, and replaces it with one only its owner can', async () => {
    const cache = path.join(await tempDir(), 'cache');
    await gamelayer(pkg, cache, ['--version']);
    await chmod(await entryFile(cache, 'main.js'), 0o666);
    const before = (await entries(cache)).get('main.js.v8cache');
    expect((await gamelayer(pkg, cache, ['--version'])).stdout).toBe(`${version}\n`);
    const now = (await entries(cache)).get('main.js.v8cache')!;
    expect(now).not.toBe(before);
    expect(now.endsWith('/600')).toBe(true);
  });

  it('does not wait on a fifo in place of an entry or of verified.json (opened without blocking, then refused)', async () => {
    const cache = path.join(await tempDir(), 'cache');
    await gamelayer(pkg, cache, ['--version']);
    const entry = await entryFile(cache, 'main.js');
    const verified = path.join(path.dirname(entry), 'verified.json');
    for (const f of [entry, verified]) {
      await rm(f, { force: true });
      await run('mkfifo', ['-m', '600', f]);
    }
    // Opened for reading without a writer, a fifo blocked the command before its first line (killed here, not timed).
    const r = await run(process.execPath, [path.join(pkg, 'bin/gamelayer.js'), '--version'], { env: { ...process.env, GAMELAYER_CODE_CACHE: cache }, timeout: 50_000, killSignal: 'SIGKILL' });
    expect(r.stdout).toBe(`${version}\n`);
    // The entry is written anew in its place, a regular file.
    expect((await stat(entry)).isFile()).toBe(true);
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

  it('hashes neither the bundle files nor their entries once a check of the same files passed', async () => {
    const own = await installCopy();
    const cache = path.join(await tempDir(), 'cache');
    const main = path.join(own, 'dist/cli-bundle/main.js');
    const mainBytes = (await stat(main)).size;
    expect((await gamelayer(own, cache, ['--help'])).stdout).toContain(DESCRIPTION);
    await settle();
    // This run checks the entries by hashing them (and the files they were made from), the next one does not.
    const checked = await hashedBy(own, cache, ['--help']);
    expect(checked.stdout).toContain(DESCRIPTION);
    expect(checked.hashed).toBeGreaterThan(mainBytes);
    const entriesBefore = await entries(cache);
    const known = await hashedBy(own, cache, ['--help']);
    expect(known.stdout).toContain(DESCRIPTION);
    expect(known.hashed).toBeLessThan(mainBytes);
    expect(await entries(cache)).toEqual(entriesBefore);

    // A changed file of the same length is still compiled afresh (its ctime moved) ...
    const changed = await changeDescription(main);
    const out = (await gamelayer(own, cache, ['--help'])).stdout;
    expect(out).toContain(changed);
    expect(out).not.toContain(DESCRIPTION);

    // ... and a damaged entry of a file still known is not used: it is hashed again, found damaged and rewritten.
    await settle();
    await hashedBy(own, cache, ['--help']);
    expect((await hashedBy(own, cache, ['--help'])).hashed).toBeLessThan(mainBytes);
    const file = await entryFile(cache, 'main.js');
    const damaged = await damage(file);
    const before = (await entries(cache)).get('main.js.v8cache');
    const again = await hashedBy(own, cache, ['--help']);
    expect(again.stdout).toContain(changed);
    expect(again.hashed).toBeGreaterThan(mainBytes);
    expect((await entries(cache)).get('main.js.v8cache')).not.toBe(before);
    expect(await readFile(file)).not.toEqual(damaged);
  });
});

