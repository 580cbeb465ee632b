// One block of the parallel gzip: a pure function of (block, previous 32 KiB, level, last?), so the
// stream is byte-identical whatever thread compresses which block.
import { constants, deflateRawSync } from 'node:zlib';

/** Deflate's window: each block may refer back this far into the previous one. */
export const DICTIONARY_SIZE = 32 * 1024;
const STORED_MAX = 65535;

/**
 * Whether a block looks already compressed (.pak, .ogg, .png, nested archives): byte entropy near 8 bits.
 * One histogram pass costs far less than deflating bytes that will not shrink.
 */
export function looksIncompressible(block: Uint8Array): boolean {
  if (block.length < 4096) return false;
  const counts = new Uint32Array(256);
  for (let i = 0; i < block.length; i++) counts[block[i]!]!++;
  let entropy = 0;
  for (let i = 0; i < 256; i++) {
    const c = counts[i]!;
    if (c === 0) continue;
    const p = c / block.length;
    entropy -= p * Math.log2(p);
  }
  return entropy > 7.98;
}

/** Deflate stored blocks (RFC 1951 3.2.4), byte-aligned; `last` sets BFINAL on the final one. */
export function storedBlocks(block: Uint8Array, last: boolean): Buffer {
  const n = Math.max(1, Math.ceil(block.length / STORED_MAX));
  const out = Buffer.allocUnsafe(block.length + n * 5);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const start = i * STORED_MAX;
    const len = Math.min(STORED_MAX, block.length - start);
    out[o++] = last && i === n - 1 ? 1 : 0;
    out.writeUInt16LE(len, o);
    out.writeUInt16LE(~len & 0xffff, o + 2);
    o += 4;
    out.set(block.subarray(start, start + len), o);
    o += len;
  }
  return out;
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
