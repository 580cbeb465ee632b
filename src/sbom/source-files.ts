// The files of a tree with their sha256 read from its sources on disk, for a tree whose image's layers this host does
// not hold: a fresh host keeps yesterday's layers in the registry, and reading the SBOM's hashes from them downloaded
// every kept layer every day (the whole game). The image unpacks to the sources the build just scanned: each file's
// bytes are read again here, hashed with sha256 and xxh64 in one read, and taken only when their size and xxh64 are
// the manifest's entry (what the build kept or wrote the layer for). Any file that is not so (changed since the scan,
// gone, a record made elsewhere) makes this tree undefined: its layers are read as before (docs/supply-chain.md,
// "Hashes from the sources").
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { entrySourceOf } from '../entries/packed-list.js';
import { compareBytewise } from '../scan/manifest.js';
import { pipeArchive } from '../scan/read-archive.js';
import type { EntrySource } from '../entries/entry-source.js';
import { ChangedWhileReading, createXxh64, hashFile, hashSmallFile, SMALL_FILE, xxhashApi } from '../scan/hash.js';
import type { TreeManifest, TreeSource } from '../types.js';
import { tarExtract } from '../util/tar-extract.js';
import type { TreeFile } from './tree-files.js';

/** Files handed on together (as tree-files.ts's walk does). */
const BATCH = 256;

/**
 * The files of `m` in the manifest's order with the sha256 of their sources (a directory or a tar / tar.gz), hashed
 * before the first is handed on (a file that does not match gives undefined, not half a tree): 32 bytes per file are
 * held meanwhile. Undefined for a tree this cannot describe: a chunked tree (its image holds recipes, read from its
 * layers), a manifest whose files are not in byte order or lack an xxh64.
 */
export async function sourceFileStream(m: TreeManifest): Promise<AsyncIterable<TreeFile[]> | undefined> {
  if (m.chunks) return undefined;
  const entries = entrySourceOf(m.entries);
  const files: number[] = [];
  let previous: string | undefined;
  for (let i = 0; i < entries.length; i++) {
    if (entries.type(i) !== 'file') continue;
    const p = entries.path(i);
    if ((previous !== undefined && compareBytewise(previous, p) >= 0) || !/^[0-9a-f]{16}$/.test(entries.xxh64(i) ?? '')) return undefined;
    previous = p;
    files.push(i);
  }
  const digests = Buffer.allocUnsafe(files.length * 32);
  const hashed = m.source.kind === 'dir' ? await hashDirFiles(m.root, entries, files, digests) : await hashArchiveFiles(m.source, entries, files, digests);
  if (!hashed) return undefined;
  return {
    async *[Symbol.asyncIterator]() {
      for (let from = 0; from < files.length; from += BATCH) {
        const batch: TreeFile[] = [];
        for (let k = from; k < Math.min(from + BATCH, files.length); k++) {
          const i = files[k]!;
          batch.push({ path: entries.path(i), size: entries.size(i), sha256: digests.toString('hex', k * 32, k * 32 + 32) });
        }
        yield batch;
      }
    },
  };
}

/** Each file `files[k]` of a directory source read and hashed into `digests` at k·32; false at the first that is not its entry. */
async function hashDirFiles(root: string, entries: EntrySource, files: number[], digests: Buffer): Promise<boolean> {
  const x = await xxhashApi();
  for (let k = 0; k < files.length; k++) {
    const i = files[k]!;
    const file = path.join(root, entries.path(i));
    const sha = createHash('sha256');
    let xxh64: string;
    try {
      const st = statSync(file);
      if (!st.isFile() || st.size !== entries.size(i)) return false;
      const before = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
      const sink = (b: Uint8Array) => void sha.update(b);
      xxh64 = st.size <= SMALL_FILE ? hashSmallFile(x, file, before, sink) : await hashFile(file, before, undefined, sink);
    } catch (e) {
      if (e instanceof ChangedWhileReading || (e as NodeJS.ErrnoException).code !== undefined) return false;
      throw e;
    }
    if (xxh64 !== entries.xxh64(i)) return false;
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
async function hashArchiveFiles(source: Extract<TreeSource, { kind: 'archive' }>, entries: EntrySource, files: number[], digests: Buffer): Promise<boolean> {
  const wanted = new Map<string, Buffer | null>();
  for (const i of files) wanted.set(`${entries.size(i)}:${entries.xxh64(i)}`, null);
  const extract = await tarExtract();
  extract.on('entry', (header, stream, next) => {
    stream.on('error', (e) => extract.destroy(e));
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      stream.on('end', () => next()).resume();
      return;
    }
    const sha = createHash('sha256');
    void createXxh64().then((h) => {
      let size = 0;
      stream.on('data', (chunk) => {
        const c = chunk as Buffer;
        h.update(c);
        sha.update(c);
        size += c.length;
      });
      stream.on('end', () => {
        const key = `${size}:${h.digest()}`;
        if (wanted.has(key)) {
          const digest = sha.digest();
          const had = wanted.get(key);
          // Two contents of one size and xxh64: which one a file holds is not known here (its layers say).
          wanted.set(key, had && !had.equals(digest) ? Buffer.alloc(0) : digest);
        }
        next();
      });
    }, (e: unknown) => extract.destroy(e as Error));
  });
  try {
    await pipeArchive(source.path, source.compression, extract);
  } catch {
    return false;
  }
  for (let k = 0; k < files.length; k++) {
    const i = files[k]!;
    const digest = wanted.get(`${entries.size(i)}:${entries.xxh64(i)}`);
    if (!digest || digest.length !== 32) return false;
    digest.copy(digests, k * 32);
  }
  return true;
}
