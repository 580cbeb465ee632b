// Archives that `tar -x` extracts, and archives it would extract only by writing through a link or not at all:
// the scan either records the tree exactly as `tar -x` leaves it (checked against GNU tar itself), and then the
// build of that tree passes and its layers hold what was recorded, or it refuses the archive naming the entry.
// Also: symlink chains that leave the tree, truncated archives and absurd PAX sizes.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';
import { silentReporter } from '../src/report/reporter.js';
import { readArchive } from '../src/scan/read-archive.js';
import { scanTree } from '../src/scan/scan.js';
import type { FileEntry } from '../src/types.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';
import { layerContentProblems } from './support/verify-state.js';

const ALL = { include: ['**'], exclude: [] as string[] };

/** Members in archive order: file, dir, symlink, hard link. Written by Python's tarfile, which writes them as asked. */
type Member = ['f', string, string] | ['d', string] | ['s', string, string] | ['h', string, string];

function writeTar(file: string, members: Member[], gzip = false): void {
  const lines = members.map((m) => {
    switch (m[0]) {
      case 'f':
        return `i = tarfile.TarInfo(${JSON.stringify(m[1])}); d = ${JSON.stringify(m[2])}.encode(); i.size = len(d); t.addfile(i, io.BytesIO(d))`;
      case 'd':
        return `i = tarfile.TarInfo(${JSON.stringify(m[1])}); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)`;
      case 's':
        return `i = tarfile.TarInfo(${JSON.stringify(m[1])}); i.type = tarfile.SYMTYPE; i.linkname = ${JSON.stringify(m[2])}; t.addfile(i)`;
      case 'h':
        return `i = tarfile.TarInfo(${JSON.stringify(m[1])}); i.type = tarfile.LNKTYPE; i.linkname = ${JSON.stringify(m[2])}; t.addfile(i)`;
    }
  });
  execFileSync('python3', ['-c', `import tarfile, io\nt = tarfile.open(${JSON.stringify(file)}, '${gzip ? 'w:gz' : 'w'}', format=tarfile.PAX_FORMAT)\n${lines.join('\n')}\nt.close()`]);
}

/** What matters of an entry for "the same tree": its kind, content and link target (modes aside). */
const shape = (entries: FileEntry[]) =>
  Object.fromEntries(entries.map((e) => [e.path, e.type === 'file' ? `file ${e.size} ${e.xxh64}` : e.type === 'symlink' ? `-> ${e.linkTarget}` : e.type]));

/** Scans the archive, extracts it with GNU tar and scans that folder, builds a game whose app tree is the archive. */
async function scanAndBuild(members: Member[], exclude: string[] = []) {
  const dir = await tempDir('gl-arch-');
  const archive = path.join(dir, 'app.tar');
  writeTar(archive, members);
  const scanned = await scanTree('app', archive, { include: ['**'], exclude }, { stateDir: path.join(dir, 'state') });
  // The reference: what tar -x leaves (the whole archive, then the same exclude as a filter).
  const extracted = path.join(dir, 'extracted');
  await mkdir(extracted);
  execFileSync('tar', ['-xf', archive, '-C', extracted]);
  const reference = await scanTree('app', extracted, { include: ['**'], exclude }, { stateDir: path.join(dir, 'state2') });
  const game = path.join(dir, 'game');
  await writeGame(game);
  const yaml = path.join(game, 'gamelayer.yaml');
  const excludeYaml = exclude.length ? `, exclude: ${JSON.stringify(exclude)}` : '';
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('app: {source: app}', `app: {source: ${archive}${excludeYaml}}`));
  const result = await build({ config: await loadConfig(yaml) });
  const problems = await layerContentProblems(result.store, result.recordFile, dir);
  return { scanned: shape(scanned.manifest.entries), reference: shape(reference.manifest.entries), problems };
}

async function refusal(members: Member[]): Promise<GamelayerError> {
  const dir = await tempDir('gl-arch-');
  const archive = path.join(dir, 'bad.tar');
  writeTar(archive, members);
  const e = await readArchive(archive, 'none', ALL, 'app').then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(GamelayerError);
  return e as GamelayerError;
}

describe('archives tar -x extracts: the scan records the tree tar -x leaves, and the build passes', () => {
  it.each<[string, Member[], string[]]>([
    ['a member stored twice (the later one wins)', [['f', 'cfg/a.txt', 'first'], ['f', 'cfg/a.txt', 'second, longer']], []],
    ['a hard link to a member later overwritten (the link keeps the old content)', [['f', 't.txt', 'old'], ['h', 'l.txt', 't.txt'], ['f', 't.txt', 'new!']], []],
    ['"./a//b" next to "a/./b" (one path; the later one wins)', [['f', './a//b', 'one'], ['f', 'a/./b', 'two!']], []],
    ['a hard link to an excluded member', [['f', 'secret/t.bin', 'payload'], ['h', 'pub/l.bin', 'secret/t.bin']], ['secret', 'secret/**']],
    ['an empty directory later replaced by a file', [['d', 'x'], ['f', 'x', 'now a file']], []],
    ['a file later replaced by a directory', [['f', 'y', 'a file'], ['d', 'y'], ['f', 'y/in', 'inside']], []],
    ['a file replaced by a symlink', [['f', 'cur', 'old'], ['f', 'v1', 'v1'], ['s', 'cur', 'v1']], []],
  ])('%s', async (_name, members, exclude) => {
    const r = await scanAndBuild(members, exclude);
    expect(r.scanned).toEqual(r.reference);
    expect(r.problems).toEqual([]);
  });
});

describe('archives tar -x extracts only by writing through a link, or not at all: refused naming the entry', () => {
  it('a file written through a symlink', async () => {
    const e = await refusal([['d', 'sub'], ['s', 'lnk', 'sub'], ['f', 'lnk/f', 'z']]);
    expect(e.code).toBe('scan.archive-conflict');
    expect(e.message).toMatch(/holds "lnk\/f" below "lnk", which is a symlink: the member would be written through the link$/);
  });

  it('a directory that holds entries, later replaced by a file', async () => {
    const e = await refusal([['d', 'd'], ['f', 'd/in', 'y'], ['f', 'd', 'x']]);
    expect(e.code).toBe('scan.archive-conflict');
    expect(e.message).toMatch(/holds "d", a file that replaces the directory "d" and its entries \(tar -x fails on it\)$/);
  });

  it('a member below a file', async () => {
    const e = await refusal([['f', 'f', 'x'], ['f', 'f/g', 'y']]);
    expect(e.code).toBe('scan.archive-conflict');
    expect(e.message).toMatch(/holds "f\/g" below "f", which is not a directory$/);
  });

  it('a symlink with an empty target', async () => {
    const e = await refusal([['f', 'a', 'x'], ['s', 'e', '']]);
    expect(e.code).toBe('scan.archive-empty-link');
    expect(e.message).toMatch(/holds the symlink "e" with an empty target/);
  });
});

describe('symlink chains that leave the tree', () => {
  it('a link through another link that points at the root is refused, in either order', async () => {
    for (const members of [
      [['s', 'a/b/c/up', '../../..'], ['s', 'a/b/c/esc', 'up/../../../etc']],
      [['s', 'a/b/c/esc', 'up/../../../etc'], ['s', 'a/b/c/up', '../../..']],
    ] as Member[][]) {
      const e = await refusal(members);
      expect(e.code).toBe('scan.archive-link-outside');
      expect(e.message).toMatch(/holds the symlink "a\/b\/c\/esc" -> "up\/..\/..\/..\/etc", which points outside the tree through the symlink "a\/b\/c\/up"$/);
    }
  });

  it('a chain through a link to an absolute path, and a loop, are refused; a chain that stays inside is kept', async () => {
    expect((await refusal([['s', 'x/abs', '../d'], ['s', 'd', 'tmp/../..'], ['d', 'tmp']])).code).toBe('scan.archive-link-outside');
    const loop = await refusal([['s', 'p', 'q/x'], ['s', 'q', 'p/y']]);
    expect(loop.message).toMatch(/which loops through the symlink/);
    const dir = await tempDir('gl-arch-');
    const ok = path.join(dir, 'ok.tar');
    writeTar(ok, [['s', 'a/b/c/up', '../../..'], ['s', 'a/b/c/in', 'up/a/b'], ['f', 'a/b/f', 'x']]);
    const entries = await readArchive(ok, 'none', ALL, 'app');
    expect(entries.find((e) => e.path === 'a/b/c/in')).toMatchObject({ type: 'symlink', linkTarget: 'up/a/b' });
  });
});

describe('symlink chains in a directory tree', () => {
  it('are kept as written (the tree is the user\'s own) and named in a warning, with the link they pass through', async () => {
    const dir = await tempDir('gl-arch-');
    const tree = path.join(dir, 'tree');
    await mkdir(path.join(tree, 'a/b/c'), { recursive: true });
    await symlink('../../..', path.join(tree, 'a/b/c/up'));
    await symlink('up/../../../etc', path.join(tree, 'a/b/c/esc'));
    await symlink('up/a', path.join(tree, 'a/b/c/fine'));
    const warnings: string[] = [];
    const reporter = { ...silentReporter, warn: (m: string) => void warnings.push(m) };
    const { manifest } = await scanTree('app', tree, ALL, { stateDir: path.join(dir, 'state'), reporter });
    expect(manifest.entries.find((e) => e.path === 'a/b/c/esc')).toMatchObject({ type: 'symlink', linkTarget: 'up/../../../etc' });
    expect(warnings).toEqual([
      `app: 1 symlink in ${tree} leads outside the tree: a/b/c/esc -> up/../../../etc (through a/b/c/up); they are stored as links, and in the image point at whatever lies there`,
    ]);
  });
});

describe('damaged archives are scan.archive-* errors naming the archive, never a stack trace', () => {
  it.each([
    ['a plain tar cut inside its first member', 'cut'],
    ['a plain tar cut inside a later member (its size fits the archive)', 'cut-later'],
    ['a PAX size of 10^20', 'pax'],
  ])('%s (scan and build through the CLI)', async (_name, kind) => {
    const dir = await tempDir('gl-arch-');
    await writeGame(dir);
    const archive = path.join(dir, 'app.tar');
    if (kind === 'cut') {
      writeTar(archive, [['f', 'big.bin', 'x'.repeat(100_000)]]);
      await writeFile(archive, (await readFile(archive)).subarray(0, 20_000));
    } else if (kind === 'cut-later') {
      writeTar(archive, [['f', 'a.bin', 'x'.repeat(100_000)], ['f', 'b.bin', 'y'.repeat(10_000)]]);
      await writeFile(archive, (await readFile(archive)).subarray(0, 105_000));
    } else {
      execFileSync('python3', [
        '-c',
        `import tarfile, io\nt = tarfile.open(${JSON.stringify(archive)}, 'w', format=tarfile.PAX_FORMAT)\ni = tarfile.TarInfo('a'); i.size = 1; i.pax_headers = {'size': '100000000000000000000'}\nt.addfile(i, io.BytesIO(b'x'))\nt.close()`,
      ]);
    }
    // The archive is the first tree scanned, so nothing was hashed before it (the hasher starts up while it is read).
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('engine: {source: engine}', 'engine: {source: app.tar}'));
    for (const cmd of ['scan', 'build']) {
      const r = await runCli([cmd], { cwd: dir });
      expect(r.code).toBe(1);
      const errors = r.stderr.split('\n').filter((l) => !/^(read|hash|build) /.test(l));
      expect(errors[0]).toMatch(new RegExp(`^error\\[scan\\.archive-corrupt\\]: engine: ${archive.replace(/[.]/g, '\\.')} (is not a readable tar archive: |holds the entry "(a|big\\.bin)" with a size of \\d+ bytes, more than the archive itself holds$)`));
      expect(errors[1]).toBe('hint: the archive is corrupt or truncated; copy or build it again');
      expect(r.stderr).not.toMatch(/\n\s+at |Node\.js v/);
    }
  });
});
