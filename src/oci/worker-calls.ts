// Requests to one of the image stage's worker threads answered by id, in any order (the zstd feed's thread, and the
// gzip pool worker that keeps the streams' digests): one bookkeeping for both, which had a copy each.
import type { Worker } from 'node:worker_threads';

/** A request as its sender gives it: without the id, which `WorkerCalls` adds. */
export type Unnumbered<Request> = Request extends { id: number } ? Omit<Request, 'id'> : never;

/** The requests sent to one worker thread and not answered yet; the thread is referenced while any is out. */
export class WorkerCalls<Request extends { id: number }, Reply extends { id: number }> {
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  /**
   * `worker` is asked for each time (a pool makes its record before the thread); `busy` says whether the thread has
   * other work out, which keeps it referenced when the last call is answered.
   */
  constructor(
    private readonly worker: () => Worker,
    private readonly busy: () => boolean = () => false,
  ) {}

  /** Calls not answered yet. */
  get pending(): number {
    return this.waiting.size;
  }

  /** A fresh id, for a message that gets no reply. */
  id(): number {
    return this.nextId++;
  }

  /** Posts `req` under a fresh id; resolves with the reply to it (or rejects: `answer`'s error, or `fail`). */
  call(req: Unnumbered<Request>): Promise<Reply> {
    const id = this.id();
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const w = this.worker();
      w.ref();
      w.postMessage({ ...req, id });
    });
  }

  /** Settles the call `reply` answers, with `error` if given; the thread is unreferenced once nothing is out. */
  answer(reply: Reply, error?: Error): void {
    const w = this.waiting.get(reply.id);
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0 && !this.busy()) this.worker().unref();
    if (error) w?.reject(error);
    else w?.resolve(reply);
  }

  /** The thread failed: every call out fails with `e`. */
  fail(e: Error): void {
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
