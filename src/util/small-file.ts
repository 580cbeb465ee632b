// A small file of a folder someone else may have made (an OCI layout: index.json, oci-layout, a manifest or config
// blob) read whole, but only when it is a regular file of at most `maxBytes`. A path that is a FIFO would block the
// open or the read for ever, and /dev/zero (a blob linked to it) was read without end: a build grew to 2.7 GB in
// 5 s. O_NONBLOCK makes opening a FIFO return at once; the kind and size are then taken from the open descriptor,
// and no more than the size it had then is read.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';

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

/** Reads `file` when it is a regular file of at most `maxBytes`; fs errors (ENOENT, EACCES) are thrown as they are. */
export async function readSmallFile(file: string, maxBytes: number): Promise<SmallFile> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { notFile: kindOf(st) };
    if (st.size > maxBytes) return { tooBig: st.size };
    const bytes = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const { bytesRead } = await handle.read(bytes, at, st.size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    // A file cut while read is short: its digest or its JSON then tells.
    return { bytes: at === st.size ? bytes : bytes.subarray(0, at) };
  } finally {
    await handle.close();
  }
}

/**
 * A state file (a cache, read once before the work that needs it) read whole and synchronously, when it is a regular
 * file: a FIFO put in its place blocked the build for ever. fs errors (ENOENT) are thrown as they are.
 */
export function readRegularFileSync(file: string): { bytes: Buffer } | { notFile: string } {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { notFile: kindOf(st) };
    return { bytes: readFileSync(fd) };
  } finally {
    closeSync(fd);
  }
}
