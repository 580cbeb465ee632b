// Content hashing with xxhash-wasm: streaming, a fixed buffer per concurrent read, change detection.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import xxhash from 'xxhash-wasm';
import { GamelayerError } from '../errors.js';
import { createXxh64InPlace, xxh64Once } from './xxh64-shared.js';

export type XxhashApi = Awaited<ReturnType<typeof xxhash>>;
type Api = XxhashApi;
let api: Promise<Api> | undefined;

export function xxhashApi(): Promise<Api> {
  api ??= xxhash();
  return api;
}

export function hex64(v: bigint): string {
  return v.toString(16).padStart(16, '0');
}

/**
 * A streaming xxh64 for callers that already have the bytes flowing (archives, tar writers): xxhash-wasm's hash,
 * taken where the bytes lie when they are in a zstd feed's slots (xxh64-shared.ts).
 */
export async function createXxh64(): Promise<{ update(b: Uint8Array): void; digest(): string }> {
  const h = createXxh64InPlace();
  return {
    update: (b) => h.update(b),
    digest: () => hex64(h.digest()),
  };
}

/** xxh64 (hex) of `bytes` in one call: in place where they lie in a zstd feed's slots (xxh64-shared.ts). */
export function xxh64Hex(bytes: Uint8Array): string {
  return hex64(xxh64Once(bytes));
}

const CHUNK = 1 << 20;
const bufferPool: Buffer[] = [];

export interface StatSnapshot {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/** Thrown when a file's size or times moved while it was read: the hash would not describe the file. */
export class ChangedWhileReading extends GamelayerError {
  constructor(file: string) {
    super(
      'scan.changed',
      `${file}: the file changed while it was being hashed`,
      'stop whatever is writing into the game tree (an editor, a build, a sync) and run again',
    );
  }
}

/**
 * xxh64 of a file's bytes. The file's stat before (from the walk) must equal its stat after the read
 * and the bytes read must equal its size, else ChangedWhileReading: never a hash of a half-written file.
 */
export async function hashFile(file: string, before: StatSnapshot, onBytes?: (n: number) => void, sink?: (block: Uint8Array) => void): Promise<string> {
  const x = await xxhashApi();
  if (before.size <= SMALL_FILE) return hashSmallFile(x, file, before, sink);
  return hashLargeFile(x, file, before, onBytes, sink);
}

/** `onBytes` hears of each read as it is hashed: a progress bar moves through one big file, not only after it. */
async function hashLargeFile(x: Api, file: string, before: StatSnapshot, onBytes?: (n: number) => void, sink?: (block: Uint8Array) => void): Promise<string> {
  const h = x.create64();
  const buf = bufferPool.pop() ?? Buffer.allocUnsafe(CHUNK);
  const fh = await open(file, 'r');
  try {
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const block = bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
      h.update(block);
      sink?.(block);
      total += bytesRead;
      onBytes?.(bytesRead);
    }
    const after = await fh.stat();
    if (total !== before.size || after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs) {
      throw new ChangedWhileReading(file);
    }
    return hex64(h.digest());
  } finally {
    bufferPool.push(buf);
    await fh.close();
  }
}

/**
 * Files up to this size are hashed with synchronous open, read, fstat and close: through fs/promises those four
 * calls cost about 100 µs of main-thread CPU per file (a cold scan of 1M empty files spent 150 s of CPU), far more
 * than the read itself. The same choice as the layer writer's (oci/tar.ts).
 */
export const SMALL_FILE = 64 * 1024;

/**
 * xxh64 of zero bytes. Every empty file's entry holds this one string (a hash string per entry is 32 bytes: 32 MiB
 * on 1M empty files); here, below the plan and the layer writer, so both import it downward.
 */
export const EMPTY_XXH64 = 'ef46db3751d8e999';

/** `xxh64` itself, or the shared EMPTY_XXH64 when it is that hash: a fresh string per empty file is not kept. */
export function sharedHash(xxh64: string): string {
  return xxh64 === EMPTY_XXH64 ? EMPTY_XXH64 : xxh64;
}

/**
 * hashFile for a small file (`before.size` at most SMALL_FILE): the same checks, in one synchronous pass. For a
 * caller with many such files: no promise per file (`api` from xxhashApi()).
 */
export function hashSmallFile(x: Api, file: string, before: StatSnapshot, sink?: (block: Uint8Array) => void): string {
  const buf = bufferPool.pop() ?? Buffer.allocUnsafe(CHUNK);
  const fd = openSync(file, 'r');
  try {
    // Up to one byte more than the walk saw, so a file that grew shows as well as one that shrank.
    let total = 0;
    while (total <= before.size) {
      const n = readSync(fd, buf, total, before.size + 1 - total, null);
      if (n === 0) break;
      total += n;
    }
    const after = fstatSync(fd);
    if (total !== before.size || after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs) {
      throw new ChangedWhileReading(file);
    }
    sink?.(buf.subarray(0, total));
    return hex64(x.h64Raw(buf.subarray(0, total)));
  } finally {
    bufferPool.push(buf);
    closeSync(fd);
  }
}
