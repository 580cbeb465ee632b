// The byte entropy both layer writers test for bytes that will not compress: gzip's on a whole block
// (gzip-block.ts), zstd's on samples of a piece of the tar (zstd-raw.ts). One counting loop for both.

/** Four tables of 256 counts, one per byte of a 32-bit word (`countBytes`). */
export const LANE_COUNTS = 1024;

/**
 * Adds to `lanes` (LANE_COUNTS long) the bytes of `windows` windows of `bytes`, each `width` long, `step` apart from
 * the start. Read four bytes at a time into four tables (one per byte lane), so no count waits for the one before
 * it: about 1.7× the bytes per CPU-second of one table and one byte at a time, on every byte of every gzip block
 * and on 1/16 of every zstd piece. Bytes not at a multiple of 4 of their buffer are counted one at a time into the
 * first table (the sums per byte value, so the entropy, are the same).
 */
export function countBytes(lanes: Uint32Array, bytes: Uint8Array, windows = 1, width = bytes.length, step = 0): void {
  const words = bytes.byteOffset % 4 === 0 && step % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2) : undefined;
  for (let s = 0; s < windows; s++) {
    let i = s * step;
    const end = i + width;
    if (words) {
      for (let w = i >>> 2, to = w + (width >>> 2); w < to; w++) {
        const v = words[w]!;
        lanes[v & 255]!++;
        lanes[256 + ((v >>> 8) & 255)]!++;
        lanes[512 + ((v >>> 16) & 255)]!++;
        lanes[768 + (v >>> 24)]!++;
      }
      i += width & ~3;
    }
    for (; i < end; i++) lanes[bytes[i]!]!++;
  }
}

/** Bits per byte of the `n` bytes counted in `lanes`: near 8 for bytes that are already compressed. */
export function laneEntropy(lanes: Uint32Array, n: number): number {
  let entropy = 0;
  for (let b = 0; b < 256; b++) {
    const c = lanes[b]! + lanes[256 + b]! + lanes[512 + b]! + lanes[768 + b]!;
    if (c === 0) continue;
    const p = c / n;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}
