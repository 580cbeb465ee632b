// FileHandle.write may write fewer bytes than asked (a full disk does this before it fails): a caller that
// hashes what it meant to write must write all of it, or the file on disk is not what its name says.
import type { FileHandle } from 'node:fs/promises';

/** Writes all of `buf` at the file's current position, or at `position` when given. */
export async function writeAll(fh: FileHandle, buf: Uint8Array, position?: number): Promise<void> {
  for (let off = 0; off < buf.length; ) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position === undefined ? null : position + off);
    if (bytesWritten <= 0) throw Object.assign(new Error('no space left on device (write made no progress)'), { code: 'ENOSPC' });
    off += bytesWritten;
  }
}
