// Worker thread of the gzip layer writer's digests: the sha256 (the layer's diffID) and the CRC-32 (the gzip
// trailer's) of each stream's blocks, in the order they are sent. The blocks are the shared slots the gzip pool
// compresses from, so the thread that makes the tar copies nothing more and hashes nothing.
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { parentPort } from 'node:worker_threads';

export type DigestRequest =
  /** The first `length` bytes of `input` are the stream's next bytes. */
  | { id: number; stream: number; type: 'block'; input: SharedArrayBuffer; length: number }
  /** The stream is complete: its digest, CRC and byte count. */
  | { id: number; stream: number; type: 'end' }
  /** The stream was abandoned: its state is dropped (no reply). */
  | { id: number; stream: number; type: 'drop' };

export interface DigestReply {
  id: number;
  /** end: `sha256:<hex>` of every byte of the stream. */
  digest?: string;
  /** end: CRC-32 of every byte (unsigned). */
  crc?: number;
  /** end: the stream's byte count. */
  bytes?: number;
  error?: string;
}

const streams = new Map<number, { hash: Hash; crc: number; bytes: number }>();

function handle(req: DigestRequest): DigestReply | undefined {
  if (req.type === 'drop') {
    streams.delete(req.stream);
    return undefined;
  }
  let s = streams.get(req.stream);
  if (!s) streams.set(req.stream, (s = { hash: createHash('sha256'), crc: 0, bytes: 0 }));
  if (req.type === 'block') {
    const view = new Uint8Array(req.input, 0, req.length);
    s.hash.update(view);
    s.crc = crc32(view, s.crc);
    s.bytes += req.length;
    return { id: req.id };
  }
  streams.delete(req.stream);
  return { id: req.id, digest: `sha256:${s.hash.digest('hex')}`, crc: s.crc >>> 0, bytes: s.bytes };
}

parentPort?.on('message', (req: DigestRequest) => {
  let reply: DigestReply | undefined;
  try {
    reply = handle(req);
  } catch (e) {
    streams.delete(req.stream);
    reply = { id: req.id, error: (e as Error).message };
  }
  if (reply) parentPort!.postMessage(reply);
});
