// The raw-run test of zstd layers (zstd-raw.ts) is part of the layer format: a piece it calls random is written as
// raw frames, any other goes to `zstd`, so a faster count must give the same decision for every piece. Pinned
// against the plain definition (one table, one byte at a time, per sample) on pieces around the 7.98-bit threshold.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { looksRandom, RAW_CHUNK } from '../src/oci/zstd-raw.js';

/** The definition: byte entropy of 16 windows of 4 KiB, evenly spread, above 7.98 bits. */
function reference(piece: Uint8Array): boolean {
  if (piece.length < RAW_CHUNK) return false;
  const step = Math.floor((piece.length - 4096) / 15) & ~3;
  const counts = new Array<number>(256).fill(0);
  for (let s = 0; s < 16; s++) for (let i = s * step; i < s * step + 4096; i++) counts[piece[i]!]!++;
  let entropy = 0;
  for (const c of counts) {
    if (c === 0) continue;
    const p = c / (16 * 4096);
    entropy -= p * Math.log2(p);
  }
  return entropy > 7.98;
}

/** Random bytes over `symbols` values (entropy about log2(symbols): 252 → 7.977, 254 → 7.989), in `memory`. */
function piece(symbols: number, length: number, memory: ArrayBufferLike, offset = 0): Uint8Array {
  const out = new Uint8Array(memory, offset, length);
  const r = randomBytes(length);
  for (let i = 0; i < length; i++) out[i] = (r[i]! * symbols) >> 8;
  return out;
}

describe('looksRandom', () => {
  it('decides as the plain definition on pieces around the threshold, aligned or not, shared memory or not', () => {
    const decisions = new Set<boolean>();
    for (const symbols of [16, 200, 251, 252, 253, 253, 253, 254, 255, 256]) {
      for (const [memory, offset] of [
        [new ArrayBuffer(RAW_CHUNK + 8), 0],
        [new SharedArrayBuffer(RAW_CHUNK + 8), 4],
        [new ArrayBuffer(RAW_CHUNK + 8), 3],
        [new ArrayBuffer(2 * RAW_CHUNK), 0],
      ] as const) {
        const length = memory.byteLength === 2 * RAW_CHUNK ? 2 * RAW_CHUNK : RAW_CHUNK + 1;
        const p = piece(symbols, length, memory, offset);
        expect(looksRandom(p), `${symbols} symbols at offset ${offset}`).toBe(reference(p));
        decisions.add(looksRandom(p));
      }
    }
    expect([...decisions].sort()).toEqual([false, true]);
  });

  it('calls random bytes random and narrower ones not; a piece shorter than RAW_CHUNK is never random', () => {
    expect(looksRandom(randomBytes(RAW_CHUNK))).toBe(true);
    expect(looksRandom(piece(252, RAW_CHUNK, new ArrayBuffer(RAW_CHUNK)))).toBe(false);
    expect(looksRandom(piece(255, RAW_CHUNK, new ArrayBuffer(RAW_CHUNK)))).toBe(true);
    expect(looksRandom(randomBytes(RAW_CHUNK - 1))).toBe(false);
  });
});
