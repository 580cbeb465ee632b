// The byte count both layer writers' already-compressed tests stand on (gzip's stored blocks, zstd's raw runs): its
// four lanes, read a word at a time where the bytes are word-aligned, must give the counts a plain byte loop gives,
// so the decisions, and so the blobs, never depend on where a block lies in memory.
import { describe, expect, it } from 'vitest';
import { countBytes, LANE_COUNTS, laneEntropy } from '../src/oci/byte-entropy.js';
import { noise } from './support/oci-fixtures.js';

/** Counts per byte value of `windows` windows of `bytes`, `width` long, `step` apart: the plain definition. */
function plainCounts(bytes: Uint8Array, windows: number, width: number, step: number): number[] {
  const want = new Array<number>(256).fill(0);
  for (let s = 0; s < windows; s++) for (let i = s * step; i < s * step + width; i++) want[bytes[i]!]!++;
  return want;
}

function counted(bytes: Uint8Array, windows?: number, width?: number, step?: number): number[] {
  const lanes = new Uint32Array(LANE_COUNTS);
  countBytes(lanes, bytes, windows, width, step);
  return Array.from({ length: 256 }, (_, b) => lanes[b]! + lanes[256 + b]! + lanes[512 + b]! + lanes[768 + b]!);
}

const text = Buffer.from('player_spawn origin 100 200 300; weapon_give rifle ammo 90\n'.repeat(200));
const data = Buffer.concat([noise(70_001, 'counts'), Buffer.alloc(5_003, 255), text]);
const shared = new Uint8Array(new SharedArrayBuffer(data.length + 8));
shared.set(data, 3);
/** The same bytes at every alignment, in ordinary and in shared memory. */
const views = (start: number, end: number) => [data.subarray(start, end), shared.subarray(start + 3, end + 3)];

describe('countBytes', () => {
  it('counts a whole block as a plain byte loop does, at any offset and length', () => {
    for (const [start, end] of [[0, data.length], [1, data.length], [2, data.length - 1], [3, data.length - 2], [5, 4101]] as [number, number][]) {
      for (const view of views(start, end)) expect(counted(view)).toEqual(plainCounts(view, 1, view.length, 0));
    }
  });

  it('counts spread windows as a plain byte loop does, widths and steps not multiples of 4 included', () => {
    for (const [windows, width, step] of [[16, 4096, 4908], [3, 1001, 20_000], [5, 64, 13_001]] as [number, number, number][]) {
      for (const view of [...views(0, data.length), ...views(1, data.length), ...views(2, data.length)]) {
        expect(counted(view, windows, width, step), `${windows}×${width} every ${step} at ${view.byteOffset}`).toEqual(plainCounts(view, windows, width, step));
      }
    }
  });

  it('adds to the counts already there (the caller clears them)', () => {
    const lanes = new Uint32Array(LANE_COUNTS);
    countBytes(lanes, data);
    countBytes(lanes, data);
    expect(lanes.reduce((a, b) => a + b, 0)).toBe(2 * data.length);
  });
});

describe('laneEntropy', () => {
  it('is the entropy of the summed counts, to the bit', () => {
    for (const bytes of [noise(65_536, 'entropy'), text, Buffer.alloc(4096, 7)]) {
      const lanes = new Uint32Array(LANE_COUNTS);
      countBytes(lanes, bytes);
      let want = 0;
      for (const c of plainCounts(bytes, 1, bytes.length, 0)) {
        if (c === 0) continue;
        const p = c / bytes.length;
        want -= p * Math.log2(p);
      }
      expect(laneEntropy(lanes, bytes.length)).toBe(want);
    }
    const random = new Uint32Array(LANE_COUNTS);
    countBytes(random, noise(65_536, 'entropy'));
    expect(laneEntropy(random, 65_536)).toBeGreaterThan(7.98);
  });
});
