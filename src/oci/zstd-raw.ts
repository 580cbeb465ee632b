// The part of a zstd layer's format gamelayer writes itself: long runs of bytes that will not compress (paks,
// textures, nested archives) become zstd frames of raw blocks (RFC 8878), not input to `zstd`. A layer blob is the
// concatenation of zstd's frames and these, in tar order; every zstd decoder reads concatenated frames.
import { countBytes, LANE_COUNTS, laneEntropy } from './byte-entropy.js';

/** The tar is cut at multiples of this; each piece is tested on its own. Part of the format. */
export const RAW_CHUNK = 1 << 20;
/** Incompressible pieces in a row before they are written raw: a shorter run goes to `zstd`. Part of the format. */
export const RAW_RUN_CHUNKS = 4;
/** The test's name, for the compressor id. */
export const RAW_TEST = 'sampled-entropy>7.98';

/** Bytes sampled per piece by `looksRandom`: SAMPLES windows of SAMPLE_BYTES, evenly spread. */
const SAMPLES = 16;
const SAMPLE_BYTES = 4096;
const MAX_BLOCK = 128 << 10;

/** The lane tables of counts (byte-entropy.ts), reused by every call: nothing allocated per piece. */
const lanes = new Uint32Array(LANE_COUNTS);

/**
 * Whether a piece of the tar looks already compressed: the byte entropy of 64 KiB sampled from it above 7.98 bits
 * (random bytes give 7.997 on so many samples; ELF code 5-6.5, text 4-5). A pure function of the bytes; a wrong
 * guess costs only size. Sampling keeps it at 1/16 of a full histogram's cost, on every byte of every layer.
 * The samples are counted into one set of lane tables (a table per sample, allocated per call, took 3-4× the time:
 * 0.3 s of the main thread for the 3.1 GB game); the counts, so the entropy, are the same.
 */
export function looksRandom(piece: Uint8Array): boolean {
  if (piece.length < RAW_CHUNK) return false;
  // A multiple of 4: every sample lies as the piece does, at a word boundary or not.
  const step = Math.floor((piece.length - SAMPLE_BYTES) / (SAMPLES - 1)) & ~3;
  lanes.fill(0);
  countBytes(lanes, piece, SAMPLES, SAMPLE_BYTES, step);
  return laneEntropy(lanes, SAMPLES * SAMPLE_BYTES) > 7.98;
}

/** Bytes `rawFrame` adds to `length` bytes of content. */
export function rawFrameOverhead(length: number): number {
  return 9 + 3 * Math.max(1, Math.ceil(length / MAX_BLOCK));
}

/**
 * One zstd frame holding `content` in raw blocks, as (head, body) pairs to be written (and hashed) in order: the
 * frame header (magic, descriptor: single segment, 4-byte content size, no checksum, no dictionary) goes before the
 * first block's; each block, at most 128 KiB, has a 3-byte header (last flag, type 0 = raw, size). `content` is
 * not copied.
 */
export function rawFrame(content: Uint8Array): Uint8Array[] {
  const blocks = Math.max(1, Math.ceil(content.length / MAX_BLOCK));
  const parts: Uint8Array[] = [];
  for (let i = 0; i < blocks; i++) {
    const body = content.subarray(i * MAX_BLOCK, Math.min(content.length, (i + 1) * MAX_BLOCK));
    const first = i === 0 ? 9 : 0;
    const head = Buffer.alloc(first + 3);
    if (first) {
      head.writeUInt32LE(0xfd2fb528, 0);
      head[4] = (2 << 6) | (1 << 5); // content size in 4 bytes, single segment
      head.writeUInt32LE(content.length, 5);
    }
    head.writeUIntLE((body.length << 3) | (i === blocks - 1 ? 1 : 0), first, 3);
    parts.push(head, body);
  }
  return parts;
}
