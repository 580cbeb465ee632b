// Waiting for side-by-side work before failing: a failed build or push must not leave writes or uploads running
// behind it (a later step, or the next build, would race them).

/** Waits for every promise to settle (none left running in the background), then throws the first failure listed. */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * `work` of each item side by side, as settleAll waits for it, but the first failure aborts the signal every item
 * was given: what can stop (a request between its attempts, a queued item not yet started) stops, rather than each
 * retrying to its end before the failure is thrown. Still nothing is left running once this settles; what is thrown
 * is that first failure in time (the others are mostly its cancellations), not the first listed.
 */
export async function settleAllCancelling<T, R>(items: readonly T[], work: (item: T, signal: AbortSignal) => Promise<R>): Promise<R[]> {
  const controller = new AbortController();
  let first: { reason: unknown } | undefined;
  const running = items.map(async (item) => {
    try {
      return await work(item, controller.signal);
    } catch (e) {
      if (!first) {
        first = { reason: e };
        controller.abort(new Error('cancelled: another request of the same step failed'));
      }
      throw e;
    }
  });
  try {
    return await settleAll(running);
  } catch (listed) {
    throw first ? first.reason : listed;
  }
}
