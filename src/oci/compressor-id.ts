// What decides a compressor's bytes (its options, defaults and the id the layer cache keys on), apart from the
// compressors themselves (gzip.ts with its worker pool, zstd.ts with its process and pipes): a build that reuses every
// layer needs the ids, not the writers (start-up of a no-op build).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GamelayerError } from '../errors.js';
import { RAW_CHUNK, RAW_RUN_CHUNKS, RAW_TEST } from './zstd-raw.js';

export interface GzipOptions {
  /**
   * zlib level. Default 1: measured on this project's 2-core machine, level 6 took 1.5-3.7× the CPU of
   * level 1 for output only 4-12% smaller (binaries, text); already-compressed media skip deflate anyway.
   */
  level?: number;
  /** Worker threads; 0 compresses on the calling thread. Default: the machine's cores. */
  threads?: number;
  /** Input bytes per block. Part of the output format: changing it changes every digest. */
  blockSize?: number;
}

export const DEFAULT_GZIP_LEVEL = 1;
export const DEFAULT_BLOCK_SIZE = 1 << 20;

/** Names everything that decides the gzip bytes, for the layer cache key: change any, get new digests. */
export function gzipCompressorId(options: GzipOptions = {}): string {
  const level = options.level ?? DEFAULT_GZIP_LEVEL;
  const block = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  return `gamelayer-gzip/1 level=${level} block=${block} dict=32k stored-if-entropy>7.98 zlib=${process.versions.zlib}`;
}

/**
 * zstd level 1, as gzip's: on the generated 3.1 GB game (bench/README.md, issue 17) `zstd -3` took 3.8-4.6 s of CPU
 * where `zstd -1` took 2.4-2.6 s on the same tar, for output 0.2 % smaller, and a cold build is CPU-bound. Layers of
 * level 3 are rebuilt once (the level is in the compressor id, so in the layer cache key).
 */
export const DEFAULT_ZSTD_LEVEL = 1;

export interface ZstdOptions {
  level?: number;
  /** The zstd binary; default `zstd` on PATH. */
  bin?: string;
  /**
   * Compression threads; default 0, every core. Not part of the output: in multi-threaded mode (any count, 1
   * included) zstd cuts jobs by level, not by thread count, so the bytes are the same (test/oci-zstd.test.ts).
   */
  threads?: number;
}

/** zstd -T0 uses every core; MT mode splits jobs by level, not by thread count, so bytes stay the same. */
export function zstdArgs(level: number, threads = 0): string[] {
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new GamelayerError('zstd.level', `zstd level ${level} is not a whole number from 1 to 19`);
  }
  if (!Number.isInteger(threads) || threads < 0) throw new GamelayerError('zstd.level', `zstd threads ${threads} is not a whole number ≥ 0`);
  return [`-${level}`, `-T${threads}`, '-q', '-c', '--no-progress'];
}

export function zstdMissing(bin: string, e: Error): GamelayerError {
  return new GamelayerError('zstd.missing', `cannot run ${bin}: ${e.message}`, 'install zstd (apt-get install zstd) or use gzip layers');
}

const versions = new Map<string, Promise<string>>();

/** `v1.5.4` (what `bin --version` says), asked once per binary. */
export function zstdVersion(bin: string): Promise<string> {
  let v = versions.get(bin);
  if (!v) {
    v = promisify(execFile)(bin, ['--version']).then(
      ({ stdout }) => /v\d+\.\d+\.\d+/.exec(stdout)?.[0] ?? stdout.trim(),
      (e: Error) => Promise.reject(zstdMissing(bin, e)),
    );
    versions.set(bin, v);
  }
  return v;
}

/**
 * `gamelayer-zstd/2 zstd v1.5.4 -1 -T0 … raw-runs=…`: everything that decides the bytes, for the layer cache key.
 * Format 2: long runs of random-looking input are raw frames written by gamelayer (zstd-raw.ts), so layers of
 * format 1 (all of the tar through `zstd`) are rebuilt once.
 */
export async function zstdCompressorId(options: ZstdOptions = {}): Promise<string> {
  const zstd = `zstd ${await zstdVersion(options.bin ?? 'zstd')} ${zstdArgs(options.level ?? DEFAULT_ZSTD_LEVEL).join(' ')}`;
  return `gamelayer-zstd/2 ${zstd} raw-runs=${RAW_RUN_CHUNKS}x${RAW_CHUNK}:${RAW_TEST}`;
}
