// Worker thread of the gzip pool: compresses blocks it is sent, one at a time.
import { parentPort } from 'node:worker_threads';
import { compressBlock } from './gzip-block.js';

export interface BlockJob {
  id: number;
  block: Uint8Array;
  dictionary?: Uint8Array;
  level: number;
  last: boolean;
}

export interface BlockResult {
  id: number;
  data?: Uint8Array;
  error?: string;
}

parentPort?.on('message', (job: BlockJob) => {
  let reply: BlockResult;
  try {
    const out = compressBlock(job.block, job.dictionary, job.level, job.last);
    // Transfer only a buffer this result owns alone (zlib may hand back a view of a larger one).
    const owned = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength ? out : new Uint8Array(out);
    reply = { id: job.id, data: owned };
  } catch (e) {
    reply = { id: job.id, error: (e as Error).message };
  }
  parentPort!.postMessage(reply, reply.data ? [reply.data.buffer as ArrayBuffer] : []);
});
