// Worker thread of the zstd layer writer: takes the layer's tar in shared slots, hashes it (the diffID) and writes it
// into the pipe zstd reads, with plain blocking writes, or writes it into the blob itself as raw zstd frames
// (zstd-raw.ts); hashes the blob as it grows. The thread that makes the tar only copies chunks into slots: hashing
// and the system calls run here, on another core.
import { createHash, type Hash } from 'node:crypto';
import { readSync, writeSync, writevSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { rawFrame } from './zstd-raw.js';

export type FeedRequest =
  /** Once, before any chunk: the feed's shared slots (chunks then name theirs by index: no buffer to clone per chunk). */
  | { id: number; type: 'slots'; slots: Uint8Array[] }
  /**
   * Bytes of a slot into the diffID of `job` (a new job starts a new hash: one given up half-way is dropped), then
   * into the pipe `fd`.
   */
  | { id: number; type: 'chunk'; fd: number; job: number; slot: number; offset: number; length: number }
  /**
   * Bytes of a slot into the diffID, then as one raw frame onto the end of the blob `fd` (where the hash of the file
   * has reached: its end), hashed into the blob's digest from memory. Only while no `zstd` writes the blob: what it
   * wrote is hashed from the file first.
   */
  | { id: number; type: 'raw'; fd: number; job: number; slot: number; offset: number; length: number }
  | { id: number; type: 'diff-id'; job: number }
  /** Hashes what the file holds beyond the part hashed so far (of the same `job`); with `end`, all of it. */
  | { id: number; type: 'hash-file'; fd: number; job: number; end: boolean };

export interface FeedReply {
  id: number;
  /** diff-id and hash-file: `sha256:<hex>`. */
  digest?: string;
  /** diff-id: bytes hashed; hash-file: bytes in the file. */
  bytes?: number;
  error?: { message: string; code?: string };
}

let slots: Uint8Array[] = [];
/** The diffID so far: the job it belongs to, and the bytes hashed. */
let input: { job: number; hash: Hash; bytes: number } | undefined;
let readBuffer: Buffer | undefined;
/** The output file's hash so far: the job it belongs to and the bytes read. */
let output: { job: number; hash: Hash; size: number } | undefined;

/** Hashes input bytes into the diffID of `job`. */
function takeInput(job: number, view: Uint8Array): Uint8Array {
  if (input?.job !== job) input = { job, hash: createHash('sha256'), bytes: 0 };
  input.hash.update(view);
  input.bytes += view.length;
  return view;
}

/**
 * Writes `head` then `body` at `position` (the blob's end: the `zstd` processes append to it through descriptors of
 * their own, so this one's offset is not where they stopped); a short write goes on where it stopped.
 */
function writeAll(fd: number, head: Uint8Array, body: Uint8Array, position: number): void {
  let parts = [head, body];
  for (let left = head.length + body.length; left > 0; ) {
    let n = writevSync(fd, parts, position);
    left -= n;
    position += n;
    while (parts.length > 0 && n >= parts[0]!.length) n -= parts.shift()!.length;
    if (n > 0) parts = [parts[0]!.subarray(n), ...parts.slice(1)];
  }
}

/**
 * Hashes what the blob holds beyond the part hashed so far (of the same job). While zstd still writes, this reads
 * what is there now (never past what was written) and goes on later.
 */
function hashFile(fd: number, job: number): { hash: Hash; size: number } {
  if (output?.job !== job) output = { job, hash: createHash('sha256'), size: 0 };
  const buf = (readBuffer ??= Buffer.allocUnsafe(1 << 20));
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, output.size);
    if (n === 0) break;
    output.hash.update(buf.subarray(0, n));
    output.size += n;
  }
  return output;
}

function handle(req: FeedRequest): FeedReply | undefined {
  switch (req.type) {
    case 'slots':
      slots = req.slots;
      return undefined;
    case 'chunk': {
      const view = takeInput(req.job, slots[req.slot]!.subarray(req.offset, req.offset + req.length));
      for (let off = 0; off < view.length; ) off += writeSync(req.fd, view, off, view.length - off);
      return { id: req.id };
    }
    case 'raw': {
      const out = hashFile(req.fd, req.job);
      const frame = rawFrame(slots[req.slot]!.subarray(req.offset, req.offset + req.length));
      // Block by block, each hashed twice (diffID, blob) and written while it is in the cache: written 1 MiB at a
      // time after its hashes, the copy into the page cache took twice the system time (measured, 1 GB).
      for (let i = 0; i < frame.length; i += 2) {
        const head = frame[i]!;
        const body = frame[i + 1]!;
        takeInput(req.job, body);
        out.hash.update(head);
        out.hash.update(body);
        writeAll(req.fd, head, body, out.size);
        out.size += head.length + body.length;
      }
      return { id: req.id };
    }
    case 'diff-id': {
      const done = input?.job === req.job ? input : { hash: createHash('sha256'), bytes: 0 };
      input = undefined;
      return { id: req.id, digest: `sha256:${done.hash.digest('hex')}`, bytes: done.bytes };
    }
    case 'hash-file': {
      hashFile(req.fd, req.job);
      if (!req.end) return { id: req.id };
      const done = output!;
      output = undefined;
      return { id: req.id, digest: `sha256:${done.hash.digest('hex')}`, bytes: done.size };
    }
  }
}

parentPort?.on('message', (req: FeedRequest) => {
  let reply: FeedReply | undefined;
  try {
    reply = handle(req);
    if (!reply) return;
  } catch (e) {
    reply = { id: req.id, error: { message: (e as Error).message, code: (e as NodeJS.ErrnoException).code } };
  }
  parentPort!.postMessage(reply);
});
