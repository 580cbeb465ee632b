// Parallel, deterministic gzip: the input is cut into fixed-size blocks, each deflated on its own (with
// the previous block's last 32 KiB as dictionary, as pigz does) and byte-aligned, so the output depends
// only on the input and the settings, never on the number of threads or their timing.
import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import { compressBlock, DICTIONARY_SIZE, storedSize } from './gzip-block.js';
import type { BlockJob, BlockResult } from './gzip-worker.js';
import type { DigestReply, DigestRequest } from './gzip-digest-state.js';
import { WorkerCalls, type Unnumbered } from './worker-calls.js';
import { startOciWorker } from './worker-start.js';

export const GZIP_MEDIA_SUFFIX = '+gzip';

export { DEFAULT_BLOCK_SIZE, DEFAULT_GZIP_LEVEL, gzipCompressorId, type GzipOptions } from './compressor-id.js';
import { DEFAULT_BLOCK_SIZE, DEFAULT_GZIP_LEVEL, type GzipOptions } from './compressor-id.js';

// Fixed header: no mtime, no name, XFL 0, OS 255 (unknown), so the machine that built it never shows.
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]);

interface PoolWorker {
  worker: Worker;
  busy?: Task;
  /** Digest requests sent to this worker and not answered yet. */
  digests: WorkerCalls<DigestRequest, DigestReply>;
}

/** One stream's digests (sha256 and CRC-32 of its input), taken in a pool worker: blocks in order, then `end`. */
interface DigestLane {
  /** Hashes the first `length` bytes of `input`; resolves once they were read (the slot may then be reused). */
  block(input: SharedArrayBuffer, length: number): Promise<unknown>;
  end(): Promise<{ digest: string; crc: number; bytes: number }>;
  /** The stream was abandoned: its state in the worker is dropped. */
  drop(): void;
}

interface Task {
  job: BlockJob;
  slot: Slot;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

/** A block's input and output buffers, shared with the workers and reused from block to block. */
export interface Slot {
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
}

/** A few workers shared by every gzip stream of the process; idle workers never keep the process alive. */
class BlockPool {
  private readonly workers: PoolWorker[] = [];
  private readonly queue: Task[] = [];
  /** Slots no block uses now. As many exist as blocks were ever in flight at once (2 × threads per stream). */
  private readonly free: Slot[] = [];
  private nextId = 0;
  private nextStream = 0;

  constructor(private readonly size: number) {}

  /**
   * A stream's digests, kept by the pool's first worker (its state lives there, so every block of the stream goes
   * to that one worker, in order, between its compress jobs): no thread, and no isolate's memory, of their own.
   */
  digestLane(): DigestLane {
    const w = this.workers[0] ?? this.spawn();
    const stream = this.nextStream++;
    const call = (req: Unnumbered<DigestRequest>): Promise<DigestReply> => {
      if (!this.workers.includes(w)) return Promise.reject(new Error('gzip worker is gone'));
      return w.digests.call(req);
    };
    return {
      block: (input, length) => call({ stream, type: 'block', input, length }),
      end: () => call({ stream, type: 'end' }).then((r) => ({ digest: r.digest!, crc: r.crc!, bytes: r.bytes! })),
      drop: () => {
        if (this.workers.includes(w)) w.worker.postMessage({ stream, type: 'drop', id: w.digests.id() } satisfies DigestRequest);
      },
    };
  }

  /** A slot whose input holds `length` bytes; give it back with `compress` (which releases it when done). */
  acquire(length: number): Slot {
    const i = this.free.findIndex((s) => s.input.byteLength >= length);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    const capacity = Math.max(length, DEFAULT_BLOCK_SIZE);
    // Room for the stored form (what an incompressible block becomes); deflate's output rarely exceeds it, and then
    // comes back as its own buffer.
    return { input: new SharedArrayBuffer(capacity), output: new SharedArrayBuffer(storedSize(capacity)) };
  }

  /**
   * Compresses the first `length` bytes of the slot's input; the slot is free again once this settles and `alsoReading`
   * (another reader of the same input: the digests, in a pool worker) settled too.
   */
  compress(slot: Slot, length: number, dictionary: Uint8Array | undefined, level: number, last: boolean, alsoReading?: Promise<unknown>): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const release = () => {
        if (!alsoReading) this.free.push(slot);
        else void alsoReading.finally(() => this.free.push(slot)).catch(() => {});
      };
      this.queue.push({
        job: { id: this.nextId++, input: slot.input, length, output: slot.output, dictionary, level, last },
        slot,
        resolve: (b) => (release(), resolve(b)),
        reject: (e) => (release(), reject(e)),
      });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let w = this.workers.find((x) => !x.busy);
      if (!w && this.workers.length < this.size) w = this.spawn();
      if (!w) return;
      const task = this.queue.shift()!;
      w.busy = task;
      w.worker.ref();
      w.worker.postMessage(task.job);
    }
  }

  private spawn(): PoolWorker {
    const w = {} as PoolWorker;
    // A compress job out keeps the thread referenced when the last digest call is answered.
    w.digests = new WorkerCalls<DigestRequest, DigestReply>(() => w.worker, () => w.busy !== undefined);
    w.worker = startOciWorker<BlockResult | DigestReply>('gzip-worker', 'gzip worker', {
      onMessage: (r) => {
        if (r.kind === 'digest') return w.digests.answer(r, r.error !== undefined ? new Error(`gzip worker: ${r.error}`) : undefined);
        const task = w.busy;
        w.busy = undefined;
        if (w.digests.pending === 0) w.worker.unref();
        if (task) {
          if (r.error !== undefined) task.reject(new Error(`gzip worker: ${r.error}`));
          else if (r.data) task.resolve(Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength));
          // Copied out of the shared slot, which the next block reuses.
          else if (r.length !== undefined) task.resolve(Buffer.from(new Uint8Array(task.slot.output, 0, r.length)));
          else task.reject(new Error('gzip worker: no output'));
        }
        this.pump();
      },
      onFail: (e) => {
        // A worker closed by `close` was taken out first: its exit is no failure.
        if (!this.workers.includes(w)) return;
        this.workers.splice(this.workers.indexOf(w), 1);
        w.busy?.reject(e);
        w.busy = undefined;
        w.digests.fail(e);
        this.pump();
      },
    });
    this.workers.push(w);
    return w;
  }

  async close(): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(all.map((w) => w.worker.terminate()));
  }
}

const pools = new Map<number, BlockPool>();

function poolOf(threads: number): BlockPool {
  let p = pools.get(threads);
  if (!p) pools.set(threads, (p = new BlockPool(threads)));
  return p;
}

/** Stops the shared workers (tests, or a library caller that wants a clean exit right away). */
export async function closeGzipWorkers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

/**
 * A gzip Transform. Memory is bounded: at most 2 × threads blocks are in flight; input beyond that waits.
 * The output is one gzip member that gunzip, zcat, Go's and every registry's readers decode.
 */
export function createParallelGzip(options: GzipOptions = {}): Transform {
  return gzipStream(options);
}

/** A gzip Transform that also takes the sha256 of its input (a layer's diffID): see `createDigestingGzip`. */
export interface DigestingGzip extends Transform {
  /** Once the stream has flushed: the sha256 (`sha256:<hex>`) and byte count of all its input. */
  readonly input: { digest: string; bytes: number } | undefined;
}

/**
 * `createParallelGzip` (the same bytes) that also hashes its input, for a layer's diffID. With worker threads the
 * sha256 and the trailer's CRC-32 are taken in the pool's first worker from the blocks' shared slots: the calling
 * thread (the one making the tar) neither hashes nor checksums. `onBytes` is told the size of each input chunk.
 */
export function createDigestingGzip(options: GzipOptions = {}, onBytes?: (n: number) => void): DigestingGzip {
  return gzipStream(options, { onBytes }) as DigestingGzip;
}

function gzipStream(options: GzipOptions, digesting?: { onBytes?: (n: number) => void }): Transform {
  const level = options.level ?? DEFAULT_GZIP_LEVEL;
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  const threads = options.threads ?? defaultThreads();
  const pool = threads > 0 ? poolOf(threads) : undefined;
  const maxInFlight = Math.max(1, threads * 2);
  const onBytes = digesting?.onBytes;
  // With workers the digests are taken off this thread, from the slots; without, here as the input comes.
  const lane = digesting && pool ? pool.digestLane() : undefined;
  const inlineHash = digesting && !lane ? createHash('sha256') : undefined;
  let input: { digest: string; bytes: number } | undefined;

  let crc = 0;
  let total = 0;
  /**
   * The block being filled: each input chunk is copied into it at once (into a shared slot the pool reuses, with
   * workers), so no chunk is held after its write returned. The caller may reuse a chunk once its write's callback
   * ran (the layer writer's chunks: buildLayer), and holding up to a block of chunks made a fresh 1 MiB buffer per
   * MiB of tar to be freed later, which left the malloc heap holding freed chunks.
   */
  let current: { slot?: Slot; block: Uint8Array; length: number } | undefined;
  let dictionary: Uint8Array | undefined;
  const inFlight: Promise<Buffer>[] = [];

  const openBlock = () => {
    const slot = pool?.acquire(blockSize);
    return { slot, block: slot ? new Uint8Array(slot.input, 0, blockSize) : new Uint8Array(blockSize), length: 0 };
  };

  /** Compresses the block filled so far (`current`) as one block. */
  const compress = (last: boolean): Promise<Buffer> => {
    const p = compressOne(current ?? openBlock(), last);
    current = undefined;
    // Awaited in order later; a failure behind an earlier failure must not crash the process meanwhile.
    p.catch(() => {});
    return p;
  };
  const compressOne = ({ slot, block: whole, length: len }: { slot?: Slot; block: Uint8Array; length: number }, last: boolean): Promise<Buffer> => {
    const block = whole.subarray(0, len);
    const dict = dictionary;
    // A copy: the slot is reused once this block is done, while the next block still needs these bytes.
    dictionary = block.length >= DICTIONARY_SIZE ? block.slice(block.length - DICTIONARY_SIZE) : undefined;
    if (!pool || !slot) {
      try {
        return Promise.resolve(compressBlock(block, dict, level, last));
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    if (!lane) return pool.compress(slot, len, dict, level, last);
    // The digests read the same slot (in the pool worker that keeps them, in order); the block is done when both are.
    const digested = lane.block(slot.input, len);
    digested.catch(() => {});
    return Promise.all([pool.compress(slot, len, dict, level, last, digested), digested]).then(([out]) => out);
  };

  let headerSent = false;
  const sendHeader = (stream: Transform) => {
    if (!headerSent) stream.push(GZIP_HEADER);
    headerSent = true;
  };

  const stream = new Transform({
    async transform(this: Transform, chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        sendHeader(this);
        if (!lane) crc = crc32(chunk, crc);
        inlineHash?.update(chunk);
        onBytes?.(chunk.length);
        total += chunk.length;
        for (let at = 0; at < chunk.length; ) {
          // A full block is sent only once more input follows it: the last block must carry BFINAL.
          if (current?.length === blockSize) {
            inFlight.push(compress(false));
            while (inFlight.length >= maxInFlight) this.push(await inFlight.shift()!);
          }
          current ??= openBlock();
          const n = Math.min(blockSize - current.length, chunk.length - at);
          current.block.set(chunk.subarray(at, at + n), current.length);
          current.length += n;
          at += n;
        }
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    async flush(this: Transform, cb: TransformCallback) {
      try {
        sendHeader(this);
        inFlight.push(compress(true));
        while (inFlight.length > 0) this.push(await inFlight.shift()!);
        if (lane) {
          const d = await lane.end();
          if (d.bytes !== total) throw new Error(`gzip digest worker hashed ${d.bytes} bytes of ${total}`);
          crc = d.crc;
          input = { digest: d.digest, bytes: total };
        } else if (inlineHash) input = { digest: `sha256:${inlineHash.digest('hex')}`, bytes: total };
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(crc >>> 0, 0);
        trailer.writeUInt32LE(total % 2 ** 32, 4);
        this.push(trailer);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    destroy(err, cb) {
      if (!input) lane?.drop();
      cb(err);
    },
  });
  if (digesting) Object.defineProperty(stream, 'input', { get: () => input });
  return stream;
}

function defaultThreads(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

