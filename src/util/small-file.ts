// A small file of a folder someone else may have made (an OCI layout: index.json, oci-layout, a manifest or config
// blob) read whole, but only when it is a regular file of at most `maxBytes`. A path that is a FIFO would block the
// open or the read for ever, and /dev/zero (a blob linked to it) was read without end: a build grew to 2.7 GB in
// 5 s. O_NONBLOCK makes opening a FIFO return at once; the kind and size are then taken from the open descriptor,
// and no more than the size it had then is read.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** The file's bytes, or why they were not read (the caller names the file and picks the error code). */
export type SmallFile = { bytes: Buffer } | { notFile: string } | { tooBig: number };

/** What kind of thing a path is when it is not a regular file, in words for an error message. */
export function kindOf(st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

/**
 * `file` opened for reading when it is a regular file (its size as opened), else what it is; the caller closes the
 * handle. fs errors of the open (ENOENT, EACCES) are thrown as they are.
 */
export async function openRegularFile(file: string): Promise<{ handle: FileHandle; size: number } | { notFile: string }> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (st.isFile()) return { handle, size: st.size };
    await handle.close();
    return { notFile: kindOf(st) };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Reads `file` when it is a regular file of at most `maxBytes`; fs errors (ENOENT, EACCES) are thrown as they are. */
export async function readSmallFile(file: string, maxBytes: number): Promise<SmallFile> {
  const opened = await openRegularFile(file);
  if ('notFile' in opened) return opened;
  const { handle, size } = opened;
  try {
    if (size > maxBytes) return { tooBig: size };
    // A file cut while read is short: its digest or its JSON then tells.
    return { bytes: await readUpTo(handle, size) };
  } finally {
    await handle.close();
  }
}

/** `openRegularFile`, synchronously: the descriptor and its size, or what the path is; the caller closes the descriptor. */
export function openRegularFileSync(file: string): { fd: number; size: number } | { notFile: string } {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return { fd, size: st.size };
    closeSync(fd);
    return { notFile: kindOf(st) };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** `openRegularFileSync` for readers to whom a missing, unreadable or special file is no file (a cache, a hint). */
export function openRegularFileSyncOrNone(file: string): { fd: number; size: number } | undefined {
  try {
    const opened = openRegularFileSync(file);
    return 'notFile' in opened ? undefined : opened;
  } catch {
    return undefined;
  }
}

/**
 * A state file (a cache, read once before the work that needs it) read whole and synchronously, when it is a regular
 * file: a FIFO put in its place blocked the build for ever. fs errors (ENOENT) are thrown as they are.
 */
export function readRegularFileSync(file: string): { bytes: Buffer } | { notFile: string } {
  const opened = openRegularFileSync(file);
  if ('notFile' in opened) return opened;
  try {
    return { bytes: readFileSync(opened.fd) };
  } finally {
    closeSync(opened.fd);
  }
}

/** The first `size` bytes of an open file (its size when opened); fewer when it was cut meanwhile. */
export async function readUpTo(handle: FileHandle, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await handle.read(bytes, at, size - at, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at === size ? bytes : bytes.subarray(0, at);
}
