// The files of a tree with their sha256 read from its sources on disk, for a tree whose image's layers this host does
// not hold: a fresh host keeps yesterday's layers in the registry, and reading the SBOM's hashes from them downloaded
// every kept layer every day (the whole game). The image unpacks to the sources the build just scanned: each file's
// bytes are read again here, hashed with sha256 and xxh64 in one read, and taken only when their size and xxh64 are
// the manifest's entry (what the build kept or wrote the layer for). A chunked tree's big files are its recipes in the
// image: each is read from its source too and taken when its size, xxh64 and sha256 are those of the record's chunk
// list for it, and that list makes, byte for byte, the recipe entry of the manifest (whose sha256 is the recipe's in
// the SBOM). Any file that is not so (changed since the scan, gone, a record made elsewhere) makes this tree
// undefined: its layers are read as before (docs/supply-chain.md, "Hashes from the sources").
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { formatRecipe, isChunkPath, recipeFileOf } from '../chunk/recipe.js';
import { recordChunkLists } from '../chunk/record-lists.js';
import { entrySourceOf } from '../entries/packed-list.js';
import { compareBytewise } from '../scan/manifest.js';
import { memberXxh64, pipeArchive } from '../scan/read-archive.js';
import { ChangedWhileReading, hashFile, hashSmallFile, SMALL_FILE, xxh64Hex, xxhashApi } from '../scan/hash.js';
import type { TreeManifest, TreeSource } from '../types.js';
import { tarExtract } from '../util/tar-extract.js';
import type { TreeFile } from './tree-files.js';

/** Files handed on together (as tree-files.ts's walk does). */
const BATCH = 256;

/** The source files to hash: the k-th one's path in the tree, size and xxh64. */
interface Wanted {
  length: number;
  path(k: number): string;
  size(k: number): number;
  xxh64(k: number): string;
}

/** A chunked tree's file as its recipe stands for it, the sha256 still to be read from its source. */
interface ChunkedSource {
  path: string;
  size: number;
  xxh64: string;
  sha256: string;
  recipeSha256: string;
}

/**
 * The files of `m` in the manifest's order with the sha256 of their sources (a directory or a tar / tar.gz), hashed
 * before the first is handed on (a file that does not match gives undefined, not half a tree): 32 bytes per file are
 * held meanwhile. A chunked tree's chunks are not listed; each recipe's file is, at its own path. Undefined for a tree
 * this cannot describe: a manifest whose files are not in byte order or lack an xxh64, a chunked tree whose recipes
 * the record's chunk lists do not make.
 */
export async function sourceFileStream(m: TreeManifest): Promise<AsyncIterable<TreeFile[]> | undefined> {
  const entries = entrySourceOf(m.entries);
  const files: number[] = [];
  const recipeEntries: number[] = [];
  let previous: string | undefined;
  for (let i = 0; i < entries.length; i++) {
    if (entries.type(i) !== 'file') continue;
    const p = entries.path(i);
    if ((previous !== undefined && compareBytewise(previous, p) >= 0) || !/^[0-9a-f]{16}$/.test(entries.xxh64(i) ?? '')) return undefined;
    previous = p;
    if (!m.chunks) files.push(i);
    else if (recipeFileOf(p) !== undefined) recipeEntries.push(i);
    else if (!isChunkPath(p)) files.push(i);
  }
  const chunked = m.chunks ? await chunkedSources(m, recipeEntries) : [];
  if (!chunked) return undefined;
  const wanted: Wanted = {
    length: files.length + chunked.length,
    path: (k) => (k < files.length ? entries.path(files[k]!) : chunked[k - files.length]!.path),
    size: (k) => (k < files.length ? entries.size(files[k]!) : chunked[k - files.length]!.size),
    xxh64: (k) => (k < files.length ? entries.xxh64(files[k]!)! : chunked[k - files.length]!.xxh64),
  };
  const digests = Buffer.allocUnsafe(wanted.length * 32);
  const hashed = m.source.kind === 'dir' ? await hashDirFiles(m.root, wanted, digests) : await hashArchiveFiles(m.source, wanted, digests);
  if (!hashed) return undefined;
  // The recipes' files: their sha256 must be the one the record's list names, then listed among the others by path.
  const assembled: TreeFile[] = [];
  for (let j = 0; j < chunked.length; j++) {
    const c = chunked[j]!;
    const at = (files.length + j) * 32;
    if (digests.toString('hex', at, at + 32) !== c.sha256) return undefined;
    assembled.push({ path: c.path, size: c.size, sha256: c.sha256, recipeSha256: c.recipeSha256 });
  }
  assembled.sort((a, b) => compareBytewise(a.path, b.path));
  // A path both a whole file and a recipe's file: the layers' reading refuses it with the reason.
  const wholePaths = new Set(assembled.map((f) => f.path));
  for (const i of files) if (wholePaths.has(entries.path(i))) return undefined;
  return {
    async *[Symbol.asyncIterator]() {
      let batch: TreeFile[] = [];
      let next = 0;
      for (let k = 0; k <= files.length; k++) {
        const whole = k < files.length ? entries.path(files[k]!) : undefined;
        while (next < assembled.length && (whole === undefined || compareBytewise(assembled[next]!.path, whole) < 0)) batch.push(assembled[next++]!);
        if (whole !== undefined) batch.push({ path: whole, size: entries.size(files[k]!), sha256: digests.toString('hex', k * 32, k * 32 + 32) });
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    },
  };
}

/**
 * Each recipe entry of a chunked tree as the file it stands for: the record's chunk list for that path (checked to
 * make, byte for byte, this recipe entry: its size and xxh64) gives the file's size, xxh64 and sha256, and the recipe's
 * bytes their sha256. Undefined when one has no such list (a record made before lists, or not by gamelayer).
 */
async function chunkedSources(m: TreeManifest, recipeEntries: number[]): Promise<ChunkedSource[] | undefined> {
  const entries = entrySourceOf(m.entries);
  const byPath = new Map((m.recipes ?? []).map((r) => [r.path, r]));
  const lists = recordChunkLists([m], m.tree, m.chunks!.avgChunkSize, (b) => xxh64Hex(b));
  const out: ChunkedSource[] = [];
  for (const i of recipeEntries) {
    const file = recipeFileOf(entries.path(i))!;
    const r = byPath.get(file);
    const list = r && lists.find(r.size, r.xxh64);
    if (!list || list.sha256 !== r.sha256) return undefined;
    const chunks = list.chunks.map((c) => ({ sha256: c.sha256, size: c.size }));
    // The recipe's mode line is the file's: the one whose bytes are the manifest's recipe entry.
    const bytes = [0o644, 0o755].map((mode) => Buffer.from(formatRecipe({ size: list.size, mode, sha256: list.sha256, xxh64: list.xxh64, chunks }))).find((b) => b.length === entries.size(i) && xxh64Hex(b) === entries.xxh64(i));
    if (!bytes) return undefined;
    out.push({ path: file, size: list.size, xxh64: list.xxh64, sha256: list.sha256, recipeSha256: createHash('sha256').update(bytes).digest('hex') });
  }
  return out;
}

/** Each wanted file `k` of a directory source read and hashed into `digests` at k·32; false at the first that is not its entry. */
async function hashDirFiles(root: string, wanted: Wanted, digests: Buffer): Promise<boolean> {
  const x = await xxhashApi();
  for (let k = 0; k < wanted.length; k++) {
    const file = path.join(root, wanted.path(k));
    const sha = createHash('sha256');
    let xxh64: string;
    try {
      const st = statSync(file);
      if (!st.isFile() || st.size !== wanted.size(k)) return false;
      const before = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
      const sink = (b: Uint8Array) => void sha.update(b);
      xxh64 = st.size <= SMALL_FILE ? hashSmallFile(x, file, before, sink) : await hashFile(file, before, undefined, sink);
    } catch (e) {
      if (e instanceof ChangedWhileReading || (e as NodeJS.ErrnoException).code !== undefined) return false;
      throw e;
    }
    if (xxh64 !== wanted.xxh64(k)) return false;
    sha.digest().copy(digests, k * 32);
  }
  return true;
}

/**
 * The same for a tar or tar.gz source, read once in the archive's order: each regular member's content hashed with
 * xxh64 and sha256, and each file of the manifest given the sha256 of the content its (size, xxh64) names. By content,
 * not by path: a hard link, a member a later one replaces, a member filtered out all hold content the scan keyed so.
 * False when a file's content is not in the archive (changed since the scan), or one key names two contents.
 */
async function hashArchiveFiles(source: Extract<TreeSource, { kind: 'archive' }>, files: Wanted, digests: Buffer): Promise<boolean> {
  const wanted = new Map<string, Buffer | null>();
  for (let k = 0; k < files.length; k++) wanted.set(`${files.size(k)}:${files.xxh64(k)}`, null);
  const extract = await tarExtract();
  extract.on('entry', (header, stream, next) => {
    stream.on('error', (e) => extract.destroy(e));
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      stream.on('end', () => next()).resume();
      return;
    }
    const sha = createHash('sha256');
    void memberXxh64(stream, (c) => sha.update(c)).then(({ size, xxh64 }) => {
      const key = `${size}:${xxh64}`;
      if (wanted.has(key)) {
        const digest = sha.digest();
        const had = wanted.get(key);
        // Two contents of one size and xxh64: which one a file holds is not known here (its layers say).
        wanted.set(key, had && !had.equals(digest) ? Buffer.alloc(0) : digest);
      }
      next();
    }, (e: unknown) => extract.destroy(e as Error));
  });
  try {
    await pipeArchive(source.path, source.compression, extract);
  } catch {
    return false;
  }
  for (let k = 0; k < files.length; k++) {
    const digest = wanted.get(`${files.size(k)}:${files.xxh64(k)}`);
    if (!digest || digest.length !== 32) return false;
    digest.copy(digests, k * 32);
  }
  return true;
}
