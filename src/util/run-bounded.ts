// Side-by-side work on a registry (deletes, signatures) that must stop as a loop would: once one item failed,
// nothing more starts, and nothing is left running behind the failure.
import pLimit from 'p-limit';

/**
 * `work` of each item, at most `concurrency` at once, results in the items' order. After a failure nothing more
 * starts (as a loop would stop), what runs settles, then the failure is thrown.
 */
export async function runBounded<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const limit = pLimit(Math.max(1, concurrency));
  let failed = false;
  const notStarted = new Error('not started: an earlier one failed');
  const results = await Promise.allSettled(items.map((item) => limit(async () => {
    if (failed) throw notStarted;
    try {
      return await work(item);
    } catch (e) {
      failed = true;
      throw e;
    }
  })));
  // The first failure that ran: those never started come after every one that did (the queue keeps the order).
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected' && r.reason !== notStarted);
  if (failure) throw failure.reason;
  return results.map((r) => (r as PromiseFulfilledResult<R>).value);
}
