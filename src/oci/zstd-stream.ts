// zstd through its stdin and stdout: the reference the layer writer's blobs are checked against (test/oci-zstd.test.ts:
// a stretch of the tar gives the same frame through a named pipe), and a plain zstd stream for a library caller.
import { Duplex } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { DEFAULT_ZSTD_LEVEL, zstdArgs, type ZstdOptions } from './compressor-id.js';
import { zstdProcess } from './zstd-process.js';

/**
 * A duplex that zstd-compresses what is written to it. It ends only after zstd exited 0: a zstd
 * that fails half-way gives a stream error, never a truncated blob that looks complete (zstd-process.ts).
 */
export function createZstd(options: ZstdOptions = {}): Duplex {
  return zstdProcess(options.bin ?? 'zstd', zstdArgs(options.level ?? DEFAULT_ZSTD_LEVEL, options.threads), (why) => new GamelayerError('zstd.failed', why));
}
