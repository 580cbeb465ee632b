// The kinds of layer compression and what the rest of a build needs to know of them (media types, the id the layer
// cache keys on, the bound on compression ratio): apart from the layer writer (layer.ts, with tar, the gzip pool and
// zstd), which a build that reuses every layer never loads.
import { gzipCompressorId, zstdCompressorId, type GzipOptions, type ZstdOptions } from './compressor-id.js';

export const LAYER_MEDIA_TYPE = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

export type LayerCompression = ({ kind: 'gzip' } & GzipOptions) | ({ kind: 'zstd' } & ZstdOptions);

/** Everything about the compressor that decides the blob's bytes: part of the layer cache key. */
export async function compressorId(c: LayerCompression = { kind: 'gzip' }): Promise<string> {
  return c.kind === 'gzip' ? gzipCompressorId(c) : zstdCompressorId(c);
}

/**
 * The most a compressor can shrink its input: deflate emits at least one bit per 258-byte match (about 1032:1);
 * zstd at least a 3-byte block header plus one byte per 128 KiB RLE block (32768:1). So `bytes / ratio` is a size
 * the compressed layer can never go below: checked from stat sizes before anything is read.
 */
export const MAX_COMPRESSION_RATIO = { gzip: 1032, zstd: 32768 } as const;

/** A size the compressed form of `bytes` of input can never go below. */
export function compressedLowerBound(bytes: number, kind: LayerCompression['kind']): number {
  return Math.floor(bytes / MAX_COMPRESSION_RATIO[kind]);
}
