// File names with characters a glob's regex may not take as ordinary: picomatch's `.` did not match "\n", "\r",
// U+2028 or U+2029, so with include/exclude globs (every Unreal config `init` writes has them) such a file matched
// no `*` or `**` and was silently left out of the layer; without globs it was kept.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import fg from 'fast-glob';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { walkDir } from '../src/scan/walk-dir.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

/** Names that must travel like any other: control characters, line separators, glob syntax, dots, non-ASCII. */
const ODD = ['new\nline.txt', 'tab\tname', 'cr\rname', 'ls\u2028ps\u2029.ini', 'ünïcødé 名前.ini', '.hidden', '[brackets]', '*star?', '{a,b}', '!bang', '#hash', 'back\\slash', '(paren)+@', 'sp ace .'];

async function put(root: string, files: Record<string, string>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await writeFile(path.join(root, p), content);
  }
}

describe('globs and odd file names', () => {
  it('the walk keeps every odd name under include/exclude globs, and still excludes an odd name the globs exclude', async () => {
    const dir = await tempDir();
    await put(dir, Object.fromEntries([...ODD.map((n) => [`Config/${n}`, n]), ['Config/new\nline.debug', 'x'], ['Content/Paks/a\nb.pak', 'p'], ['Content/keep\n.uasset', 'k']]));
    const filters = { include: ['**'], exclude: ['Content/Paks/**', '**/*.debug', '**/*.sym'] };
    const paths = (await walkDir(dir, filters, 'app')).map((e) => e.path).sort();
    expect(paths).toEqual(['Config', ...ODD.map((n) => `Config/${n}`), 'Content', 'Content/keep\n.uasset'].sort());
    // A `*` include and an odd folder name: the folder is entered and its file matched.
    await put(dir, { 'odd\ndir/f\n.so': 'so' });
    const so = (await walkDir(dir, { include: ['**/*.so'], exclude: [] }, 'app')).map((e) => e.path);
    expect(so).toEqual(['odd\ndir/f\n.so']);
  });

  it('keeps the entries fast-glob (the walk before) took for ordinary names, so no layer of an existing config changes', async () => {
    const dir = await tempDir();
    const files = ['Engine/Content/x/a', 'Engine/Binaries/Linux/b.debug', 'Engine/Binaries/Linux/b.so', 'Engine/Config/c.ini', '.git/o/p', 'MyGame/Content/Paks/p.pak', 'MyGame/Config/sub/d.ini', 'MyGame/e.sym', 'MonoBleedingEdge/lib/m.so', 'x.so', 'Player', '.hidden'];
    await put(dir, Object.fromEntries(files.map((f) => [f, f])));
    const cases: [string[], string[]][] = [
      [['**'], ['Content/**', '**/*.debug', '**/*.sym']],
      [['**'], ['MyGame/Content/Paks/**', '**/*.debug', '**/*.sym']],
      [['Player', '*.so', 'MonoBleedingEdge/**'], []],
      [['Engine/**', 'MyGame/Config/**'], ['**/*.ini']],
      [['**/*.so'], []],
      [['Engine/*/Linux/*'], []],
      [['Engine'], []],
      [['**'], ['.git']],
      [['Engine/Config/c.ini', 'Engine/**'], ['Engine/Content']],
    ];
    for (const [include, exclude] of cases) {
      const before = fg.sync(include, { cwd: dir, dot: true, onlyFiles: false, followSymbolicLinks: false, ignore: exclude, unique: true }).sort();
      const now = (await walkDir(dir, { include, exclude }, 'app')).map((e) => e.path).sort();
      expect(now, JSON.stringify({ include, exclude })).toEqual(before);
    }
  });

  it('init + build of an Unreal folder: the app layer holds a file whose name has a newline (umoci unpack)', async () => {
    const dir = await tempDir();
    const ls = path.join(dir, 'LinuxServer');
    await put(ls, {
      'ShooterServer.sh': '#!/bin/sh\n',
      'Engine/Binaries/Linux/libUnrealServer.so': 'so',
      'Engine/Content/Slate/Cursor.uasset': 'c',
      'Shooter/Binaries/Linux/ShooterServer': 'ELF',
      'Shooter/Content/Paks/Shooter-LinuxServer.pak': 'pak',
    });
    const init = await runCli(['init', dir], { cwd: dir });
    expect(init.code).toBe(0);
    expect(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')).toMatch(/exclude: /);
    await put(ls, Object.fromEntries(ODD.map((n) => [`Shooter/Config/${n}`, `content of ${n}`])));
    const build = await runCli(['build', '--tag', 'odd'], { cwd: dir });
    expect(build.stderr).not.toContain('error');
    expect(build.code).toBe(0);
    const bundle = path.join(dir, 'bundle');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${path.join(dir, '.gamelayer/oci')}:odd-app`, bundle], { stdio: 'pipe' });
    const config = path.join(bundle, 'rootfs/opt/game/Shooter/Config');
    expect((await readdir(config)).sort()).toEqual([...ODD].sort());
    for (const n of ODD) expect(await readFile(path.join(config, n), 'utf8')).toBe(`content of ${n}`);
  });
});
