// Walks the frames of a zstd blob (RFC 8878, written from the RFC, not from src/): which are gamelayer's raw frames
// (no checksum, raw blocks only) and which are the `zstd` CLI's (with its checksum; it may hold raw blocks too), and
// where each starts and ends. A blob that is not whole frames throws.

export interface ZstdFrame {
  /** Raw blocks without a checksum (gamelayer's own frames), or the zstd CLI's frame (it writes a checksum). */
  kind: 'raw' | 'zstd';
  /** Offset and length of the whole frame in the blob. */
  start: number;
  length: number;
  /** The frame's raw content (raw frames only). */
  content?: Buffer;
  checksum: boolean;
  /** Single segment, with the content size in the header. */
  contentSize?: number;
}

export function zstdFrames(blob: Buffer): ZstdFrame[] {
  const frames: ZstdFrame[] = [];
  for (let at = 0; at < blob.length; ) {
    if (blob.readUInt32LE(at) !== 0xfd2fb528) throw new Error(`no zstd frame at ${at}`);
    const fhd = blob[at + 4]!;
    const fcsFlag = fhd >> 6;
    const single = (fhd >> 5) & 1;
    const checksum = ((fhd >> 2) & 1) === 1;
    const didSize = [0, 1, 2, 4][fhd & 3]!;
    const fcsSize = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
    let p = at + 5 + (single ? 0 : 1) + didSize + fcsSize;
    let allRaw = true;
    const raw: Buffer[] = [];
    for (;;) {
      const h = blob[p]! | (blob[p + 1]! << 8) | (blob[p + 2]! << 16);
      const last = h & 1;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (type === 3) throw new Error(`reserved block type at ${p}`);
      if (type !== 0) allRaw = false;
      else raw.push(blob.subarray(p + 3, p + 3 + size));
      p += 3 + (type === 1 ? 1 : size);
      if (last) break;
    }
    if (checksum) p += 4;
    if (p > blob.length) throw new Error(`frame at ${at} runs past the blob`);
    if (!checksum && !allRaw) throw new Error(`frame at ${at}: no checksum, yet compressed blocks`);
    const sizeAt = at + 5 + (single ? 0 : 1) + didSize;
    const contentSize = fcsSize === 4 ? blob.readUInt32LE(sizeAt) : fcsSize === 8 ? Number(blob.readBigUInt64LE(sizeAt)) : fcsSize === 2 ? blob.readUInt16LE(sizeAt) + 256 : fcsSize === 1 ? blob[sizeAt] : undefined;
    frames.push({ kind: checksum ? 'zstd' : 'raw', start: at, length: p - at, checksum, contentSize, ...(checksum ? {} : { content: Buffer.concat(raw) }) });
    at = p;
  }
  return frames;
}
