// Worker thread of the gzip pool: compresses blocks it is sent, one at a time. A block comes in a shared input
// slot and its result goes back in the job's shared output slot, both reused by the pool job after job: no buffer
// is made or transferred per block, so dead 1 MiB blocks never pile up in a worker's heap until its next GC.
import { parentPort } from 'node:worker_threads';
import { collectYoungGarbage } from '../util/young-garbage.js';
import { compressBlockInto } from './gzip-block.js';
import { digestFailed, handleDigest, type DigestRequest } from './gzip-digest-state.js';

export interface BlockJob {
  id: number;
  /** The block is the first `length` bytes of `input`. */
  input: SharedArrayBuffer;
  length: number;
  /** Where the result goes when it fits. */
  output: SharedArrayBuffer;
  dictionary?: Uint8Array;
  level: number;
  last: boolean;
}

export interface BlockResult {
  kind?: undefined;
  id: number;
  /** Bytes of the result at the start of the job's output slot. */
  length?: number;
  /** The result, when it did not fit the output slot. */
  data?: Uint8Array;
  error?: string;
}

parentPort?.on('message', (msg: BlockJob | DigestRequest) => {
  // A digest request (one pool worker also keeps the streams' diffIDs and CRCs, gzip-digest-state.ts).
  if ('type' in msg) {
    let digested;
    try {
      digested = handleDigest(msg);
    } catch (e) {
      digested = digestFailed(msg, e as Error);
    }
    if (digested) parentPort!.postMessage(digested);
    return;
  }
  const job = msg;
  let reply: BlockResult;
  try {
    const out = compressBlockInto(new Uint8Array(job.input, 0, job.length), job.dictionary, job.level, job.last, new Uint8Array(job.output));
    if (typeof out === 'number') reply = { id: job.id, length: out };
    else {
      // Transfer only a buffer this result owns alone (zlib may hand back a view of a larger one).
      const owned = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
      reply = { id: job.id, data: owned };
    }
  } catch (e) {
    reply = { id: job.id, error: (e as Error).message };
  }
  parentPort!.postMessage(reply, reply.data ? [reply.data.buffer as ArrayBuffer] : []);
  // zlib made about a block's worth of output buffers, dead now: freed at once, not once 64 MiB of them piled up.
  collectYoungGarbage();
});
