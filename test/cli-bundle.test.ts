// The CLI bundle (dist/cli-bundle/, scripts/build-dist.mjs) against the two ways bundled CommonJS breaks only when
// the code path runs: a package that finds its own files by __dirname (undefined in an ES module; the bundle's
// folder is not the package's anyway), and a CommonJS package reached by import(), whose chunk esbuild makes
// export `default` alone where Node gives the named exports too. Such packages stay external (build-dist.mjs).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BUNDLE = path.resolve('dist/cli-bundle');

async function bundleFiles(): Promise<{ name: string; text: string }[]> {
  const names = (await readdir(BUNDLE)).filter((f) => f.endsWith('.js')).sort();
  return Promise.all(names.map(async (name) => ({ name, text: await readFile(path.join(BUNDLE, name), 'utf8') })));
}

/** The code of a file without its comments (rough, enough for identifiers that comments mention). */
const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

describe('the CLI bundle', () => {
  it('holds main.js and gzip-worker.js beside its chunks, all in one folder', async () => {
    const names = (await bundleFiles()).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['main.js', 'gzip-worker.js']));
    expect((await readdir(BUNDLE, { withFileTypes: true })).filter((e) => e.isDirectory())).toEqual([]);
  });

  it('no bundled code uses __dirname or __filename', async () => {
    const users = (await bundleFiles()).filter((f) => /\b__(dirname|filename)\b/.test(withoutComments(f.text))).map((f) => f.name);
    expect(users).toEqual([]);
  });

  it('no chunk is a CommonJS package reached by import() (its named exports would be missing)', async () => {
    const defaultOnly = (await bundleFiles()).filter((f) => /^export default require_\w+\(\);$/m.test(f.text)).map((f) => f.name);
    expect(defaultOnly).toEqual([]);
  });
});
