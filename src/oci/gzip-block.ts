// One block of the parallel gzip: a pure function of (block, previous 32 KiB, level, last?), so the
// stream is byte-identical whatever thread compresses which block.
import { constants, deflateRawSync } from 'node:zlib';
import { countBytes, LANE_COUNTS, laneEntropy } from './byte-entropy.js';

/** Deflate's window: each block may refer back this far into the previous one. */
export const DICTIONARY_SIZE = 32 * 1024;
const STORED_MAX = 65535;

/** The lane tables of counts (byte-entropy.ts), reused block after block (one set per worker thread). */
const lanes = new Uint32Array(LANE_COUNTS);

/**
 * Whether a block looks already compressed (.pak, .ogg, .png, nested archives): byte entropy near 8 bits.
 * One histogram pass costs far less than deflating bytes that will not shrink.
 */
export function looksIncompressible(block: Uint8Array): boolean {
  if (block.length < 4096) return false;
  lanes.fill(0);
  countBytes(lanes, block);
  return laneEntropy(lanes, block.length) > 7.98;
}

/** Bytes `storedBlocks` makes of `length` input bytes. */
export function storedSize(length: number): number {
  return length + Math.max(1, Math.ceil(length / STORED_MAX)) * 5;
}

/** Deflate stored blocks (RFC 1951 3.2.4), byte-aligned; `last` sets BFINAL on the final one. */
export function storedBlocks(block: Uint8Array, last: boolean): Buffer {
  const out = Buffer.allocUnsafe(storedSize(block.length));
  writeStored(block, last, out);
  return out;
}

/** `storedBlocks` written into `out` (at least `storedSize` bytes); returns the bytes written. */
function writeStored(block: Uint8Array, last: boolean, out: Uint8Array): number {
  const n = Math.max(1, Math.ceil(block.length / STORED_MAX));
  let o = 0;
  for (let i = 0; i < n; i++) {
    const start = i * STORED_MAX;
    const len = Math.min(STORED_MAX, block.length - start);
    out[o++] = last && i === n - 1 ? 1 : 0;
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(block.subarray(start, start + len), o);
    o += len;
  }
  return o;
}

/**
 * Raw deflate of one block. Non-final blocks end with a sync flush (byte-aligned, no BFINAL) so blocks
 * concatenate into one valid deflate stream; the final block is finished.
 */
export function compressBlock(block: Uint8Array, dictionary: Uint8Array | undefined, level: number, last: boolean): Buffer {
  if (looksIncompressible(block)) return storedBlocks(block, last);
  return deflateRawSync(block, {
    level,
    ...(dictionary && dictionary.length ? { dictionary } : {}),
    finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
  });
}

/**
 * `compressBlock` with its result written into `out` when it fits (the byte count is returned), else returned as
 * its own buffer. Lets the gzip workers answer in a buffer they reuse: no new buffer per block on either side.
 */
export function compressBlockInto(block: Uint8Array, dictionary: Uint8Array | undefined, level: number, last: boolean, out: Uint8Array): number | Buffer {
  if (looksIncompressible(block) && storedSize(block.length) <= out.length) return writeStored(block, last, out);
  const result = compressBlock(block, dictionary, level, last);
  if (result.length > out.length) return result;
  out.set(result);
  return result.length;
}
