// Opens a scanned file's bytes as a stream for the layer writer, and proves on the way that they are
// still the bytes the scan hashed: a layer never holds content that differs from its recorded xxh64.
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GamelayerError, errnoCode } from '../errors.js';
import { kindOf } from '../util/small-file.js';
import { writeAll } from '../util/write-all.js';
import { tarExtract } from '../util/tar-extract.js';
import { diskFullError } from '../util/disk-full.js';
import { createXxh64, xxh64Hex } from '../scan/hash.js';
import type { FileEntry, TreeSource } from '../types.js';
import { sweepStaleTemps, tempTag } from '../util/temp-files.js';

export interface ContentSource {
  /** The entry's bytes: exactly `entry.size` of them, and the stream errors if they do not hash to `entry.xxh64`. */
  open(entry: FileEntry): Promise<Readable>;
  /**
   * Optional fast path for small files: writes exactly the entry's bytes into `buf` at `offset` (it may use one
   * byte more, to see a file that grew) after checking them as `open` does; throws what `open`'s stream would.
   */
  readInto?(entry: FileEntry, buf: Buffer, offset: number): void | Promise<void>;
  /**
   * Optional: the entry's bytes read in order into buffers the caller gives (no buffer made per read), checked as
   * `open` checks them. Lets the layer writer read big files straight into the chunks it reuses.
   */
  reader?(entry: FileEntry): Promise<ContentReader>;
}

/** A file's bytes, read in order into the caller's buffers (see `ContentSource.reader`). */
export interface ContentReader {
  /**
   * Reads up to `length` of the next bytes into `buf` at `offset` and returns how many. Asked for 0 bytes once all
   * `entry.size` were read, it checks the end (no byte more, the content hash) and returns 0, or throws as `open`'s
   * stream would.
   */
  read(buf: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

export class ContentChanged extends GamelayerError {
  constructor(file: string, what: string) {
    super(
      'content.changed',
      `${file}: changed since it was scanned: ${what}`,
      'something changed the game tree after the scan; stop whatever writes into it and run the build again',
    );
  }
}

/**
 * A file of the archive content cache that no longer holds what its name says (disk damage, a hand edit).
 * It is removed when detected; the build takes the file from the archive again (see build.ts).
 */
export class ArchiveCacheCorrupt extends GamelayerError {
  constructor(
    readonly file: string,
    archive: string,
    what: string,
  ) {
    super(
      'content.cache-corrupt',
      `${file}: the cached copy of a file of ${archive} is damaged (${what}); it was removed`,
      'run the build again: the file is taken from the archive anew',
    );
  }
}

type Mismatch = (file: string, what: string) => GamelayerError;
const changed: Mismatch = (file, what) => new ContentChanged(file, what);

/** Counts and hashes the bytes flowing through; at the end they must match the entry, else the stream errors. */
class VerifyContent extends Transform {
  private seen = 0;

  constructor(
    private readonly file: string,
    private readonly entry: FileEntry,
    private readonly hash: Awaited<ReturnType<typeof createXxh64>>,
    private readonly mismatch: Mismatch = changed,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.entry.size) return cb(this.mismatch(this.file, `it grew beyond ${this.entry.size} bytes`));
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.seen !== this.entry.size) {
      return cb(this.mismatch(this.file, `it has ${this.seen} bytes instead of ${this.entry.size}`));
    }
    const got = this.hash.digest();
    if (got !== this.entry.xxh64) {
      return cb(this.mismatch(this.file, `its content hashes to xxh64 ${got}, not ${this.entry.xxh64}`));
    }
    cb();
  }
}

const XXH64 = /^[0-9a-f]{16}$/;

function requireFile(entry: FileEntry, where: string): string {
  if (entry.type !== 'file' || entry.xxh64 === undefined) {
    throw new GamelayerError('content.not-a-file', `${where}: ${entry.path} is a ${entry.type} with no content hash`);
  }
  // The hash names a file in the archive content cache: anything but 16 hex digits (say, from a forged record
  // or cache) could name a path outside it.
  if (!XXH64.test(entry.xxh64)) {
    throw new GamelayerError('content.bad-hash', `${where}: ${entry.path} has the content hash ${JSON.stringify(entry.xxh64)}; expected 16 hex digits`);
  }
  return entry.xxh64;
}

/** What to do about a file the user may not read (the scan's scan.unreadable says the same). */
export function unreadableHint(e: unknown): string | undefined {
  const code = errnoCode(e);
  return code === 'EACCES' || code === 'EPERM' ? 'fix its permissions or exclude it in gamelayer.yaml' : undefined;
}

/** Opens `file` for an entry's content: gone or of another size is the entry's mismatch, unreadable an error. */
async function openSized(file: string, entry: FileEntry, mismatch: Mismatch): Promise<FileHandle> {
  requireFile(entry, file);
  let fh: FileHandle;
  try {
    // O_NONBLOCK: a FIFO put in the file's place since the scan opens at once and is refused by its kind below.
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw mismatch(file, 'it was removed');
    throw new GamelayerError('content.unreadable', `${file}: cannot read: ${(e as Error).message}`, unreadableHint(e));
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw mismatch(file, `it is ${kindOf(st)} now, not a file`);
  }
  const { size } = st;
  if (size !== entry.size) {
    await fh.close();
    throw mismatch(file, `its size is ${size} bytes instead of ${entry.size}`);
  }
  return fh;
}

/** Streams `file`, which must hold exactly the entry's content; `mismatch` makes the error when it does not. */
export async function openVerified(file: string, entry: FileEntry, mismatch: Mismatch = changed): Promise<Readable> {
  const fh = await openSized(file, entry, mismatch);
  const verify = new VerifyContent(file, entry, await createXxh64(), mismatch);
  const raw = createReadStream('', { fd: fh, highWaterMark: 1 << 20 });
  // pipeline (not pipe) so a failure reaches the reader of `verify` as a stream error, never as an uncaught one.
  pipeline(raw, verify, () => {});
  return verify;
}

/** Reads at `position` into `buf`; a read error is `content.unreadable` naming the file. */
export async function readFileAt(fh: FileHandle, file: string, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  try {
    return (await fh.read(buf, offset, length, position)).bytesRead;
  } catch (e) {
    throw new GamelayerError('content.unreadable', `${file}: cannot read: ${(e as Error).message}`);
  }
}

/**
 * Reads a small file from its start into `buf` at `offset`, asking for a byte more than `size` (room: size + 1):
 * a short read is the end of a regular file, so a grown file shows as well as one that shrank. Returns the bytes read.
 */
export function readUpToSync(fd: number, file: string, buf: Buffer, offset: number, size: number): number {
  let got = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, offset + got, size + 1 - got, null);
    } catch (e) {
      throw new GamelayerError('content.unreadable', `${file}: cannot read: ${(e as Error).message}`);
    }
    got += n;
    if (n === 0 || got >= size) return got;
  }
}

/** `openVerified` as a `ContentReader`: the same checks, reading into the caller's buffers. */
export async function openVerifiedReader(file: string, entry: FileEntry, mismatch: Mismatch = changed): Promise<ContentReader> {
  const fh = await openSized(file, entry, mismatch);
  const hash = await createXxh64();
  let seen = 0;
  const readAt = (buf: Buffer, offset: number, length: number) => readFileAt(fh, file, buf, offset, length, seen);
  return {
    async read(buf, offset, length) {
      const want = Math.min(length, entry.size - seen);
      if (want > 0) {
        const n = await readAt(buf, offset, want);
        if (n === 0) throw mismatch(file, `it has ${seen} bytes instead of ${entry.size}`);
        hash.update(buf.subarray(offset, offset + n));
        seen += n;
        return n;
      }
      if (length > 0) return 0;
      // The end: a byte more means the file grew; then the hash of all it gave.
      if ((await readAt(Buffer.alloc(1), 0, 1)) > 0) throw mismatch(file, `it grew beyond ${entry.size} bytes`);
      const got = hash.digest();
      if (got !== entry.xxh64) throw mismatch(file, `its content hashes to xxh64 ${got}, not ${entry.xxh64}`);
      return 0;
    },
    close: () => fh.close(),
  };
}

/**
 * `openVerified` for a small file, with synchronous calls (open, fstat, read, close: no stream, no promise, no
 * buffer per file): reads it into `buf` at `offset`, which must have `entry.size + 1` bytes of room.
 */
export function readVerifiedInto(file: string, entry: FileEntry, buf: Buffer, offset: number, mismatch: Mismatch = changed): void | Promise<void> {
  requireFile(entry, file);
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put in the file's place since the scan does not block the open; its read then comes up short.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw mismatch(file, 'it was removed');
    throw new GamelayerError('content.unreadable', `${file}: cannot read: ${(e as Error).message}`, unreadableHint(e));
  }
  try {
    // One read asks for a byte more than the scan saw: a short read is the end of a regular file, so an unchanged
    // file costs open, read, close. Only a file that differs is fstat'ed, to say how.
    const got = readUpToSync(fd, file, buf, offset, entry.size);
    if (got !== entry.size) {
      const { size } = fstatSync(fd);
      if (size !== entry.size) throw mismatch(file, `its size is ${size} bytes instead of ${entry.size}`);
      throw mismatch(file, got > entry.size ? `it grew beyond ${entry.size} bytes` : `it has ${got} bytes instead of ${entry.size}`);
    }
    const hash = xxh64Hex(buf.subarray(offset, offset + got));
    if (hash !== entry.xxh64) throw mismatch(file, `its content hashes to xxh64 ${hash}, not ${entry.xxh64}`);
  } finally {
    closeSync(fd);
  }
}

/** Files of a directory tree, read in place; an entry path that is not clean and relative never names a file. */
export function dirContentSource(root: string): ContentSource {
  const fileOf = (entry: FileEntry) => {
    if (entry.path === '' || entry.path.startsWith('/') || entry.path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
      throw new GamelayerError('content.path', `${root}: the entry "${entry.path}" is not a clean path inside the tree`);
    }
    return path.join(root, entry.path);
  };
  return {
    open: async (entry) => openVerified(fileOf(entry), entry),
    readInto: (entry, buf, offset) => readVerifiedInto(fileOf(entry), entry, buf, offset),
    reader: (entry) => openVerifiedReader(fileOf(entry), entry),
  };
}

/** Member name of an archive → tree-relative path, as the archive scan records it. */
function memberPath(name: string): string {
  return name
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}

export interface ArchiveContentOptions {
  /** Directory of the content-addressed cache (under the state dir), one file per xxh64. */
  cacheDir: string;
  /** Every file the caller will open; the ones missing from the cache are pulled in one pass over the archive. */
  entries: readonly FileEntry[];
  /**
   * Hash every cached copy first, not only compare its size (after one was found damaged: the others may be too,
   * and each found only while a layer is written would fail that layer); a damaged one is removed and pulled again.
   */
  verify?: boolean;
}

/**
 * Files of a tar / tar.gz tree. Members come in archive order but layers need sorted order, so the needed
 * files are first copied into a cache named by content hash (never by archive path: renaming a file or
 * building another archive with the same content reuses it), each verified and renamed into place whole.
 */
export async function archiveContentSource(
  source: Extract<TreeSource, { kind: 'archive' }>,
  options: ArchiveContentOptions,
): Promise<ContentSource> {
  const { cacheDir } = options;
  await mkdir(cacheDir, { recursive: true });
  await sweepStaleTemps(cacheDir);
  const cached = (hash: string) => path.join(cacheDir, hash);

  // What is still missing, by path (to find it in the archive) and by hash (one copy per content).
  const wanted = new Map<string, FileEntry>();
  const missing = new Set<string>();
  for (const e of options.entries) {
    if (e.type !== 'file') continue;
    const hash = requireFile(e, source.path);
    if (missing.has(hash)) {
      wanted.set(e.path, e);
      continue;
    }
    const st = await stat(cached(hash)).catch(() => undefined);
    // Only a regular file is a copy: a FIFO in its place (size 0, as an empty member's) would block its reader.
    if (st?.isFile() && st.size === e.size && (!options.verify || (await hashOf(cached(hash))) === hash)) continue;
    if (st) await rm(cached(hash), { force: true });
    missing.add(hash);
    wanted.set(e.path, e);
  }
  if (missing.size > 0) await fillCache(source, cacheDir, wanted, missing);

  // A damaged cache file is never put in a layer: it fails verification, is removed, and is reported as such.
  const corrupt: Mismatch = (file, what) => {
    void rm(file, { force: true });
    return new ArchiveCacheCorrupt(file, source.path, what);
  };
  return {
    open: (entry) => openVerified(cached(requireFile(entry, source.path)), entry, corrupt),
    readInto: (entry, buf, offset) => readVerifiedInto(cached(requireFile(entry, source.path)), entry, buf, offset, corrupt),
    reader: (entry) => openVerifiedReader(cached(requireFile(entry, source.path)), entry, corrupt),
  };
}

async function fillCache(
  source: Extract<TreeSource, { kind: 'archive' }>,
  cacheDir: string,
  wanted: Map<string, FileEntry>,
  missing: Set<string>,
): Promise<void> {
  // Members are matched by content, not by name: a name stored twice, `./a//b` beside `a/./b`, or a hard link
  // to a member later overwritten all mean the content the scan recorded sits in some member of that size.
  // Missing contents per size: a member is a candidate only while some content of its size is still missing.
  const sizes = new Map<number, number>();
  const sizeOf = new Map<string, number>();
  for (const e of wanted.values()) {
    if (!missing.has(e.xxh64!) || sizeOf.has(e.xxh64!)) continue;
    sizeOf.set(e.xxh64!, e.size);
    sizes.set(e.size, (sizes.get(e.size) ?? 0) + 1);
  }
  // Loaded when an archive is read, not with the module (util/tar-extract.ts).
  const extract = await tarExtract();
  const input = createReadStream(source.path);
  const gunzip = source.compression === 'gzip' ? createGunzip() : undefined;
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const candidate = (header.type === 'file' || header.type === 'contiguous-file') && sizes.has(header.size ?? -1);
      if (!candidate) {
        stream.on('end', () => next()).resume();
        return;
      }
      const tmp = path.join(cacheDir, `.member.${tempTag()}`);
      copyHashed(stream, tmp)
        .then(async (hash) => {
          if (!missing.has(hash)) return rm(tmp, { force: true });
          await rename(tmp, path.join(cacheDir, hash));
          missing.delete(hash);
          const size = sizeOf.get(hash)!;
          const left = sizes.get(size)! - 1;
          if (left > 0) sizes.set(size, left);
          else sizes.delete(size);
        })
        .then(
          () => {
            // Everything found: stop reading (and decompressing) the rest of the archive.
            if (missing.size === 0) {
              input.destroy();
              gunzip?.destroy();
              resolve();
            } else next();
          },
          async (e: unknown) => {
            await rm(tmp, { force: true });
            // Rejected here, not through the extractor's 'error': a member stream that fails mid-copy has already
            // closed the extractor without one, and the build would wait on nothing (and exit 0, silent).
            reject(diskFullError(e, 'state.disk-full', cacheDir, 'an archive member'));
            input.destroy();
            gunzip?.destroy();
            extract.destroy();
          },
        );
    });
    extract.on('finish', () => resolve());
    extract.on('error', reject);
    input.on('error', (e) => reject(new GamelayerError('content.unreadable', `${source.path}: cannot read: ${e.message}`)));
  });
  let head: NodeJS.ReadableStream = input;
  if (gunzip) {
    gunzip.on('error', (e) => extract.destroy(new GamelayerError('content.archive', `${source.path}: ${e.message}`)));
    head = input.pipe(gunzip);
  }
  head.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  if (missing.size > 0) {
    const paths = [...wanted.values()].filter((e) => missing.has(e.xxh64!)).map((e) => e.path);
    throw new ContentChanged(source.path, `it does not hold ${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ` and ${paths.length - 3} more` : ''} as scanned`);
  }
}

/** The xxh64 of a file's bytes. */
async function hashOf(file: string): Promise<string> {
  const hash = await createXxh64();
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest();
}

/** Writes the member to `tmp` and returns the xxh64 of what was written; the caller keeps it only if it is wanted. */
async function copyHashed(member: AsyncIterable<unknown>, tmp: string): Promise<string> {
  const hash = await createXxh64();
  const fh = await open(tmp, 'w');
  try {
    for await (const chunk of member) {
      hash.update(chunk as Buffer);
      await writeAll(fh, chunk as Buffer);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return hash.digest();
}

/** The content source for a tree; archives need the state dir for their cache. */
export async function contentSourceFor(
  source: TreeSource,
  options: { cacheDir: string; entries: readonly FileEntry[]; verify?: boolean },
): Promise<ContentSource> {
  return source.kind === 'dir' ? dirContentSource(source.path) : archiveContentSource(source, options);
}
