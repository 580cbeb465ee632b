// How the launcher reads the CLI bundle's files (src/cli/bundle-source.ts, issue 17): an ASCII file as Latin-1 (the
// same text, made faster than through UTF-8), any other as UTF-8; and the build writes the bundle as ASCII, so the
// fast path is the one taken.
import { execFile } from 'node:child_process';
import { isAscii } from 'node:buffer';
import { cp, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readSourceText } from '../src/cli/bundle-source.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const DESCRIPTION = 'Ship large game servers as containers';

describe('the CLI bundle read as Latin-1 when it is ASCII', () => {
  it('gives the text UTF-8 gives: ASCII, other characters (decoded as UTF-8, not Latin-1), a BOM dropped', async () => {
    const dir = await tempDir();
    const cases: [string, string][] = [
      ['ascii.js', "'use strict';\nmodule.exports = 'plain \\u00e9';\n"],
      ['utf8.js', "// caf\u00e9 \u2192 \u00b5s, \ud83d\ude00\nmodule.exports = 'caf\u00e9';\n"],
    ];
    for (const [name, text] of cases) {
      await writeFile(path.join(dir, name), text, 'utf8');
      expect(readSourceText(path.join(dir, name))).toBe(text);
    }
    await writeFile(path.join(dir, 'bom.js'), `\ufeffmodule.exports = 'caf\u00e9';\n`, 'utf8');
    expect(readSourceText(path.join(dir, 'bom.js'))).toBe("module.exports = 'caf\u00e9';\n");
  });

  it('the built bundle is ASCII: every file of dist/cli-bundle/ (esbuild escapes strings; the build escapes comments)', async () => {
    const bundle = path.resolve('dist/cli-bundle');
    const files = (await readdir(bundle)).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(10);
    const notAscii: string[] = [];
    for (const f of files) if (!isAscii(await readFile(path.join(bundle, f)))) notAscii.push(f);
    expect(notAscii).toEqual([]);
  });

  it('a bundle file with other characters still runs as its UTF-8 text (with the code cache and without)', async () => {
    const pkg = path.join(await tempDir(), 'pkg');
    await mkdir(path.join(pkg, 'dist'), { recursive: true });
    await cp(path.resolve('bin'), path.join(pkg, 'bin'), { recursive: true });
    await cp(path.resolve('dist/cli-bundle'), path.join(pkg, 'dist/cli-bundle'), { recursive: true });
    await cp(path.resolve('package.json'), path.join(pkg, 'package.json'));
    await symlink(path.resolve('node_modules'), path.join(pkg, 'node_modules'));
    const main = path.join(pkg, 'dist/cli-bundle/main.js');
    const text = await readFile(main, 'utf8');
    expect(text).toContain(DESCRIPTION);
    // Raw UTF-8 in a string literal, as a hand edit (or another bundler) would leave it.
    await writeFile(main, text.replace(DESCRIPTION, `${DESCRIPTION}: caf\u00e9 \u2192 \u00b5s`), 'utf8');
    const cache = path.join(await tempDir(), 'cache');
    for (const c of ['off', cache, cache]) {
      const { stdout } = await run(process.execPath, [path.join(pkg, 'bin/gamelayer.js'), '--help'], { env: { ...process.env, GAMELAYER_CODE_CACHE: c } });
      expect(stdout).toContain(`${DESCRIPTION}: caf\u00e9 \u2192 \u00b5s`);
    }
  });
});
