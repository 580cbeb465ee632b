// Writes a chunked tree folder in the on-image format of issue 20 (CHUNK-FORMAT.md), for the tests and the bench of
// the assembling copy: files at or above `minFileSize` become chunk files `.gamelayer-chunks/c/<hh>/<sha256>` plus a
// recipe `.gamelayer-chunks/r/<path>`; everything else is copied as it is (dirs, links, modes). Chunk boundaries
// here are pseudo-random sizes around `chunkSize` (deterministic per file): the assembly does not care how they
// were cut, only that the recipe's chunks, in order, make the file. Identical chunks are stored once.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import xxhash from 'xxhash-wasm';
import { ASSEMBLER_PATH, assemblerFor } from '../../src/oci/assembler.js';
import { prng } from './prng.js';

export const CHUNK_STORE = '.gamelayer-chunks';

export interface ChunkOptions {
  minFileSize: number;
  /** Average chunk size (default 1 MiB); each chunk is between half and 1.5× of it. */
  chunkSize?: number;
  /** Every chunk exactly chunkSize (the last one shorter): a file of repeated blocks then stores each block once. */
  fixed?: boolean | ((path: string) => boolean);
}

export interface ChunkedFile {
  path: string;
  size: number;
  mode: number;
  sha256: string;
  chunks: { sha256: string; size: number }[];
}

export interface ChunkedTree {
  files: ChunkedFile[];
  /** Distinct chunk files written. */
  chunkFiles: number;
}

/** Recipe text exactly as the format says (header, blank line, one chunk a line). */
export function recipeText(f: Pick<ChunkedFile, 'size' | 'mode' | 'sha256' | 'chunks'>, xxh64: string, version = 1): string {
  const head = [`gamelayer-recipe ${version}`, `size ${f.size}`, `mode ${(f.mode & 0o777).toString(8)}`, `sha256 ${f.sha256}`, `xxh64 ${xxh64}`];
  return `${head.join('\n')}\n\n${f.chunks.map((c) => `${c.sha256} ${c.size}\n`).join('')}`;
}

export function chunkPath(sha256: string): string {
  return `${CHUNK_STORE}/c/${sha256.slice(0, 2)}/${sha256}`;
}

/** Chunks `src` into `out` (which must not exist yet or be empty). */
export async function writeChunkedTree(src: string, out: string, options: ChunkOptions): Promise<ChunkedTree> {
  const { create64 } = await xxhash();
  const avg = options.chunkSize ?? 1024 * 1024;
  const files: ChunkedFile[] = [];
  const stored = new Set<string>();
  await mkdir(out, { recursive: true });

  const chunkFile = async (rel: string, abs: string, mode: number): Promise<void> => {
    const whole = createHash('sha256');
    const xxh = create64();
    const chunks: ChunkedFile['chunks'] = [];
    let seed = [...rel].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
    const nextSize = () => {
      if (options.fixed === true || (typeof options.fixed === 'function' && options.fixed(rel))) return avg;
      seed = (seed * 1103515245 + 12345) >>> 0;
      return Math.floor(avg / 2 + (seed % avg));
    };
    let want = nextSize();
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let size = 0;
    const flush = async (n: number) => {
      const all = Buffer.concat(pending);
      const chunk = all.subarray(0, n);
      const rest = all.subarray(n);
      const sha = createHash('sha256').update(chunk).digest('hex');
      chunks.push({ sha256: sha, size: chunk.length });
      if (!stored.has(sha)) {
        stored.add(sha);
        const p = path.join(out, chunkPath(sha));
        await mkdir(path.dirname(p), { recursive: true });
        await writeFile(p, chunk, { mode: 0o644 });
      }
      pending = rest.length > 0 ? [Buffer.from(rest)] : [];
      pendingBytes = rest.length;
      want = nextSize();
    };
    for await (const piece of createReadStream(abs, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
      whole.update(piece);
      xxh.update(piece);
      size += piece.length;
      pending.push(piece);
      pendingBytes += piece.length;
      while (pendingBytes >= want) await flush(want);
    }
    if (pendingBytes > 0) await flush(pendingBytes);
    const f: ChunkedFile = { path: rel, size, mode, sha256: whole.digest('hex'), chunks };
    files.push(f);
    const recipe = path.join(out, CHUNK_STORE, 'r', rel);
    await mkdir(path.dirname(recipe), { recursive: true });
    await writeFile(recipe, recipeText(f, xxh.digest().toString(16).padStart(16, '0')), { mode: 0o644 });
  };

  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(path.join(src, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(src, r);
      const st = await lstat(abs);
      if (st.isSymbolicLink()) await symlink(await readlink(abs), path.join(out, r));
      else if (st.isDirectory()) {
        await mkdir(path.join(out, r));
        await chmod(path.join(out, r), st.mode & 0o777);
        await walk(r);
      } else if (st.size >= options.minFileSize) await chunkFile(r, abs, st.mode & 0o777);
      else {
        await copyFile(abs, path.join(out, r));
        await chmod(path.join(out, r), st.mode & 0o777);
      }
    }
  };
  await walk('');
  return { files, chunkFiles: stored.size };
}

/**
 * Puts this host's native assembler into a chunked tree folder where a chunked build puts it (`ASSEMBLER_PATH`, mode
 * 755), so the copy script runs it instead of the sh loop.
 */
export async function addNativeAssembler(folder: string): Promise<void> {
  const helper = assemblerFor(`linux/${process.arch === 'x64' ? 'amd64' : process.arch}`);
  if (!helper) throw new Error(`no native assembler is built for ${process.arch}`);
  const to = path.join(folder, ASSEMBLER_PATH);
  await mkdir(path.dirname(to), { recursive: true });
  await copyFile(helper.path, to);
  await chmod(to, 0o755);
}

/** Size of a file, for assertions. */
export async function sizeOf(file: string): Promise<number> {
  return (await stat(file)).size;
}

/**
 * A host folder `root/name` with a gamelayer.yaml whose four trees are `sources/<tree>`, app media chunked at test
 * sizes (files of 1 MiB and more, 64 KiB chunks): several hosts building the same sources. Returns the folder.
 */
export async function chunkedHost(root: string, name: string, sources: string, game: string): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  const t = (tree: string) => path.join(sources, tree);
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    [
      `game: ${game}`,
      'version: 1.0.0',
      'start: /opt/local/engine/start.sh',
      'trees:',
      `  engine: {source: ${t('engine')}}`,
      `  engine-media: {source: ${t('engine-media')}}`,
      `  app: {source: ${t('app')}}`,
      `  app-media: {source: ${t('app-media')}, chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}}`,
      '',
    ].join('\n'),
  );
  return dir;
}

/**
 * The sources of the chunk tests' hosts: a start script, an engine media file, an app config, and in app media one
 * `paks/<seed>.pak` of `prng(seed, size)` bytes for each of `paks`, plus `files` (path under app-media → text).
 */
export async function writeChunkSources(dir: string, paks: Record<string, number>, files: Record<string, string> = {}): Promise<void> {
  for (const t of ['engine', 'engine-media', 'app', 'app-media/paks']) await mkdir(path.join(dir, t), { recursive: true });
  await writeFile(path.join(dir, 'engine/start.sh'), '#!/bin/sh\necho start\n', { mode: 0o755 });
  await writeFile(path.join(dir, 'engine-media/e.dat'), 'engine media');
  await writeFile(path.join(dir, 'app/app.cfg'), 'port=1\n');
  for (const [seed, size] of Object.entries(paks)) await writeFile(path.join(dir, `app-media/paks/${seed}.pak`), prng(seed, size));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, 'app-media', name), text);
}
