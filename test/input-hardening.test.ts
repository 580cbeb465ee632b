// Inputs that used to get through or end in "this looks like a bug": credentials in a reference, globs that
// leave the tree, SOURCE_DATE_EPOCH past a tar header, gamelayer's own folders inside a tree, a YAML alias bomb,
// `--out` of the wrong kind, and a state folder the user may not write. The real CLI, the exact outcome.
import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceDateEpoch, MAX_TAR_MTIME } from '../src/oci/tar.js';
import { lastBuildName } from '../src/state/last-build.js';
import { runCli, type CliOptions } from './support/cli-process.js';
import { writeGame } from './support/trees.js';

const NOBODY = { uid: 65534, gid: 65534 };
let root: string;
let template: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-harden-'));
  await chmod(root, 0o755); // the unprivileged-user case walks into it
  template = path.join(root, 'template');
  await writeGame(template);
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function game(edit?: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(root, `case-${++counter}`);
  await cp(template, dir, { recursive: true, verbatimSymlinks: true });
  await edit?.(dir);
  return dir;
}

async function editYaml(dir: string, change: (yaml: string) => string): Promise<void> {
  const file = path.join(dir, 'gamelayer.yaml');
  await writeFile(file, change(await readFile(file, 'utf8')));
}

const cli = (dir: string, args: string[], opts: CliOptions = {}) =>
  runCli(args, { cwd: dir, env: { HOME: root, DOCKER_CONFIG: path.join(root, 'no-docker-config'), ...opts.env }, asUser: opts.asUser, stdin: opts.stdin });
/** stderr without progress lines. */
const errors = (stderr: string) => stderr.replace(/^(read|hash|build|blob) .*\n/gm, '');

describe('credentials in an image reference', () => {
  const SECRET = 'Ref-Secret-6161';
  it.each([
    ['push', ['push', `https://ci:${SECRET}@127.0.0.1:9/studio/game:1.0.0`], `https://***@127.0.0.1:9/studio/game:1.0.0`],
    ['push (no scheme)', ['push', `ci:${SECRET}@127.0.0.1:9/studio/game:1.0.0`], `***@127.0.0.1:9/studio/game:1.0.0`],
    ['build --push', ['build', '--push', `https://ci:${SECRET}@127.0.0.1:9/studio/game`], `https://***@127.0.0.1:9/studio/game`],
    ['diff --against', ['diff', '--against', `http://ci:${SECRET}@127.0.0.1:9/studio/game:1.0.0`], `http://***@127.0.0.1:9/studio/game:1.0.0`],
  ])('%s: refused as carrying credentials, the password never printed', async (_name, args, shown) => {
    const r = await cli(await game(), args);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(errors(r.stderr)).toBe(
      `error[registry.reference-credentials]: invalid image reference "${shown}": it carries credentials (user-info before "@"); a reference names an image, not who may read it\n` +
        'hint: drop "user:password@" and pass the user with --username USER --password-stdin (or GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD, or docker login)\n',
    );
    expect(r.code).toBe(1);
  });
});

describe('globs that leave the tree are refused at their place in the yaml', () => {
  it.each([
    ['include', '../secret/**', 'include'],
    ['include (absolute)', '/etc/**', 'include'],
    ['include (in braces)', '{..,x}/**', 'include'],
    ['exclude', 'a/../../b', 'exclude'],
  ])('%s: %s', async (_name, glob, field) => {
    const dir = await game((d) => editYaml(d, (y) => y.replace('app: {source: app}', `app: {source: app, ${field}: ['**', '${glob}']}`)));
    const r = await cli(dir, ['scan']);
    const col = (await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')).split('\n')[6]!.indexOf(`'${glob}'`) + 1;
    expect(errors(r.stderr)).toBe(
      `error[config.invalid]: ${dir}/gamelayer.yaml:7:${col}: trees.app.${field}.1: a glob must stay inside the tree: no absolute path, no ".." segment\nhint: fix gamelayer.yaml and run again\n`,
    );
    expect(r.code).toBe(1);
  });
});

describe('SOURCE_DATE_EPOCH', () => {
  it('past what the tar writer holds is refused, not wrapped', async () => {
    const r = await cli(await game(), ['build'], { env: { SOURCE_DATE_EPOCH: '99999999999' } });
    expect(errors(r.stderr)).toBe(
      `error[env.source-date-epoch]: SOURCE_DATE_EPOCH="99999999999" is later than 2038-01-19T03:14:07.000Z (2147483647), the latest time gamelayer's tar headers hold\n` +
        'hint: set it to e.g. $(git log -1 --format=%ct), or unset it\n',
    );
    expect(r.code).toBe(1);
  });

  it('the largest value a header holds is written as given', async () => {
    expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: String(MAX_TAR_MTIME) })).toBe(2147483647);
    const dir = await game();
    const r = await cli(dir, ['build', '--json'], { env: { SOURCE_DATE_EPOCH: String(MAX_TAR_MTIME) } });
    expect(r.code).toBe(0);
    // The last build into this config's store: its own pointer when the store is not the default (app/oci here).
    const store = path.join(dir, /store: (\S+)/.exec(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8'))?.[1] ?? '.gamelayer/oci');
    const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records', lastBuildName(path.join(dir, '.gamelayer'), store)), 'utf8')) as { layers: { digest: string }[] };
    const blob = path.join(dir, '.gamelayer/oci/blobs/sha256', record.layers[0]!.digest.slice(7));
    const mtimes = execFileSync('python3', ['-c', `import tarfile\nprint(set(m.mtime for m in tarfile.open(${JSON.stringify(blob)})))`], { encoding: 'utf8' });
    expect(mtimes.trim()).toBe('{2147483647}');
  });
});

describe("gamelayer's own folders inside a tree", () => {
  it.each([
    ['the state folder (app: {source: .})', (y: string) => y.replace('app: {source: app}', 'app: {source: .}'), 'app: .gamelayer (gamelayer\'s state folder)'],
    ['the store (store: app/oci)', (y: string) => `${y}store: app/oci\n`, 'app: oci (the local OCI store)'],
  ])('%s: left out of the tree, with a warning; a rebuild reuses every layer', async (_name, change, said) => {
    const dir = await game((d) => editYaml(d, change));
    const first = await cli(dir, ['build']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`warning: ${said} lies inside the tree's source; it is left out of the tree\n`);
    const second = await cli(dir, ['build']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/layers: 0 built, \d+ reused/);
    // The last build into this config's store: its own pointer when the store is not the default (app/oci here).
    const store = path.join(dir, /store: (\S+)/.exec(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8'))?.[1] ?? '.gamelayer/oci');
    const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records', lastBuildName(path.join(dir, '.gamelayer'), store)), 'utf8')) as { manifests: { tree: string; entries: { path: string }[] }[] };
    const app = record.manifests.find((m) => m.tree === 'app')!;
    expect(app.entries.filter((e) => /(^|\/)(\.gamelayer|oci)(\/|$)/.test(e.path))).toEqual([]);
  });
});

describe('clear errors instead of "this looks like a bug"', () => {
  it('a YAML alias bomb', async () => {
    const lines = ['a0: &a0 [x,x,x,x,x,x,x,x,x,x]'];
    for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(',')}]`);
    const dir = await game((d) => writeFile(path.join(d, 'gamelayer.yaml'), `game: g\nstart: x\n${lines.join('\n')}\n`));
    const r = await cli(dir, ['scan']);
    expect(errors(r.stderr)).toBe(
      `error[config.yaml]: ${dir}/gamelayer.yaml: invalid YAML: its aliases (*name) expand to more than 100 copies of anchored nodes (Excessive alias count indicates a resource exhaustion attack)\n` +
        'hint: write the values out instead of repeating anchors: gamelayer.yaml needs few or no aliases\n',
    );
    expect(r.code).toBe(1);
  });

  it.each([
    ['build', '--store', ['build', '--store', 'gamelayer.yaml']],
    ['build (the hidden old name)', '--out', ['build', '--out', 'gamelayer.yaml']],
    ['dockerfile', '--out', ['dockerfile', '--out', 'gamelayer.yaml']],
    // --local: a build that was never pushed (the deploy check would refuse it before --out is looked at).
    ['ecs', '--out', ['ecs', '--local', '--out', 'gamelayer.yaml', '--repository', '127.0.0.1:9/studio/game']],
    ['k8s', '--out', ['k8s', '--local', '--out', 'gamelayer.yaml', '--repository', '127.0.0.1:9/studio/game']],
  ])('%s %s naming a file', async (name, flag, args) => {
    const dir = await game();
    if (!name.startsWith('build')) expect((await cli(dir, ['build'])).code).toBe(0);
    const r = await cli(dir, args);
    expect(errors(r.stderr).replace(/^(warning|note): .*\n/gm, '')).toBe(
      `error[cli.out-not-folder]: ${flag} ${dir}/gamelayer.yaml: is a file, not a folder\nhint: name a folder (it is created when missing), not ${dir}/gamelayer.yaml\n`,
    );
    expect(r.code).toBe(2); // a cli.* error (docs/errors.md "Exit status")
  });

  it('codebuild buildspec --out naming a folder', async () => {
    const dir = await game();
    // A folder of no tree: app, the old one here, is now refused as a tree's source (cli.out-in-tree).
    await mkdir(path.join(dir, 'deploy'));
    const r = await cli(dir, ['codebuild', 'buildspec', '--out', 'deploy']);
    expect(errors(r.stderr)).toBe(`error[cli.out-is-folder]: --out ${dir}/deploy: is a folder, not a file\nhint: name the file to write, e.g. buildspec.yml inside that folder\n`);
    expect(r.code).toBe(2); // a cli.* error
  });
});

describe('the registry layer limit applies to compressed layers', () => {
  it('a big file that compresses well is not refused for its uncompressed size', async () => {
    const dir = await game(async (d) => {
      await editYaml(d, (y) => `${y}layers: {targetSize: 1MB, maxLayerSize: 2MB}\n`);
      execFileSync('truncate', ['-s', '3M', path.join(d, 'app-media/huge.pak')]);
    });
    const r = await cli(dir, ['build']);
    expect(errors(r.stderr)).toBe('');
    expect(r.code).toBe(0);
    // The last build into this config's store: its own pointer when the store is not the default (app/oci here).
    const store = path.join(dir, /store: (\S+)/.exec(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8'))?.[1] ?? '.gamelayer/oci');
    const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records', lastBuildName(path.join(dir, '.gamelayer'), store)), 'utf8')) as { layers: { size: number }[] };
    for (const l of record.layers) expect(l.size).toBeLessThanOrEqual(2_000_000);
  });

  it('a sparse file too big for any layer is refused from its size on disk, before a byte of it is read', async () => {
    // Unreadable for the user running the build: had the scan opened it, the error would be scan.unreadable.
    const dir = await game((d) => editYaml(d, (y) => `${y}layers: {targetSize: 1MB, maxLayerSize: 1MB}\n`));
    const huge = path.join(dir, 'app-media/huge.pak');
    execFileSync('truncate', ['-s', '2G', huge]);
    execFileSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, dir]);
    execFileSync('chown', ['0:0', huge]);
    await chmod(huge, 0o000);
    const r = await cli(dir, ['build'], { asUser: NOBODY });
    expect(errors(r.stderr)).toBe(
      `error[scan.file-too-big]: app-media: ${huge} is 2.00 GiB (by its size on disk): no compression brings that under the registry layer limit (layers.maxLayerSize; files up to 984 MiB might fit)\n` +
        'hint: split such files before packaging, exclude it, or raise layers.maxLayerSize if your registry takes bigger layers\n',
    );
    expect(r.code).toBe(1);
  });
});

describe('a state folder the user may not write (another owner)', () => {
  it('scan and diff run with a warning; build fails clearly before any work', async () => {
    const dir = await game();
    // Copies are as new as now: aged past the 2 s window, the first build caches every tree, so that only the
    // changed tree below has a cache to save (else which trees warn depends on how fast this machine runs).
    execFileSync('find', [dir, '-exec', 'touch', '-h', '-d', '2020-01-01', '{}', '+']);
    expect((await cli(dir, ['build'])).code).toBe(0); // as root: .gamelayer/ belongs to root now
    // A change, so that the scan has a stat cache to save (aged past the 2 s window, so it would be cached).
    await writeFile(path.join(dir, 'app/game.xml'), '<game v="2"/>\n');
    execFileSync('touch', ['-d', '2020-01-01', path.join(dir, 'app/game.xml')]);
    const hint =
      "hint: gamelayer writes its caches, records and local store under the game's .gamelayer/ folder (and the store's folder): " +
      'make them writable for this user, or run as their owner; scan and diff also run on a read-only state folder\n';

    const scan = await cli(dir, ['scan'], { asUser: NOBODY });
    expect(scan.code).toBe(0);
    expect(errors(scan.stderr)).toBe(
      `warning: app: stat cache not saved: ${dir}/.gamelayer/cache/stat is not writable (EACCES); the next scan reads these files again\n` +
        `warning: scan record not saved: ${dir}/.gamelayer/records is not writable; diff keeps comparing with the last saved build or scan\n`,
    );
    expect(scan.stdout).toMatch(/^app\s+2\s/m);

    const diff = await cli(dir, ['diff'], { asUser: NOBODY });
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('game.xml');

    const build = await cli(dir, ['build'], { asUser: NOBODY });
    expect(errors(build.stderr)).toBe(`error[state.unwritable]: ${dir}/.gamelayer: cannot write (permission denied, EACCES)\n${hint}`);
    expect(build.code).toBe(1);
  });
});
