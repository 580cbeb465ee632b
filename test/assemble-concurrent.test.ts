// The native assembler with several files at once (threads; each file hashed on its thread while another copies it),
// run for real: the chunked copy script in a container of the busybox test base on the real Docker engine, over a
// Docker volume. A damaged chunk in one of the files assembled at the same time is named exactly (its file, its
// place, its name) and nothing is marked complete; a missing chunk in the last file is found before any file is
// written; a good tree comes out identical at every worker count.
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COPY_SENTINEL, copyScript } from '../src/k8s/scripts.js';
import { busyboxImage } from './support/docker-images.js';
import { addNativeAssembler, chunkPath, writeChunkedTree, type ChunkedTree } from './support/chunked-tree.js';
import { tempDir } from './support/tmp.js';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const MOUNT = '/opt/local/app-media';
const TARGET = '/mnt/app-media';
const LABEL = 'gamelayer-test=assemble-concurrent';
/** Six big files of different sizes, so the threads finish them at different times. */
const BIG = ['paks/a.pak', 'paks/b.pak', 'paks/c.pak', 'paks/d.pak', 'paks/e.pak', 'paks/f.pak'];
const SIZES = [3_100_000, 2_400_000, 4_000_017, 1_700_000, 2_900_000, 3_300_000];

const RUN = randomBytes(3).toString('hex');
let work: string;
let base: string;
let source: string;
let chunked: string;
let tree: ChunkedTree;
/** files(source), hashed once: the source never changes. */
let sourceFiles: Record<string, string>;
const images: string[] = [];
const volumes: string[] = [];

function docker(args: string[]): SpawnSyncReturns<string> {
  return spawnSync('docker', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`docker failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/** The chunked folder (with the native assembler), changed by `edit`, as a tree image built by the Docker engine. */
function image(name: string, edit: (folder: string) => void = () => {}): string {
  const ctx = path.join(work, `ctx-${name}`);
  mkdirSync(ctx);
  execFileSync('cp', ['-a', chunked, path.join(ctx, 'tree')]);
  edit(path.join(ctx, 'tree'));
  writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY tree ${MOUNT}\n`);
  // A tag of this run's own: another run of this file on the machine removes its images when it ends.
  const tag = `gamelayer-test/assemble-concurrent-${name}-${RUN}:1`;
  ok(docker(['build', '-q', '--label', LABEL, '-t', tag, ctx]));
  images.push(tag);
  rmSync(ctx, { recursive: true, force: true });
  return tag;
}

let good: string | undefined;
/** The unchanged chunked folder as a tree image, built once for the runs with 1, 2 and 4 workers. */
function goodImage(): string {
  return (good ??= image('good'));
}

/**
 * A Docker volume made like a kubelet's emptyDir; returns its name and host path. The mode is set from the host, as
 * the kubelet does (the tests run as root): no container needed for it.
 */
function emptyDir(name: string): { volume: string; dir: string } {
  const volume = `gamelayer-test-concurrent-${name}-${randomBytes(3).toString('hex')}`;
  ok(docker(['volume', 'create', '--label', LABEL, volume]));
  volumes.push(volume);
  const dir = ok(docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', volume]));
  chmodSync(dir, 0o2777);
  expect(statSync(dir).mode & 0o7777).toBe(0o2777);
  return { volume, dir };
}

/** The init container's copy with `workers` files at once, read-only root, non-root, two CPUs. */
function runCopy(tag: string, volume: string, workers: number): SpawnSyncReturns<string> {
  return docker([
    'run', '--rm', '--read-only', '--user', '1000:1000', '--cap-drop', 'ALL', '--network', 'none', '--label', LABEL,
    '-v', `${volume}:${TARGET}`, tag, 'sh', '-c', copyScript('app-media', MOUNT, TARGET, { chunked: true, workers }),
  ]);
}

/** Every file under `root` (relative path → sha256), temporaries included. */
function files(root: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, files(root, r));
    else out[r] = createHash('sha256').update(readFileSync(path.join(root, r))).digest('hex');
  }
  return out;
}

/** The lines of stderr that name a file's failure (all but the copy's closing line). */
function failures(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('gamelayer: app-media: ') && !l.includes('could not be assembled from its chunks'));
}

beforeAll(async () => {
  work = await tempDir('gl-assemble-concurrent-');
  base = await busyboxImage();
  source = path.join(work, 'source');
  mkdirSync(path.join(source, 'paks'), { recursive: true });
  for (const [i, f] of BIG.entries()) writeFileSync(path.join(source, f), randomBytes(SIZES[i]!));
  writeFileSync(path.join(source, 'readme.txt'), 'small\n');
  chunked = path.join(work, 'chunked');
  tree = await writeChunkedTree(source, chunked, { minFileSize: 1_000_000, chunkSize: 262_144 });
  await addNativeAssembler(chunked);
  sourceFiles = files(source);
}, 120_000);

afterAll(() => {
  for (const v of volumes) docker(['volume', 'rm', '-f', v]);
  removeImagesAfterRun(images);
});

describe('native assembler, several files at once (real Docker engine, busybox base)', () => {
  it('the tree has six chunked files and the copy runs the native assembler', () => {
    expect(tree.files.map((f) => f.path).sort()).toEqual(BIG);
    expect(existsSync(path.join(chunked, '.gamelayer-chunks/assemble'))).toBe(true);
  });

  for (const workers of [1, 2, 4]) {
    it(`${workers} file(s) at a time: every file identical to its source, the sentinel written`, () => {
      const { volume, dir } = emptyDir(`good${workers}`);
      const r = runCopy(goodImage(), volume, workers);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^gamelayer: app-media: assembling with the native assembler/);
      const want = sourceFiles;
      expect(files(dir)).toEqual({ ...want, [COPY_SENTINEL]: createHash('sha256').digest('hex') });
    });
  }

  // Chunk 7 of c.pak (the largest file, assembled beside a.pak and b.pak), and the last chunk of d.pak.
  for (const [file, index] of [['paks/c.pak', 6], ['paks/d.pak', -1]] as const) {
    it(`a damaged chunk in ${file}, assembled beside other files: exactly that file and chunk named, nothing marked complete`, () => {
      const f = tree.files.find((x) => x.path === file)!;
      const at = index < 0 ? f.chunks.length + index : index;
      const sha = f.chunks[at]!.sha256;
      // The chunk is used by this file only (random bytes): the damage is this file's alone.
      expect(tree.files.filter((x) => x.chunks.some((c) => c.sha256 === sha))).toHaveLength(1);
      const tag = image(`bad-${path.basename(file)}`, (folder) => {
        const p = path.join(folder, chunkPath(sha));
        const bytes = readFileSync(p);
        bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x5a;
        writeFileSync(p, bytes);
      });
      const { volume, dir } = emptyDir(`bad-${path.basename(file, '.pak')}`);
      writeFileSync(path.join(dir, COPY_SENTINEL), '');
      const r = runCopy(tag, volume, 4);
      expect(r.status).not.toBe(0);
      const re = new RegExp(
        `^gamelayer: app-media: ${file.replace('.', '\\.')} \\(recipe ${MOUNT}/\\.gamelayer-chunks/r/${file.replace('.', '\\.')}\\): chunk ${at + 1} \\(${sha}\\): its bytes hash to [0-9a-f]{64}: ${MOUNT}/\\.gamelayer-chunks/c/${sha.slice(0, 2)}/${sha} is damaged$`,
      );
      expect(failures(r.stderr)).toHaveLength(1);
      expect(failures(r.stderr)[0]).toMatch(re);
      expect(r.stderr).toContain(`gamelayer: app-media: a file could not be assembled from its chunks: ${TARGET} is incomplete and gets no .complete`);
      const left = files(dir);
      expect(left[COPY_SENTINEL]).toBeUndefined();
      expect(left[file]).toBeUndefined();
      expect(Object.keys(left).filter((p) => p.endsWith('.gamelayer-tmp'))).toEqual([]);
      // What did get written is whole and verified: each file there is its source.
      for (const [p, sum] of Object.entries(left)) expect(sum, p).toBe(sourceFiles[p]);
    });
  }

  it('a missing chunk in the last file: named before any big file is written', () => {
    const f = tree.files.find((x) => x.path === 'paks/f.pak')!;
    const sha = f.chunks[2]!.sha256;
    const tag = image('missing', (folder) => rmSync(path.join(folder, chunkPath(sha))));
    const { volume, dir } = emptyDir('missing');
    const r = runCopy(tag, volume, 4);
    expect(r.status).not.toBe(0);
    expect(failures(r.stderr)).toEqual([`gamelayer: app-media: paks/f.pak (recipe ${MOUNT}/.gamelayer-chunks/r/paks/f.pak): chunk 3 (${sha}) is missing: no ${MOUNT}/.gamelayer-chunks/c/${sha.slice(0, 2)}/${sha} in this image`]);
    // The small file came with the plain copy; no big file (nor its temporary) was started.
    expect(Object.keys(files(dir)).sort()).toEqual(['readme.txt']);
  });
});
