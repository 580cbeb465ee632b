// The init copy of a chunked tree (issue 20) run for real: a tree image built by the Docker engine from a chunked
// tree folder (test/support/chunked-tree.ts) on the busybox test base, the emitted copy script run in a container
// over a Docker volume, as a pod's init container would (read-only root, non-root user on a setgid volume).
// Good trees come out identical with their modes; bad ones (missing / damaged / short chunk, unknown recipe
// format) stop with the file and the chunk named and no .complete; a kill -9 during a big file leaves no .complete,
// the engine guard refuses to start, and a rerun completes. Everything runs twice: on the sh path (the image has no
// helper) and with the native assembler in the chunk store, where a chunked build puts it (the copy then says so
// first on stdout).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPY_SENTINEL, GUARD_NAME, copyScript, guardScript } from '../src/k8s/scripts.js';
import { assemblerFor } from '../src/oci/assembler.js';
import { busyboxImage } from './support/docker-images.js';
import { addNativeAssembler, chunkPath, recipeText, writeChunkedTree, type ChunkedTree } from './support/chunked-tree.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const MOUNT = '/opt/local/app-media';
const TARGET = '/mnt/app-media';
const LABEL = 'gamelayer-test=assemble-container';
const BIG = "levels/forest it's/terrain.pak";
const UID = 1000;
/**
 * The kill test's big file and the CPU share its first copy gets: throttled on both paths, so the kill lands while
 * the file is assembled however fast the path is, and the file need not be big (the rerun assembles it unthrottled).
 */
const KILL_MIB = 64;
const KILL_CPUS = '0.01';
/** What the copy prints first when it runs the native assembler (this host's CPU decides the hash code). */
const NATIVE_LINE = `gamelayer: app-media: assembling with the native assembler (${execFileSync(assemblerFor(`linux/${process.arch === 'x64' ? 'amd64' : process.arch}`)!.path, ['--probe'], { encoding: 'utf8' }).trim()})\n`;

const RUN = randomBytes(3).toString('hex');
let work: string;
let base: string;
const images: string[] = [];
const volumes: string[] = [];

interface Ran {
  /** The exit code (null: killed by a signal). */
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `docker ARGS` to its end; asynchronous, so the cases (each its own volumes and containers) run side by side. */
function docker(args: string[]): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? err.code : 0;
      if (typeof code === 'string') reject(err); // not run at all, or output past maxBuffer
      else resolve({ status: code ?? null, stdout, stderr });
    });
  });
}

async function ok(ran: Promise<Ran>): Promise<string> {
  const r = await ran;
  if (r.status !== 0) throw new Error(`docker failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/** A tree image: the busybox base plus `folder` at `at` (MOUNT unless said), built by the Docker engine. */
async function treeImage(name: string, folder: string, at = MOUNT): Promise<string> {
  const ctx = path.join(work, `ctx-${name}`);
  mkdirSync(ctx);
  execFileSync('cp', ['-a', folder, path.join(ctx, 'tree')]);
  writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY tree ${at}\n`);
  // A tag of this run's own: another run of this file on the machine removes its images when it ends.
  const tag = `gamelayer-test/assemble-${name}-${RUN}:1`;
  await ok(docker(['build', '-q', '--label', LABEL, '-t', tag, ctx]));
  images.push(tag);
  rmSync(ctx, { recursive: true, force: true });
  return tag;
}

/**
 * A Docker volume made like a kubelet's emptyDir (root-owned, setgid, world-writable); returns name and host path.
 * The mode is set from the host, as the kubelet does (the tests run as root): no container needed for it.
 */
async function emptyDir(name: string): Promise<{ volume: string; dir: string }> {
  const volume = `gamelayer-test-assemble-${name}-${randomBytes(3).toString('hex')}`;
  await ok(docker(['volume', 'create', '--label', LABEL, volume]));
  volumes.push(volume);
  const dir = await ok(docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', volume]));
  chmodSync(dir, 0o2777);
  expect(statSync(dir).mode & 0o7777).toBe(0o2777);
  return { volume, dir };
}

/** A volume of `size` in memory (tmpfs), made like emptyDir(): for a copy that runs out of space. */
async function smallEmptyDir(name: string, size: string): Promise<{ volume: string; dir: string }> {
  const volume = `gamelayer-test-assemble-${name}-${randomBytes(3).toString('hex')}`;
  await ok(docker(['volume', 'create', '--label', LABEL, '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', `o=size=${size}`, volume]));
  volumes.push(volume);
  await ok(docker(['run', '--rm', '-v', `${volume}:/v`, base, 'sh', '-c', 'chmod 2777 /v']));
  return { volume, dir: await ok(docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', volume])) };
}

/**
 * The init container: the chunked copy script, read-only root, uid 1000 with the volume's group, no capabilities.
 * `cpus` throttles it (the kill test: the native assembler would finish the file before the kill lands).
 */
function copyArgs(image: string, volume: string, name?: string, cpus?: string, from = MOUNT): string[] {
  return [
    ...(name ? ['--name', name] : ['--rm']),
    ...(cpus ? ['--cpus', cpus] : []),
    '--read-only', '--user', `${UID}:${UID}`, '--cap-drop', 'ALL', '--network', 'none', '--label', LABEL,
    '-v', `${volume}:${TARGET}`,
    image, 'sh', '-c', copyScript('app-media', from, TARGET, { chunked: true }),
  ];
}

/** The copy of the tree at `from` in `image` (MOUNT unless said) into `volume`. */
function runCopy(image: string, volume: string, from = MOUNT): Promise<Ran> {
  return docker(['run', ...copyArgs(image, volume, undefined, undefined, from)]);
}

/** The engine container's guard in front of a start command that leaves a mark. */
function runGuard(image: string, volume: string): Promise<Ran> {
  return docker([
    'run', '--rm', '--read-only', '--user', `${UID}:${UID}`, '--network', 'none', '--label', LABEL,
    '-v', `${volume}:${MOUNT}`, image,
    'sh', '-c', guardScript([`${MOUNT}/${COPY_SENTINEL}`]), GUARD_NAME, 'echo', 'engine started',
  ]);
}

/** Path → [type, mode, sha256 or link target], for comparing a copy with its source. */
function snapshot(root: string, skip: string[] = []): Record<string, [string, number, string]> {
  const out: Record<string, [string, number, string]> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip.includes(r)) continue;
      const st = lstatSync(path.join(root, r));
      if (st.isSymbolicLink()) out[r] = ['link', 0, readlinkSync(path.join(root, r))];
      else if (st.isDirectory()) {
        out[r] = ['dir', st.mode & 0o777, ''];
        walk(r);
      } else out[r] = ['file', st.mode & 0o777, createHash('sha256').update(readFileSync(path.join(root, r))).digest('hex')];
    }
  };
  walk('');
  return out;
}

/** Leftover temporaries of the assembly anywhere under `root` (names only: no need to hash every file for that). */
function temporaries(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[]).filter((p) => p.endsWith('.gamelayer-tmp'));
}

/** A game tree worth copying: nesting, odd names, hidden files, a link, modes, and big files to chunk. */
function writeSource(dir: string): void {
  mkdirSync(path.join(dir, path.dirname(BIG)), { recursive: true });
  mkdirSync(path.join(dir, 'audio', 'empty'), { recursive: true });
  writeFileSync(path.join(dir, 'readme.txt'), 'app-media\n');
  writeFileSync(path.join(dir, '.hidden'), 'hidden\n');
  writeFileSync(path.join(dir, '.gamelayer-tree'), '');
  // Random bytes: every chunk distinct. 755 so the mode is seen to come from the recipe.
  writeFileSync(path.join(dir, BIG), randomBytes(3_000_000 + 17));
  chmodSync(path.join(dir, BIG), 0o755);
  // Repeated blocks cut at fixed sizes: many recipe lines name the same chunk file.
  writeFileSync(path.join(dir, 'audio', 'music.pak'), Buffer.concat(Array.from({ length: 12 }, () => Buffer.alloc(262_144, 9))));
  writeFileSync(path.join(dir, 'audio', 'small.ogg'), randomBytes(1000));
  symlinkSync('audio/music.pak', path.join(dir, 'music.link'));
}

let source: string;
let chunked: string;
/** `chunked` with the native assembler in its chunk store. */
let chunkedNative: string;
let tree: ChunkedTree;

const goodImages = new Map<boolean, Promise<string>>();
/** The unchanged chunked folder as a tree image, built once per path (the good copy and the full volume use it). */
function goodImage(native: boolean): Promise<string> {
  let image = goodImages.get(native);
  if (!image) goodImages.set(native, (image = treeImage(`${native ? 'native-' : ''}good`, native ? chunkedNative : chunked)));
  return image;
}

/** Where the variants image keeps variant i: each a whole chunked tree, copied from there as from a mount. */
const VARIANTS = '/opt/local/variants';
const variantImages = new Map<boolean, Promise<string>>();
/**
 * Copies of the chunked folder (with the native assembler or not), variant i changed by `edits[i]`, in one tree
 * image at VARIANTS/i: one image build for all of them instead of one each.
 */
function variantsImage(native: boolean, edits: ((folder: string) => void)[]): Promise<string> {
  let image = variantImages.get(native);
  if (image) return image;
  const folder = path.join(work, `variants-${native ? 'native' : 'sh'}`);
  mkdirSync(folder);
  for (const [i, edit] of edits.entries()) {
    execFileSync('cp', ['-a', native ? chunkedNative : chunked, path.join(folder, String(i))]);
    edit(path.join(folder, String(i)));
  }
  variantImages.set(native, (image = treeImage(`${native ? 'native-' : ''}variants`, folder, VARIANTS)));
  return image;
}

beforeAll(async () => {
  work = await tempDir('gl-assemble-');
  chmodSync(work, 0o755);
  base = await busyboxImage();
  source = path.join(work, 'source');
  writeSource(source);
  chunked = path.join(work, 'chunked');
  tree = await writeChunkedTree(source, chunked, { minFileSize: 1_000_000, chunkSize: 262_144, fixed: (p) => p === 'audio/music.pak' });
  chunkedNative = path.join(work, 'chunked-native');
  execFileSync('cp', ['-a', chunked, chunkedNative]);
  await addNativeAssembler(chunkedNative);
}, 120_000);

afterAll(async () => {
  await Promise.all(volumes.map((v) => docker(['volume', 'rm', '-f', v])));
  removeImagesAfterRun(images);
});

// Each case has its own volume (and the bad ones their own tree in the variants image): the copies run side by side,
// on both paths. The kill cases run after them, alone: their kill must land while a throttled copy is mid-file.
for (const native of [false, true]) {
  const how = native ? 'native assembler' : 'sh';
  const tag = native ? 'native-' : '';

  describe.concurrent(`assembling copy of a chunked tree, in a container (real Docker engine, busybox base; ${how})`, () => {
    it('the test tree really is chunked: two recipes, shared chunks stored once, no big file in the folder', () => {
      expect(tree.files.map((f) => f.path).sort()).toEqual(['audio/music.pak', BIG]);
      const music = tree.files.find((f) => f.path === 'audio/music.pak')!;
      expect(new Set(music.chunks.map((c) => c.sha256)).size).toBeLessThan(music.chunks.length);
      expect(existsSync(path.join(chunked, BIG))).toBe(false);
      expect(existsSync(path.join(chunked, '.gamelayer-chunks/r', BIG))).toBe(true);
    });

    it('copies the tree and assembles its big files: identical to the source, modes kept, sentinel last, no chunk store', async () => {
      const image = await goodImage(native);
      const { volume, dir } = await emptyDir(`${tag}good`);
      // A stale sentinel of an earlier copy must go first.
      writeFileSync(path.join(dir, COPY_SENTINEL), '');
      const r = await runCopy(image, volume);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${native ? NATIVE_LINE : ''}gamelayer: app-media: copied to ${TARGET}, big files assembled from their chunks\n`);
      expect(existsSync(path.join(dir, COPY_SENTINEL))).toBe(true);
      expect(snapshot(dir, [COPY_SENTINEL])).toEqual(snapshot(source));
      expect(statSync(path.join(dir, BIG)).mode & 0o777).toBe(0o755);
      expect(statSync(path.join(dir, 'audio/music.pak')).mode & 0o777).toBe(0o644);
      expect(temporaries(dir)).toEqual([]);
      // The guard in front of the engine lets it start.
      const g = await runGuard(image, volume);
      expect(g.stdout).toBe('engine started\n');
      expect(g.status).toBe(0);
    });

    const bad: { label: string; edit: (folder: string) => void; message: RegExp }[] = [
      {
        label: 'a recipe naming a missing chunk',
        edit: (f) => rmSync(path.join(f, chunkPath(tree.files.find((x) => x.path === BIG)!.chunks[3]!.sha256))),
        message: /^gamelayer: app-media: levels\/forest it's\/terrain\.pak \(recipe .*\): chunk 4 \([0-9a-f]{64}\) is missing: no .*\/\.gamelayer-chunks\/c\/[0-9a-f]{2}\/[0-9a-f]{64} in this image$/m,
      },
      {
        label: 'a chunk whose bytes do not match its hash',
        edit: (f) => {
          const c = path.join(f, chunkPath(tree.files.find((x) => x.path === BIG)!.chunks[5]!.sha256));
          const bytes = readFileSync(c);
          bytes[100] = bytes[100]! ^ 0xff;
          writeFileSync(c, bytes);
        },
        message: /^gamelayer: app-media: levels\/forest it's\/terrain\.pak \(recipe .*\): chunk 6 \([0-9a-f]{64}\): its bytes hash to [0-9a-f]{64}: .* is damaged$/m,
      },
      {
        label: 'a short chunk',
        edit: (f) => {
          const c = tree.files.find((x) => x.path === BIG)!.chunks.at(-1)!;
          truncateSync(path.join(f, chunkPath(c.sha256)), c.size - 1);
        },
        message: /^gamelayer: app-media: levels\/forest it's\/terrain\.pak \(recipe .*\): chunk \d+ \([0-9a-f]{64}\) has \d+ bytes, the recipe says \d+: .* is damaged$/m,
      },
      {
        label: 'a recipe with an unknown version',
        edit: (f) => {
          const file = tree.files.find((x) => x.path === BIG)!;
          writeFileSync(path.join(f, '.gamelayer-chunks/r', BIG), recipeText(file, '0'.repeat(16), 2));
        },
        message: /^gamelayer: app-media: levels\/forest it's\/terrain\.pak \(recipe .*\): unknown recipe format "gamelayer-recipe 2": this copy reads "gamelayer-recipe 1"/m,
      },
      {
        label: "a recipe whose chunk sizes do not sum to the file's size",
        edit: (f) => {
          const file = tree.files.find((x) => x.path === BIG)!;
          writeFileSync(path.join(f, '.gamelayer-chunks/r', BIG), recipeText({ ...file, size: file.size + 1 }, '0'.repeat(16)));
        },
        message: /^gamelayer: app-media: levels\/forest it's\/terrain\.pak \(recipe .*\): its \d+ chunks sum to 3000017 bytes, its size is 3000018$/m,
      },
      {
        label: "a recipe whose file sha256 is wrong while every chunk is sound",
        edit: (f) => {
          const file = tree.files.find((x) => x.path === BIG)!;
          writeFileSync(path.join(f, '.gamelayer-chunks/r', BIG), recipeText({ ...file, sha256: 'ab'.repeat(32) }, '0'.repeat(16)));
        },
        message: /^gamelayer: app-media: levels\/forest it's\/terrain\.pak \(recipe .*\): assembled 3000017 bytes with sha256 [0-9a-f]{64}, the recipe says 3000017 bytes and (ab){32}, yet every chunk matches its name: the recipe is wrong$/m,
      },
    ];
    for (const [i, b] of bad.entries()) {
      it(`${b.label}: exits non-zero naming the file (and the chunk), no .complete (a stale one removed), no temporary`, async () => {
        const image = await variantsImage(native, bad.map((x) => x.edit));
        const { volume, dir } = await emptyDir(`${tag}bad${i}`);
        writeFileSync(path.join(dir, COPY_SENTINEL), '');
        const r = await runCopy(image, volume, `${VARIANTS}/${i}`);
        expect(r.status).not.toBe(0);
        expect(r.stdout).toBe(native ? NATIVE_LINE : '');
        expect(r.stderr).toMatch(b.message);
        expect(r.stderr).toContain(`gamelayer: app-media: a file could not be assembled from its chunks: ${TARGET} is incomplete and gets no .complete`);
        expect(existsSync(path.join(dir, COPY_SENTINEL))).toBe(false);
        expect(existsSync(path.join(dir, BIG))).toBe(false);
        expect(temporaries(dir)).toEqual([]);
        const g = await runGuard(image, volume);
        expect(g.status).toBe(1);
        expect(g.stdout).toBe('');
        expect(g.stderr).toContain(`gamelayer: refusing to start: ${MOUNT}/${COPY_SENTINEL} is missing`);
      });
    }
  });

  describe.concurrent(`a volume too small for the assembled files (real Docker engine, tmpfs volume; ${how})`, () => {
    it('stops naming the file and the missing space, no .complete, no temporary', async () => {
      const image = await goodImage(native);
      const { volume } = await smallEmptyDir(`${tag}full`, '4m');
      const r = await runCopy(image, volume);
      expect(r.status).not.toBe(0);
      expect(r.stdout).toBe(native ? NATIVE_LINE : '');
      expect(r.stderr).toMatch(/^gamelayer: app-media: (audio\/music\.pak|levels\/forest it's\/terrain\.pak) \(recipe .*\): only \d+ of \d+ bytes reached .*\.gamelayer-tmp, yet every chunk is sound: is the volume full\?$/m);
      // The volume's content is seen from a container: a tmpfs volume has no host folder.
      const left = await docker(['run', '--rm', '-v', `${volume}:/v`, base, 'sh', '-c', 'ls -a /v /v/audio "/v/levels/forest it\'s"']);
      expect(left.stdout).not.toContain(COPY_SENTINEL);
      expect(left.stdout).not.toContain('.gamelayer-tmp');
    });
  });
}

for (const native of [false, true]) {
  const how = native ? 'native assembler' : 'sh';
  const tag = native ? 'native-' : '';

  describe(`kill -9 during the assembly of a big file (real Docker engine; ${how})`, () => {
    it('leaves no .complete, the guard refuses to start naming it, and a rerun completes', async () => {
      // KILL_MIB MiB of eight distinct 1 MiB blocks: a small image, an assembly made long by the CPU throttle.
      const src = path.join(work, `${tag}kill-source`);
      mkdirSync(src);
      const blocks = Array.from({ length: 8 }, () => randomBytes(1024 * 1024));
      const fh = await open(path.join(src, 'huge.pak'), 'w');
      for (let i = 0; i < KILL_MIB; i++) await fh.write(blocks[(i * 5) % 8]!);
      await fh.close();
      writeFileSync(path.join(src, 'small.cfg'), 'x=1\n');
      const folder = path.join(work, `${tag}kill-chunked`);
      const t = await writeChunkedTree(src, folder, { minFileSize: 1024 * 1024, chunkSize: 1024 * 1024, fixed: true });
      expect(t.chunkFiles).toBe(8);
      if (native) await addNativeAssembler(folder);
      const image = await treeImage(`${tag}kill`, folder);
      const { volume, dir } = await emptyDir(`${tag}kill`);
      const name = `gamelayer-test-assemble-kill-${randomBytes(3).toString('hex')}`;

      const child = spawn('docker', ['run', ...copyArgs(image, volume, name, KILL_CPUS)], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const tmp = path.join(dir, 'huge.pak.gamelayer-tmp');
      // Kill once the big file is being written (its temporary has bytes), well before it is hashed and renamed.
      while (!(existsSync(tmp) && statSync(tmp).size > 0)) await new Promise((r) => setTimeout(r, 10));
      await ok(docker(['kill', '--signal', 'KILL', name]));
      await exited;
      const state = JSON.parse(await ok(docker(['inspect', '-f', '{{json .State}}', name]))) as { ExitCode: number; OOMKilled: boolean };
      await ok(docker(['rm', '-f', name]));
      expect(state.ExitCode).toBe(137);
      // Interrupted mid-file: the temporary is there, the file and the sentinel are not.
      expect(existsSync(tmp)).toBe(true);
      expect(existsSync(path.join(dir, 'huge.pak'))).toBe(false);
      expect(existsSync(path.join(dir, COPY_SENTINEL))).toBe(false);

      const g = await runGuard(image, volume);
      expect(g.status).toBe(1);
      expect(g.stdout).toBe('');
      expect(g.stderr).toContain(`gamelayer: refusing to start: ${MOUNT}/${COPY_SENTINEL} is missing`);

      // The restarted init container completes over what the killed one left.
      const again = await runCopy(image, volume);
      expect(again.stdout.startsWith(native ? NATIVE_LINE : 'gamelayer: app-media: copied')).toBe(true);
      expect(again.stderr).toBe('');
      expect(again.status).toBe(0);
      expect(existsSync(path.join(dir, COPY_SENTINEL))).toBe(true);
      expect(temporaries(dir)).toEqual([]);
      const want = createHash('sha256');
      for (let i = 0; i < KILL_MIB; i++) want.update(blocks[(i * 5) % 8]!);
      expect(t.files[0]!.sha256).toBe(want.digest('hex'));
      // Hashed here (node's SHA-256 is several times coreutils' sha256sum on this host).
      const got = createHash('sha256').update(readFileSync(path.join(dir, 'huge.pak'))).digest('hex');
      expect(got).toBe(t.files[0]!.sha256);
      expect((await runGuard(image, volume)).stdout).toBe('engine started\n');
    }, 300_000);
  });
}
