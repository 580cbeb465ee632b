// The layer writer's side of "one read per file" (docs/architecture.md): a file the scan left pending is read once,
// into the layer, and hashed from those very bytes; the hash goes back to the scan's entry and stat cache. What the
// scan checked when it hashed (the bytes read equal the walk's size, and size and times did not move while they
// were read) is checked here the same way, so a file that changed since the walk is an error naming it.
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { GamelayerError, errnoCode } from '../errors.js';
import { createXxh64, EMPTY_XXH64, xxh64Hex, type StatSnapshot } from '../scan/hash.js';
import type { FileEntry } from '../types.js';
import { ContentChanged, readFileAt, readUpToSync, unreadableHint, type ContentReader, type ContentSource } from './content.js';

/** What the layer writer needs of the scan's pending files (src/scan/pending.ts implements it). */
export interface PackHashes {
  /** The entry's pending slot, or -1 when its hash is known (then it is verified as usual). */
  slotOf(entry: FileEntry): number;
  /** The walk's stat of the slot's file. */
  before(slot: number): StatSnapshot;
  /** The hash of the bytes packed, taken under `before`; reading began at `startedAtMs` (the stat cache's racy rule). */
  fill(slot: number, xxh64: string, startedAtMs: number): void;
}

/**
 * No symlink is followed (the walk saw a regular file: a link swapped in since is refused, not read through), and
 * a FIFO swapped in does not block the open: the fstat after the read then says it is no file.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function openError(file: string, e: unknown): GamelayerError {
  const code = errnoCode(e);
  if (code === 'ENOENT') return new ContentChanged(file, 'it was removed');
  if (code === 'ELOOP') return new ContentChanged(file, 'it is a symlink now');
  return new GamelayerError('content.unreadable', `${file}: cannot read: ${(e as Error).message}`, unreadableHint(e));
}

/** The check the scan makes after hashing: every byte the walk's size says, and size and times as the walk saw them. */
function checkUnmoved(file: string, before: StatSnapshot, got: number, after: { size: number; mtimeMs: number; ctimeMs: number; isFile(): boolean }): void {
  if (!after.isFile()) throw new ContentChanged(file, 'it is no regular file now');
  if (after.size !== before.size) throw new ContentChanged(file, `its size is ${after.size} bytes instead of ${before.size}`);
  if (got !== before.size) throw new ContentChanged(file, got > before.size ? `it grew beyond ${before.size} bytes while it was read` : `it has ${got} bytes instead of ${before.size}`);
  if (after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs) throw new ContentChanged(file, 'it was modified while the build ran (its times moved since the scan)');
}

/**
 * A small pending file, read whole into `buf` at `offset` (room for `size + 1` bytes) with synchronous open, read,
 * fstat, close, and hashed. An empty file is not opened: its content is what the walk's stat says, zero bytes.
 */
function readHashingInto(file: string, before: StatSnapshot, buf: Buffer, offset: number): string {
  if (before.size === 0) return EMPTY_XXH64;
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (e) {
    throw openError(file, e);
  }
  try {
    const got = readUpToSync(fd, file, buf, offset, before.size);
    checkUnmoved(file, before, got, fstatSync(fd));
    return xxh64Hex(buf.subarray(offset, offset + got));
  } finally {
    closeSync(fd);
  }
}

/** A big pending file read in order into the caller's buffers (ContentReader), hashed as it goes, checked at the end. */
async function openHashingReader(file: string, before: StatSnapshot, done: (xxh64: string) => void): Promise<ContentReader> {
  let fh: FileHandle;
  try {
    fh = await open(file, OPEN_FLAGS);
  } catch (e) {
    throw openError(file, e);
  }
  const hash = await createXxh64();
  let seen = 0;
  const readAt = (buf: Buffer, offset: number, length: number) => readFileAt(fh, file, buf, offset, length, seen);
  return {
    async read(buf, offset, length) {
      const want = Math.min(length, before.size - seen);
      if (want > 0) {
        const n = await readAt(buf, offset, want);
        if (n === 0) {
          checkUnmoved(file, before, seen, await fh.stat());
          throw new ContentChanged(file, `it has ${seen} bytes instead of ${before.size}`);
        }
        hash.update(buf.subarray(offset, offset + n));
        seen += n;
        return n;
      }
      if (length > 0) return 0;
      // The end: no byte more, size and times as the walk saw them; then the hash is the file's.
      const extra = await readAt(Buffer.alloc(1), 0, 1);
      checkUnmoved(file, before, seen + extra, await fh.stat());
      done(hash.digest());
      return 0;
    },
    close: () => fh.close(),
  };
}

/** A reader as a stream of fresh buffers (for `ContentSource.open`). */
function readerStream(size: number, reader: () => Promise<ContentReader>): Readable {
  return Readable.from(
    (async function* () {
      const r = await reader();
      try {
        for (let left = size; left > 0; ) {
          const buf = Buffer.allocUnsafe(Math.min(left, 1 << 20));
          const n = await r.read(buf, 0, buf.length);
          left -= n;
          yield buf.subarray(0, n);
        }
        await r.read(Buffer.alloc(0), 0, 0);
      } finally {
        await r.close();
      }
    })(),
  );
}

/**
 * The files of a directory tree (`inner`: dirContentSource of `root`) where the scan left hashes pending: those files
 * are read once, hashed from the bytes packed, their hashes handed to `pending`; every other entry goes to `inner`,
 * which checks it against its known hash as usual.
 */
export function packHashingSource(inner: ContentSource, root: string, pending: PackHashes): ContentSource {
  // Planned entries' paths are clean and relative (the walk made them; the layer writer checked them first).
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const fileOf = (e: FileEntry) => prefix + e.path;
  const reader = async (e: FileEntry, slot: number): Promise<ContentReader> => {
    const startedAt = Date.now();
    return openHashingReader(fileOf(e), pending.before(slot), (h) => pending.fill(slot, h, startedAt));
  };
  return {
    open: async (e) => {
      const slot = pending.slotOf(e);
      return slot < 0 ? inner.open(e) : readerStream(e.size, () => reader(e, slot));
    },
    readInto: (e, buf, offset) => {
      const slot = pending.slotOf(e);
      if (slot < 0) return inner.readInto ? inner.readInto(e, buf, offset) : readWhole(inner, e, buf, offset);
      fillSmall(e, slot, buf, offset);
    },
    reader: async (e) => {
      const slot = pending.slotOf(e);
      if (slot >= 0) return reader(e, slot);
      if (inner.reader) return inner.reader(e);
      throw new Error(`no reader for ${e.path}`);
    },
  };

  function fillSmall(e: FileEntry, slot: number, buf: Buffer, offset: number): void {
    const startedAt = Date.now();
    pending.fill(slot, readHashingInto(fileOf(e), pending.before(slot), buf, offset), startedAt);
  }
}

async function readWhole(inner: ContentSource, e: FileEntry, buf: Buffer, offset: number): Promise<void> {
  let at = offset;
  for await (const chunk of await inner.open(e)) {
    (chunk as Buffer).copy(buf, at);
    at += (chunk as Buffer).length;
  }
}
