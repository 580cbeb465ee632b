// Worker thread of the zstd layer writer: takes the layer's tar in shared slots, hashes it (the diffID) and writes it
// into the pipe zstd reads, with plain blocking writes; at the end hashes the blob zstd wrote. The thread that makes
// the tar only copies chunks into slots: hashing and the pipe's system calls run here, on another core.
import { createHash, type Hash } from 'node:crypto';
import { readSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

export type FeedRequest =
  /** Once, before any chunk: the feed's shared slots (chunks then name theirs by index: no buffer to clone per chunk). */
  | { id: number; type: 'slots'; slots: SharedArrayBuffer[] }
  /** The slot's bytes into the diffID of `job` (a new job starts a new hash: one given up half-way is dropped). */
  | { id: number; type: 'chunk'; fd: number; job: number; slot: number; length: number }
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

let slots: SharedArrayBuffer[] = [];
/** The diffID so far: the job it belongs to, and the bytes hashed. */
let input: { job: number; hash: Hash; bytes: number } | undefined;
let readBuffer: Buffer | undefined;
/** The output file's hash so far: the job it belongs to and the bytes read. */
let output: { job: number; hash: Hash; size: number } | undefined;

function handle(req: FeedRequest): FeedReply | undefined {
  switch (req.type) {
    case 'slots':
      slots = req.slots;
      return undefined;
    case 'chunk': {
      const view = new Uint8Array(slots[req.slot]!, 0, req.length);
      if (input?.job !== req.job) input = { job: req.job, hash: createHash('sha256'), bytes: 0 };
      input.hash.update(view);
      input.bytes += req.length;
      for (let off = 0; off < view.length; ) off += writeSync(req.fd, view, off, view.length - off);
      return { id: req.id };
    }
    case 'diff-id': {
      const done = input?.job === req.job ? input : { hash: createHash('sha256'), bytes: 0 };
      input = undefined;
      return { id: req.id, digest: `sha256:${done.hash.digest('hex')}`, bytes: done.bytes };
    }
    case 'hash-file': {
      // While zstd still writes, this reads what is there now (never past what was written) and goes on later.
      if (output?.job !== req.job) output = { job: req.job, hash: createHash('sha256'), size: 0 };
      const buf = (readBuffer ??= Buffer.allocUnsafe(1 << 20));
      for (;;) {
        const n = readSync(req.fd, buf, 0, buf.length, output.size);
        if (n === 0) break;
        output.hash.update(buf.subarray(0, n));
        output.size += n;
      }
      if (!req.end) return { id: req.id };
      const done = output;
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
