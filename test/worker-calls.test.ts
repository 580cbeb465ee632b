// The id bookkeeping of the image stage's worker calls (the zstd feed's, the gzip pool's digests), on a real thread:
// each reply settles its own call whatever the order, an error reply rejects only its call, a thread that fails
// rejects every call still out, and a message without reply takes an id no call has.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerCalls } from '../src/oci/worker-calls.js';

type Req = { id: number; delay: number; fail?: boolean };
type Reply = { id: number; echo: number; error?: string };

/** A thread that answers each request after `delay` ms: slower ones later, so the replies come out of order. */
const ECHO = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (r) => setTimeout(() => parentPort.postMessage({ id: r.id, echo: r.delay, ...(r.fail ? { error: 'no' } : {}) }), r.delay));`;

let worker: Worker | undefined;
afterEach(async () => {
  await worker?.terminate();
});

function start(): WorkerCalls<Req, Reply> {
  const w = new Worker(ECHO, { eval: true });
  worker = w;
  const calls = new WorkerCalls<Req, Reply>(() => w);
  w.on('message', (r: Reply) => calls.answer(r, r.error ? new Error(r.error) : undefined));
  return calls;
}

describe('WorkerCalls', () => {
  it('settles each call with its own reply, out of order; an error reply rejects only its call', async () => {
    const calls = start();
    const order: number[] = [];
    const slow = calls.call({ delay: 60 }).then((r) => (order.push(r.echo), r.echo));
    const failing = calls.call({ delay: 30, fail: true });
    const fast = calls.call({ delay: 1 }).then((r) => (order.push(r.echo), r.echo));
    expect(calls.pending).toBe(3);
    await expect(failing).rejects.toThrow('no');
    expect(await Promise.all([slow, fast])).toEqual([60, 1]);
    expect(order).toEqual([1, 60]);
    expect(calls.pending).toBe(0);
  });

  it('rejects every call still out when the thread fails, and gives ids no call has', async () => {
    const calls = start();
    const first = calls.call({ delay: 10_000 });
    const spare = calls.id();
    const second = calls.call({ delay: 10_000 });
    calls.fail(new Error('thread gone'));
    await expect(first).rejects.toThrow('thread gone');
    await expect(second).rejects.toThrow('thread gone');
    expect(calls.pending).toBe(0);
    // The ids were 0, 1 and 2: the spare one was never a call's, so a reply to it settles nothing.
    expect(spare).toBe(1);
    calls.answer({ id: spare, echo: 0 });
    expect(calls.pending).toBe(0);
  });
});
