// The gear table of the content-defined chunker: 256 fixed 32-bit values. Chunk boundaries, and so image digests,
// depend on it: it is derived from a fixed text (the first 4 bytes of sha256("gamelayer-gear-<i>")), never from a
// random seed, and test/chunk.test.ts pins its digest so that no change can slip through.
import { createHash } from 'node:crypto';

function makeGear(): Int32Array {
  const g = new Int32Array(256);
  for (let i = 0; i < 256; i++) g[i] = createHash('sha256').update(`gamelayer-gear-${i}`).digest().readInt32BE(0);
  return g;
}

let gear: Int32Array | undefined;

/** The table, made on first use: only chunked trees need it, and 256 sha256 cost every CLI start a few ms. */
export function gearTable(): Int32Array {
  gear ??= makeGear();
  return gear;
}
