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

/**
 * Writes text pieces as UTF-8 through one reused buffer (grown only for a longer piece), handing each piece's bytes
 * to `onBytes` before they are written: a Buffer per piece is memory outside V8's heap that stays until a GC finds
 * it dead, which for the pieces of a 1M-entry record is tens of MiB at a time.
 */
export async function writeTextPieces(fh: FileHandle, pieces: Iterable<string>, position?: number, onBytes?: (bytes: Buffer) => void): Promise<number> {
  const writer = textWriter(fh, position, onBytes);
  for (const piece of pieces) await writer.write(piece);
  return writer.written();
}

/** writeTextPieces for a caller that has its pieces one at a time (pushed to it, not pulled from an iterable). */
export function textWriter(fh: FileHandle, position?: number, onBytes?: (bytes: Buffer) => void): { write(piece: string): Promise<void>; written(): number } {
  let buf = Buffer.allocUnsafe(1 << 16);
  let at = position;
  let written = 0;
  return {
    async write(piece) {
      const need = Buffer.byteLength(piece);
      if (need > buf.length) buf = Buffer.allocUnsafe(need);
      const bytes = buf.subarray(0, buf.write(piece, 0, need, 'utf8'));
      onBytes?.(bytes);
      await writeAll(fh, bytes, at);
      if (at !== undefined) at += bytes.length;
      written += bytes.length;
    },
    written: () => written,
  };
}
