// The gzip layer writer's digests, kept in a gzip worker thread (gzip-worker.ts): the sha256 (the layer's diffID)
// and the CRC-32 (the gzip trailer's) of each stream's blocks, in the order they are sent. The blocks are the shared
// slots the pool compresses from, so the thread that makes the tar copies nothing more and hashes nothing. One pool
// worker holds every stream's state (gzip.ts pins them to it): no thread of its own, no isolate's memory more.
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type DigestRequest =
  /** The first `length` bytes of `input` are the stream's next bytes. */
  | { id: number; stream: number; type: 'block'; input: SharedArrayBuffer; length: number }
  /** The stream is complete: its digest, CRC and byte count. */
  | { id: number; stream: number; type: 'end' }
  /** The stream was abandoned: its state is dropped (no reply). */
  | { id: number; stream: number; type: 'drop' };

export interface DigestReply {
  kind: 'digest';
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

/** One digest request; `undefined` for those that get no reply. */
export function handleDigest(req: DigestRequest): DigestReply | undefined {
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
    return { kind: 'digest', id: req.id };
  }
  streams.delete(req.stream);
  return { kind: 'digest', id: req.id, digest: `sha256:${s.hash.digest('hex')}`, crc: s.crc >>> 0, bytes: s.bytes };
}

/** A digest request that failed: its stream is dropped. */
export function digestFailed(req: DigestRequest, e: Error): DigestReply {
  streams.delete(req.stream);
  return { kind: 'digest', id: req.id, error: e.message };
}
