// settleAll and settleAllCancelling (src/util/settle-all.ts): nothing left running once they settle; which failure
// each throws (settleAll: the first listed; settleAllCancelling: the first to fail, the others cancelled by it).
import { describe, expect, it } from 'vitest';
import { settleAll, settleAllCancelling } from '../src/util/settle-all.js';

/** A promise and its settling functions, settled when the test says. */
function later<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('settleAll', () => {
  it('gives the values in the order listed', async () => {
    const a = later<number>();
    const b = later<number>();
    const all = settleAll([a.promise, b.promise]);
    b.resolve(2);
    a.resolve(1);
    expect(await all).toEqual([1, 2]);
  });

  it('throws only once every promise settled, the first failure listed (not the first in time)', async () => {
    const a = later<number>();
    const b = later<number>();
    const c = later<number>();
    let settled = false;
    const all = settleAll([a.promise, b.promise, c.promise]).finally(() => (settled = true));
    c.reject(new Error('c failed first'));
    b.reject(new Error('b failed second'));
    await tick();
    expect(settled).toBe(false);
    a.resolve(1);
    await expect(all).rejects.toThrow('b failed second');
  });
});

describe('settleAllCancelling', () => {
  it('gives the values in the order of the items', async () => {
    expect(await settleAllCancelling([3, 1, 2], async (n) => (await tick(), n * 10))).toEqual([30, 10, 20]);
  });

  it('the first failure in time aborts every item\'s signal, and is thrown once every item settled', async () => {
    const gates = [later<void>(), later<void>(), later<void>()];
    const signals: AbortSignal[] = [];
    let settled = false;
    const all = settleAllCancelling([0, 1, 2], async (i, signal) => {
      signals.push(signal);
      await gates[i]!.promise;
      if (i === 0) return 'done';
      throw new Error(`item ${i} failed`);
    }).finally(() => (settled = true));
    gates[2]!.resolve();
    await tick();
    expect(signals.map((s) => s.aborted)).toEqual([true, true, true]);
    expect(String((signals[0]!.reason as Error).message)).toBe('cancelled: another request of the same step failed');
    gates[1]!.resolve();
    await tick();
    expect(settled).toBe(false);
    gates[0]!.resolve();
    await expect(all).rejects.toThrow('item 2 failed');
  });

  it('aborts nothing when every item succeeds', async () => {
    const signals: AbortSignal[] = [];
    await settleAllCancelling([1, 2], async (_n, signal) => void signals.push(signal));
    expect(signals.map((s) => s.aborted)).toEqual([false, false]);
  });
});
