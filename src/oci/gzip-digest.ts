// The calling side of gzip-digest-worker.ts: one thread per process takes the diffID and CRC-32 of every gzip
// stream that asks for them, block by block, in order; idle, it never keeps the process alive.
import type { Worker } from 'node:worker_threads';
import type { DigestReply, DigestRequest } from './gzip-digest-worker.js';
import { startOciWorker } from './worker-start.js';

type Request = DigestRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface StreamDigest {
  digest: string;
  crc: number;
  bytes: number;
}

class DigestThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (r: DigestReply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  broken = false;

  constructor() {
    this.worker = startOciWorker<DigestReply>('gzip-digest-worker', 'gzip digest worker', {
      onMessage: (r) => {
        const w = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        if (this.waiting.size === 0) this.worker.unref();
        if (r.error !== undefined) w?.reject(new Error(`gzip digest worker: ${r.error}`));
        else w?.resolve(r);
      },
      onFail: (e) => {
        this.broken = true;
        if (thread === this) thread = undefined;
        for (const w of this.waiting.values()) w.reject(e);
        this.waiting.clear();
      },
    });
  }

  call(req: Request): Promise<DigestReply> {
    if (this.broken) return Promise.reject(new Error('gzip digest worker is gone'));
    const id = this.nextId++;
    return new Promise<DigestReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...req, id });
    });
  }

  post(req: Request): void {
    if (!this.broken) this.worker.postMessage({ ...req, id: this.nextId++ });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

let thread: DigestThread | undefined;
let nextStream = 0;

/** One stream's digests: blocks in order, then `end`; `drop` when the stream is abandoned. */
export interface DigestLane {
  /** Hashes the first `length` bytes of `input`; resolves once they were read (the slot may then be reused). */
  block(input: SharedArrayBuffer, length: number): Promise<unknown>;
  end(): Promise<StreamDigest>;
  drop(): void;
}

export function digestLane(): DigestLane {
  const t = (thread ??= new DigestThread());
  const stream = nextStream++;
  return {
    block: (input, length) => t.call({ stream, type: 'block', input, length }),
    end: () => t.call({ stream, type: 'end' }).then((r) => ({ digest: r.digest!, crc: r.crc!, bytes: r.bytes! })),
    drop: () => t.post({ stream, type: 'drop' }),
  };
}

/** Stops the digest thread (closeGzipWorkers). */
export async function closeDigestThread(): Promise<void> {
  const t = thread;
  thread = undefined;
  await t?.terminate();
}
