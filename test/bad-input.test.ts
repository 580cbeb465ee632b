// The catalogue of bad input: every case runs the real CLI (bin/gamelayer.js) on a game set up wrong in one way
// and checks the exact text on stderr (progress lines aside) and exit code 1. docs/errors.md explains each error.
// Several cases also have focused tests elsewhere (config.test.ts, scan.test.ts, registry-*.test.ts); this file
// keeps the complete list in one place, as a user meets it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, cp, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { runCli, type CliOptions } from './support/cli-process.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { freePort, startRegistry, type TestRegistry } from './support/registry.js';
import { writeGame } from './support/trees.js';

const NOBODY = { uid: 65534, gid: 65534 };
let root: string;
let template: string;
let built: string;
let plain: TestRegistry;
let tokenReg: TestRegistry;
let basicReg: TestRegistry;
let notFound: FaultProxy;
let counter = 0;
/** The first layer of the built server image: with --concurrency 1 the first blob a push sends. */
let firstLayer: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-bad-'));
  await chmod(root, 0o755); // the unprivileged-user case walks into it
  template = path.join(root, 'template');
  await writeGame(template);
  // A game with a build in its store, for the push cases.
  built = path.join(root, 'built');
  await cp(template, built, { recursive: true, verbatimSymlinks: true });
  const result = await build({ config: await loadConfig(path.join(built, 'gamelayer.yaml')) });
  firstLayer = result.summary.layers[0]!.layer.digest;
  [plain, tokenReg, basicReg] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: 'token', users: [{ username: 'ci', password: 'ci-pw-1' }], readOnlyRepos: ['frozen/game'] }),
    startRegistry({ auth: 'basic', users: [{ username: 'ci', password: 'ci-pw-1' }] }),
  ]);
  // ECR answers a push to a repository that does not exist with 404 NAME_UNKNOWN; the proxy plays that part.
  notFound = await startFaultProxy(plain.host, [
    {
      method: 'POST',
      path: /\/blobs\/uploads\/$/,
      count: 1000,
      action: {
        kind: 'status',
        status: 404,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: "The repository with name 'missing/game' does not exist" }] }),
      },
    },
  ]);
}, 120_000);
afterAll(async () => {
  await notFound?.stop();
  await Promise.all([plain?.stop(), tokenReg?.stop(), basicReg?.stop()]);
  if (root) await rm(root, { recursive: true, force: true });
});

/** A fresh copy of the small game; `edit` changes it. Returns its folder. */
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

/** `<dir>/gamelayer.yaml:LINE:COL` of the first place `text` is written in it, as the config's messages name it. */
function yamlAt(dir: string, text: string): string {
  const file = path.join(dir, 'gamelayer.yaml');
  const lines = readFileSync(file, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  return `${file}:${line + 1}:${lines[line]!.indexOf(text) + 1}`;
}

/** Points tree `tree` at `source` (relative to the game folder). */
const setSource = (dir: string, tree: string, source: string) =>
  editYaml(dir, (y) => y.replace(new RegExp(`^  ${tree}: \\{source: [^}]+\\}$`, 'm'), `  ${tree}: {source: ${source}}`));

/** Writes a tar.gz with Python's tarfile: it can write entries GNU tar and our code would refuse to create. */
function pyTar(file: string, script: string): void {
  execFileSync('python3', ['-c', `import tarfile, io\nt = tarfile.open(${JSON.stringify(file)}, 'w:gz', format=tarfile.PAX_FORMAT, encoding='utf-8', errors='surrogateescape')\n${script}\nt.close()`]);
}
const PY_FILE = `def add(name, data=b'x'):\n    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))\n`;

interface Case {
  name: string;
  /** The code printed as `error[<code>]:` (and its exit status: 2 for `cli.*`, else 1). */
  code: string;
  /** Sets up the game; returns the CLI arguments (and options) to run in it. */
  setup: () => Promise<{ dir: string; args: string[]; opts?: CliOptions }>;
  /** The exact stderr (progress lines removed; `error:` stands for `error[<code>]:`), given the game folder and the CLI arguments. */
  stderr: (dir: string, args: string[]) => string;
}

const fixHint = 'hint: fix gamelayer.yaml and run again\n';
const linkHint = 'hint: make the link relative and inside the tree, or leave it out of the archive\n';
const specialHint = "hint: remove it from the tree or add it to the tree's exclude globs in gamelayer.yaml\n";
const utf8Hint = 'hint: rename the file to a UTF-8 name: OCI layers and registries need UTF-8 paths\n';
const authHint = 'hint: pass --username USER --password-stdin, set GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD, or docker login\n';
const hostOf = (args: string[]) => args[1]!.split('/')[0]!;
const blobFile = (digest: string) => path.join(built, '.gamelayer/oci/blobs/sha256', digest.slice(7));

const cases: Case[] = [
  // ---- config ----
  {
    name: 'config: unknown field',
    code: 'config.invalid',
    setup: async () => ({ dir: await game((d) => editYaml(d, (y) => `${y}gmae: typo\n`)), args: ['scan'] }),
    stderr: (d) =>
      `error: ${d}/gamelayer.yaml:9:1: gmae: unknown field; expected one of game, version, baseImage, start, platforms, registry, mountFrom, store, layers, trees, deploy\n${fixHint}`,
  },
  {
    name: 'config: wrong type',
    code: 'config.invalid',
    setup: async () => ({ dir: await game((d) => editYaml(d, (y) => `${y}platforms: linux/amd64\n`)), args: ['scan'] }),
    stderr: (d) => `error: ${d}/gamelayer.yaml:9:12: platforms: expected a list, got string "linux/amd64"\n${fixHint}`,
  },
  {
    name: 'config: missing tree',
    code: 'config.invalid',
    setup: async () => ({ dir: await game((d) => editYaml(d, (y) => y.replace(/^  app-media: .*\n/m, ''))), args: ['scan'] }),
    stderr: (d) => `error: ${d}/gamelayer.yaml:5:3: trees.app-media: missing; expected a map\n${fixHint}`,
  },
  {
    name: 'config: two trees on the same mount',
    code: 'config.mount-clash',
    setup: async () => ({
      dir: await game((d) =>
        editYaml(d, (y) => y.replace('app: {source: app}', 'app: {source: app, mount: /srv/game}').replace('app-media: {source: app-media}', 'app-media: {source: app-media, mount: /srv/game/}')),
      ),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: ${d}/gamelayer.yaml:8:41: trees.app-media.mount: /srv/game is also the mount of tree app; expected a distinct mount path per tree\n`,
  },
  {
    name: 'config: mount not absolute',
    code: 'config.invalid',
    setup: async () => ({ dir: await game((d) => editYaml(d, (y) => y.replace('app: {source: app}', 'app: {source: app, mount: srv/app}'))), args: ['scan'] }),
    stderr: (d) => `error: ${d}/gamelayer.yaml:7:29: trees.app.mount: expected an absolute path inside the image such as /opt/local/engine\n${fixHint}`,
  },
  {
    name: 'config: bad platform string',
    code: 'config.invalid',
    setup: async () => ({ dir: await game((d) => editYaml(d, (y) => `${y}platforms: [linux/amd64, linux/x86]\n`)), args: ['scan'] }),
    stderr: (d) =>
      `error: ${d}/gamelayer.yaml:9:26: platforms.1: expected a platform such as linux/amd64 or linux/arm64 (os/arch[/variant])\n${fixHint}`,
  },
  {
    name: 'config: bad registry reference',
    code: 'config.invalid',
    setup: async () => ({ dir: await game((d) => editYaml(d, (y) => `${y}registry: Studio Registry/Game\n`)), args: ['scan'] }),
    stderr: (d) =>
      `error: ${d}/gamelayer.yaml:9:11: registry: expected an image reference such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/game or localhost:5000/game\n${fixHint}`,
  },
  {
    name: 'config: bad base image',
    code: 'config.invalid',
    setup: async () => ({ dir: await game((d) => editYaml(d, (y) => `${y}baseImage: "debian:bookworm slim"\n`)), args: ['scan'] }),
    stderr: (d) =>
      `error: ${d}/gamelayer.yaml:9:12: baseImage: expected "scratch", oci:DIR[:TAG], oci-archive:FILE, docker-archive:FILE or an image reference such as debian:bookworm-slim\n${fixHint}`,
  },
  {
    name: 'config: bad size',
    code: 'config.invalid',
    setup: async () => ({ dir: await game((d) => editYaml(d, (y) => `${y}layers: {targetSize: lots}\n`)), args: ['scan'] }),
    stderr: (d) => `error: ${d}/gamelayer.yaml:9:22: layers.targetSize: expected a size such as 512MiB, 2GiB or a byte count, got "lots"\n${fixHint}`,
  },
  {
    name: 'config: YAML syntax error',
    code: 'config.yaml',
    setup: async () => ({ dir: await game((d) => editYaml(d, (y) => `${y}layers: {targetSize: 1MB\n`)), args: ['scan'] }),
    stderr: (d) => `error: ${d}/gamelayer.yaml:10:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }\n`,
  },
  {
    name: 'config: no such config file',
    code: 'config.missing',
    setup: async () => ({ dir: await game(), args: ['-c', 'nope.yaml', 'scan'] }),
    stderr: (d) => `error: ${d}/nope.yaml: no such file\nhint: run gamelayer init in the build folder to write one, create a gamelayer.yaml (see fixtures/sample-game/gamelayer.yaml), or pass --config FILE\n`,
  },
  // ---- trees ----
  {
    name: 'tree: source missing',
    code: 'scan.source-missing',
    setup: async () => ({ dir: await game((d) => setSource(d, 'app', 'no-such-dir')), args: ['scan'] }),
    stderr: (d) => `error: ${yamlAt(d, 'no-such-dir')}: trees.app.source: ${d}/no-such-dir does not exist\nhint: check the path in gamelayer.yaml (relative paths start at the yaml's folder)\n`,
  },
  {
    name: 'tree: source a symlink to nothing',
    code: 'scan.source-missing',
    setup: async () => ({
      dir: await game(async (d) => {
        await symlink(path.join(d, 'gone'), path.join(d, 'app-link'));
        await setSource(d, 'app', 'app-link');
      }),
      args: ['scan'],
    }),
    stderr: (d) => `error: ${yamlAt(d, 'app-link')}: trees.app.source: ${d}/app-link is a symlink to ${d}/gone, which does not exist\nhint: restore the link's target, or point the source at the tree itself\n`,
  },
  {
    name: 'tree: source neither a directory nor an archive',
    code: 'scan.source-kind',
    setup: async () => ({
      dir: await game(async (d) => {
        await writeFile(path.join(d, 'notes.txt'), 'not a tree\n');
        await setSource(d, 'app', 'notes.txt');
      }),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: ${yamlAt(d, 'notes.txt')}: trees.app.source: ${d}/notes.txt is neither a directory nor a .tar / .tar.gz archive\nhint: point the source at the tree's folder or at its tarball\n`,
  },
  {
    name: 'tree: corrupt tar.gz',
    code: 'scan.archive-corrupt',
    setup: async () => ({
      dir: await game(async (d) => {
        await writeFile(path.join(d, 'engine.tar.gz'), Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), Buffer.alloc(600, 0x55)]));
        await setSource(d, 'engine', 'engine.tar.gz');
      }),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: engine: ${d}/engine.tar.gz is not a readable tar.gz archive: invalid code lengths set\nhint: the archive is corrupt or truncated; copy or build it again\n`,
  },
  {
    name: 'tree: truncated tar.gz',
    code: 'scan.archive-corrupt',
    setup: async () => ({
      dir: await game(async (d) => {
        const tgz = path.join(d, 'engine.tar.gz');
        await writeFile(path.join(d, 'engine/big.bin'), randomBytes(200_000));
        execFileSync('tar', ['-C', path.join(d, 'engine'), '-czf', tgz, '.']);
        await truncate(tgz, 100_000); // cut in the middle of big.bin
        await setSource(d, 'engine', 'engine.tar.gz');
      }),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: engine: ${d}/engine.tar.gz is not a readable tar.gz archive: unexpected end of file\nhint: the archive is corrupt or truncated; copy or build it again\n`,
  },
  {
    name: 'tree: archive entry with ..',
    code: 'scan.archive-unsafe-path',
    setup: async () => ({
      dir: await game(async (d) => {
        pyTar(path.join(d, 'engine.tar.gz'), `${PY_FILE}add('bin/server')\nadd('../../etc/cron.d/evil')`);
        await setSource(d, 'engine', 'engine.tar.gz');
      }),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: engine: ${d}/engine.tar.gz holds the entry "../../etc/cron.d/evil", which points outside the tree\nhint: rebuild the archive with relative paths (tar -C DIR -czf FILE .)\n`,
  },
  {
    name: 'tree: archive entry with an absolute path',
    code: 'scan.archive-unsafe-path',
    setup: async () => ({
      dir: await game(async (d) => {
        pyTar(path.join(d, 'engine.tar.gz'), `${PY_FILE}add('/etc/passwd')`);
        await setSource(d, 'engine', 'engine.tar.gz');
      }),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: engine: ${d}/engine.tar.gz holds the entry "/etc/passwd", which points outside the tree\nhint: rebuild the archive with relative paths (tar -C DIR -czf FILE .)\n`,
  },
  {
    name: 'tree: archive symlink pointing outside the tree',
    code: 'scan.archive-link-outside',
    setup: async () => ({
      dir: await game(async (d) => {
        pyTar(
          path.join(d, 'engine.tar.gz'),
          `${PY_FILE}add('bin/server')\ni = tarfile.TarInfo('bin/lib'); i.type = tarfile.SYMTYPE; i.linkname = '../../../../usr/lib'; t.addfile(i)`,
        );
        await setSource(d, 'engine', 'engine.tar.gz');
      }),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: engine: ${d}/engine.tar.gz holds the symlink "bin/lib" -> "../../../../usr/lib", which points outside the tree\n${linkHint}`,
  },
  {
    name: 'tree: archive symlink with an absolute target',
    code: 'scan.archive-link-outside',
    setup: async () => ({
      dir: await game(async (d) => {
        pyTar(path.join(d, 'engine.tar.gz'), `i = tarfile.TarInfo('passwd'); i.type = tarfile.SYMTYPE; i.linkname = '/etc/passwd'; t.addfile(i)`);
        await setSource(d, 'engine', 'engine.tar.gz');
      }),
      args: ['scan'],
    }),
    stderr: (d) => `error: engine: ${d}/engine.tar.gz holds the symlink "passwd" -> "/etc/passwd", which points outside the tree\n${linkHint}`,
  },
  {
    name: 'tree: archive hard link to a file it does not hold',
    code: 'scan.archive-bad-link',
    setup: async () => ({
      dir: await game(async (d) => {
        pyTar(path.join(d, 'engine.tar.gz'), `i = tarfile.TarInfo('bin/server'); i.type = tarfile.LNKTYPE; i.linkname = 'bin/missing'; t.addfile(i)`);
        await setSource(d, 'engine', 'engine.tar.gz');
      }),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: engine: ${d}/engine.tar.gz holds the hard link "bin/server" to "bin/missing", which is not a file earlier in the archive\n`,
  },
  {
    name: 'tree: device file in an archive',
    code: 'scan.special-file',
    setup: async () => ({
      dir: await game(async (d) => {
        pyTar(path.join(d, 'engine.tar.gz'), `i = tarfile.TarInfo('dev/null'); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)`);
        await setSource(d, 'engine', 'engine.tar.gz');
      }),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: engine: ${d}/engine.tar.gz holds "dev/null", a character-device; a container layer cannot hold it\nhint: rebuild the archive without it, or exclude it in gamelayer.yaml\n`,
  },
  {
    name: 'tree: device file in a directory',
    code: 'scan.special-file',
    setup: async () => ({ dir: await game(async (d) => void execFileSync('mknod', [path.join(d, 'app/null'), 'c', '1', '3'])), args: ['scan'] }),
    stderr: (d) => `error: app: ${d}/app/null is a character device; a container layer cannot hold it\n${specialHint}`,
  },
  {
    name: 'tree: named pipe in a directory',
    code: 'scan.special-file',
    setup: async () => ({ dir: await game(async (d) => void execFileSync('mkfifo', [path.join(d, 'app-media/pipe')])), args: ['scan'] }),
    stderr: (d) => `error: app-media: ${d}/app-media/pipe is a FIFO (named pipe); a container layer cannot hold it\n${specialHint}`,
  },
  {
    name: 'tree: unreadable file (run as an unprivileged user)',
    code: 'scan.unreadable',
    setup: async () => {
      const dir = await game(async (d) => {
        execFileSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, d]);
        await chmod(path.join(d, 'app/game.xml'), 0o000);
      });
      return { dir, args: ['scan'], opts: { asUser: NOBODY } };
    },
    stderr: (d) => `error: app: ${d}/app/game.xml cannot be read (permission denied)\nhint: fix its permissions or exclude it in gamelayer.yaml\n`,
  },
  {
    name: 'tree: unlistable folder (run as an unprivileged user)',
    code: 'scan.unreadable',
    setup: async () => {
      const dir = await game(async (d) => {
        execFileSync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, d]);
        await chmod(path.join(d, 'app/config'), 0o000);
      });
      return { dir, args: ['scan'], opts: { asUser: NOBODY } };
    },
    stderr: (d) => `error: app: ${d}/app/config cannot be listed (permission denied)\nhint: fix its permissions or exclude it in gamelayer.yaml\n`,
  },
  {
    name: 'tree: name that is not UTF-8 in a directory',
    code: 'scan.non-utf8-name',
    setup: async () => ({
      dir: await game(async (d) => void execFileSync('sh', ['-c', `printf x > "$(printf '${path.join(d, 'app-media')}/caf\\351.pak')"`])),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: app-media: ${d}/app-media holds a name that is not valid UTF-8 (bytes: 636166e92e70616b, shown as "caf\u00e9.pak")\n${utf8Hint}`,
  },
  {
    name: 'tree: name that is not UTF-8 in an archive',
    code: 'scan.non-utf8-name',
    setup: async () => ({
      dir: await game(async (d) => {
        pyTar(path.join(d, 'engine.tar.gz'), `${PY_FILE}t.format = tarfile.GNU_FORMAT\nadd('caf\\udce9.cfg')`);
        await setSource(d, 'engine', 'engine.tar.gz');
      }),
      args: ['scan'],
    }),
    stderr: (d) => `error: engine: ${d}/engine.tar.gz holds the entry "caf\ufffd.cfg", whose name is not valid UTF-8\n${utf8Hint}`,
  },
  {
    name: 'tree: a path component longer than 255 bytes (archive)',
    code: 'scan.name-too-long',
    setup: async () => ({
      dir: await game(async (d) => {
        pyTar(path.join(d, 'engine.tar.gz'), `${PY_FILE}add('levels/' + 'x' * 300 + '.pak')`);
        await setSource(d, 'engine', 'engine.tar.gz');
      }),
      args: ['scan'],
    }),
    stderr: (d) =>
      `error: engine: ${d}/engine.tar.gz holds the entry "levels/${'x'.repeat(300)}.pak", whose name "${'x'.repeat(40)}\u2026" is 304 bytes; ` +
      'Linux file systems allow at most 255\nhint: shorten the name: no container runtime could unpack a layer holding it\n',
  },
  {
    name: 'tree: a file larger than the registry layer limit',
    code: 'build.layer-too-big',
    setup: async () => ({
      dir: await game(async (d) => {
        await editYaml(d, (y) => `${y}layers: {targetSize: 1MB, maxLayerSize: 2MB}\n`);
        // Incompressible: the limit applies to the compressed layer (3 MiB of zeros would fit; see input-hardening).
        await writeFile(path.join(d, 'app-media/huge.pak'), randomBytes(3 * 1024 * 1024));
      }),
      args: ['build'],
    }),
    stderr: () =>
      'error: app-media layer 0 holds 3.00 MiB, over the registry layer limit of 1.91 MiB (layers.maxLayerSize)\n' +
      'hint: the biggest file in it is huge.pak; split such files before packaging, or raise layers.maxLayerSize if your registry takes bigger layers\n',
  },
  // ---- registry ----
  {
    name: 'registry: unknown host',
    code: 'registry.unknown-host',
    setup: async () => ({ dir: built, args: ['push', 'no-such-registry.invalid/studio/game:1.0.0'] }),
    stderr: () =>
      'error: reach registry no-such-registry.invalid: cannot resolve registry host no-such-registry.invalid\n' +
      'hint: check the registry name in the image reference or gamelayer.yaml\n',
  },
  {
    name: 'registry: nothing listening',
    code: 'registry.unreachable',
    // Two attempts (GAMELAYER_REGISTRY_RETRIES): the default six spend about 8 s of back-off on the same message.
    setup: async () => ({ dir: built, args: ['push', `127.0.0.1:${await freePort()}/studio/game:1.0.0`], opts: { env: { GAMELAYER_REGISTRY_RETRIES: '2' } } }),
    stderr: (_d, a) =>
      `error: reach registry ${hostOf(a)}: ${hostOf(a)} refused the connection (after 2 attempts)\nhint: is the registry running and is the port right?\n`,
  },
  {
    name: 'registry: retries setting not a whole number',
    code: 'registry.retries-setting',
    setup: async () => ({ dir: built, args: ['push', `${plain.host}/studio/game:1.0.0`], opts: { env: { GAMELAYER_REGISTRY_RETRIES: '0' } } }),
    stderr: () => 'error: GAMELAYER_REGISTRY_RETRIES="0": expected a whole number of attempts from 1 to 20, such as 6\n',
  },
  {
    name: 'registry: TLS to a plain-HTTP registry',
    code: 'registry.tls',
    setup: async () => ({ dir: built, args: ['push', `https://${plain.host}/studio/game:1.0.0`] }),
    stderr: () =>
      `error: reach registry ${plain.host}: TLS with ${plain.host} failed (EPROTO)\n` +
      `hint: ${plain.host} answers in plain HTTP on this port: drop https:// (loopback hosts are spoken to in plain HTTP)\n`,
  },
  {
    name: 'registry: plain HTTP to a host that is not this machine',
    code: 'registry.insecure',
    setup: async () => ({ dir: built, args: ['push', 'http://10.255.255.1:5000/studio/game:1.0.0'] }),
    stderr: () =>
      'error: refusing plain HTTP to 10.255.255.1:5000: only loopback registries are spoken to without TLS\n' +
      'hint: use https, or pass --insecure (insecure: true) if you really mean to send images unencrypted\n',
  },
  {
    name: 'registry: malformed reference',
    code: 'registry.reference',
    setup: async () => ({ dir: built, args: ['push', `${plain.host}/Studio/Game:1.0.0`] }),
    stderr: () =>
      `error: invalid image reference "${plain.host}/Studio/Game:1.0.0": repository path components must be lower-case letters and digits separated by ".", "_", "__" or "-"\n` +
      'hint: expected host[:port]/repository[:tag][@sha256:digest], e.g. 127.0.0.1:5000/studio/game:v1\n',
  },
  {
    name: 'registry: repository not found (ECR answers 404 NAME_UNKNOWN)',
    code: 'registry.not-found',
    setup: async () => ({ dir: built, args: ['push', `${notFound.host}/missing/game:1.0.0`, '--concurrency', '1'] }),
    stderr: () =>
      `error: upload blob ${firstLayer} (${blobFile(firstLayer)}) to missing/game: ${notFound.host} answered 404: ` +
      "NAME_UNKNOWN The repository with name 'missing/game' does not exist\n" +
      'hint: the repository does not exist: create it (on Amazon ECR: --create-repo), or check the name\n',
  },
  {
    name: 'registry: denied (credentials that may only pull)',
    code: 'registry.denied',
    setup: async () => ({
      dir: built,
      args: ['push', `${tokenReg.host}/frozen/game:1.0.0`, '--concurrency', '1'],
      opts: { env: { GAMELAYER_REGISTRY_USERNAME: 'ci', GAMELAYER_REGISTRY_PASSWORD: 'ci-pw-1' } },
    }),
    stderr: () =>
      `error: upload blob ${firstLayer} (${blobFile(firstLayer)}) to frozen/game: ${tokenReg.host} denied access (insufficient scope: repository:frozen/game:pull,push)\n` +
      'hint: these credentials may read but not push this repository\n',
  },
  {
    name: 'registry: wrong password',
    code: 'registry.unauthorized',
    setup: async () => ({
      dir: built,
      args: ['push', `${basicReg.host}/studio/game:1.0.0`, '--username', 'ci', '--password-stdin'],
      opts: { stdin: 'wrong-pw\n' },
    }),
    stderr: () => `error: reach registry ${basicReg.host}: ${basicReg.host} requires authentication and refused ours (user ci, from explicit username/password)\n${authHint}`,
  },
  {
    name: 'registry: no credentials for a registry that needs them',
    code: 'registry.unauthorized',
    setup: async () => ({ dir: built, args: ['push', `${basicReg.host}/studio/game:1.0.0`] }),
    stderr: () =>
      `error: reach registry ${basicReg.host}: ${basicReg.host} requires authentication and none were found for it (no --username, GAMELAYER_REGISTRY_USERNAME/GAMELAYER_REGISTRY_PASSWORD or docker config.json entry)\n${authHint}`,
  },
  {
    name: 'push: an image the store does not have',
    code: 'layout.not-found',
    setup: async () => ({ dir: built, args: ['push', `${plain.host}/studio/game:9.9.9`] }),
    stderr: (d) =>
      `error: ${d}/.gamelayer/oci/index.json: no image 9.9.9\nhint: images in this store: 1.0.0, 1.0.0-app, 1.0.0-app-media, 1.0.0-engine, 1.0.0-engine-media\n`,
  },
  // ---- command line ----
  {
    name: 'cli: --concurrency not a number',
    code: 'cli.concurrency',
    setup: async () => ({ dir: built, args: ['build', '--push', `${plain.host}/studio/game`, '--concurrency', 'lots'] }),
    stderr: () => 'error: --concurrency: expected a whole number from 1 to 64, got "lots"\n',
  },
  {
    name: 'cli: a bad --tag',
    code: 'build.bad-tag',
    setup: async () => ({ dir: await game(), args: ['build', '--tag', 'v1 final'] }),
    stderr: () => 'error: --tag "v1 final": expected letters, digits, "_", "." or "-" (at most 115 characters, leaving room for tree suffixes)\n',
  },
  {
    name: 'cli: a bad --tag with --builder docker',
    code: 'docker.bad-tag',
    setup: async () => ({ dir: await game(), args: ['build', '--builder', 'docker', '--tag', 'v1 final'] }),
    stderr: () => 'error: --tag "v1 final": expected letters, digits, "_", "." or "-" (at most 115 characters)\n',
  },
  {
    name: 'config: a version that is no tag (build\'s default --tag)',
    code: 'config.invalid',
    setup: async () => ({ dir: await game((d) => editYaml(d, (y) => y.replace(/^version: .*$/m, 'version: v1 final'))), args: ['build'] }),
    stderr: (d) => `error: ${yamlAt(d, 'v1 final')}: version: expected a tag of letters, digits, "_", "." or "-" (at most 115 characters, leaving room for tree suffixes), such as 1.4.2\n${fixHint}`,
  },
  {
    name: 'cli: --platform not in the config',
    code: 'build.platform',
    setup: async () => ({ dir: await game(), args: ['build', '--platform', 'linux/arm64'] }),
    stderr: (d) => `error: --platform linux/arm64: not in the platforms of ${d}/gamelayer.yaml (linux/amd64)\n`,
  },
  {
    name: 'cli: --username without --password-stdin',
    code: 'cli.username',
    setup: async () => ({ dir: built, args: ['push', `${plain.host}/studio/game:1.0.0`, '--username', 'ci'] }),
    stderr: () => 'error: --username needs --password-stdin (a password on the command line would show in ps)\n',
  },
  {
    name: 'cli: build --push to a repository with a tag',
    code: 'push.repository-only',
    setup: async () => ({ dir: built, args: ['build', '--push', `${plain.host}/studio/game:v1`] }),
    stderr: () =>
      `error: ${plain.host}/studio/game:v1: expected a repository without tag or digest\n` +
      "hint: the build's images are tagged 1.0.0 and 1.0.0-<tree>; use --tag to choose the tag\n",
  },
  {
    name: 'diff: no earlier scan or build',
    code: 'diff.no-baseline',
    setup: async () => ({ dir: await game(), args: ['diff'] }),
    stderr: (d) =>
      `error: no earlier scan or build of test-game in ${d}/.gamelayer\n` +
      'hint: run `gamelayer scan` (or `gamelayer build`) once to record a baseline, then change files and diff; on a fresh host, compare with a pushed build: gamelayer diff --against HOST/REPO\n',
  },
  {
    name: 'k8s: no build yet',
    code: 'record.no-build',
    setup: async () => ({ dir: await game(), args: ['k8s', '--repository', `${plain.host}/studio/game`] }),
    stderr: (d) =>
      `error: ${d}/.gamelayer/records/build-last.json: no build yet, run gamelayer build\n` +
      `hint: on a host without the build (a fresh clone, a CI host), deploy a pushed one: --record ${plain.host}/studio/game:TAG (gamelayer ls ${plain.host}/studio/game lists them)\n`,
  },
];

const DUMP = process.env.GL_DUMP_CATALOGUE === '1';

describe('bad input catalogue: the real CLI, the exact error', () => {
  it.concurrent.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { dir, args, opts } = await c.setup();
    const r = await runCli(args, { cwd: dir, env: { HOME: root, DOCKER_CONFIG: path.join(root, 'no-docker-config') }, ...opts });
    const stderr = r.stderr.replace(/^(read|hash|build|blob|retry) .*\n/gm, '');
    if (DUMP) console.log(`CASE ${c.name}\n${stderr.replaceAll(dir, '${d}')}CODE ${r.code}\n`);
    expect(stderr).toBe(c.stderr(dir, args).replace(/^error: /, `error[${c.code}]: `));
    // A usage error (README): a `cli.*` code or a bad flag value (--platform, --tag).
    expect(r.code).toBe(c.code.startsWith('cli.') || ['build.platform', 'build.bad-tag', 'docker.bad-tag'].includes(c.code) ? 2 : 1);
  });

  it('has at least 25 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });
});

describe('docs/errors.md', () => {
  it('names every error code the source can raise', async () => {
    const codes = new Set<string>();
    for (const f of execFileSync('find', ['src', '-name', '*.ts'], { encoding: 'utf8' }).trim().split('\n')) {
      const text = await readFile(f, 'utf8');
      for (const m of text.matchAll(/(?:new GamelayerError|super|diskFullError\([^,]+,)\(?\s*'([a-z0-9]+\.[a-z0-9.-]+)'/g)) codes.add(m[1]!);
    }
    expect(codes.size).toBeGreaterThan(100); // the search finds them
    const doc = await readFile('docs/errors.md', 'utf8');
    expect([...codes].filter((c) => !doc.includes(`\`${c}\``)).sort()).toEqual([]);
  });

  it('is linked from the README', async () => {
    expect(await readFile('README.md', 'utf8')).toContain('[docs/errors.md](docs/errors.md)');
  });
});

