// prune's deletes on the distribution API, several at once. One DELETE at a time took 58 s for 1,605 manifests
// (a round trip each). What a kill must never leave is a manifest that lists a deleted one: so a manifest is deleted
// only once every manifest of the same step that lists it is gone (an index before its platform manifests, a
// referrers index before its SBOMs). Within that rule any subset may be gone when prune is killed, as any prefix
// could be when it went one at a time; the next prune takes what is left from the tags, as it did then.
import pLimit from 'p-limit';

/** Deletes in flight at once on a registry (DELETE /v2/<repo>/manifests/<digest>). */
export const PRUNE_DELETE_CONCURRENCY = 4;

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

/**
 * Deletes `digests` with `remove`, at most `limit` at once, in waves: a wave holds what no digest left to delete
 * lists (`listed`: what an index among them lists). Every delete of a wave settles before the next wave starts;
 * after a failure no delete starts, those running settle, and the failure is thrown (nothing left running behind it).
 */
export async function deleteInWaves(
  digests: readonly string[],
  listed: ReadonlyMap<string, readonly string[]>,
  concurrency: number,
  remove: (digest: string) => Promise<void>,
): Promise<void> {
  let left = [...new Set(digests)];
  while (left.length > 0) {
    const pending = new Set(left);
    const listedByPending = new Set(left.flatMap((d) => (listed.get(d) ?? []).filter((c) => c !== d && pending.has(c))));
    let wave = left.filter((d) => !listedByPending.has(d));
    // Content addressing rules out a cycle (a manifest cannot list itself through others); should one appear anyway,
    // what is left goes one at a time, in the caller's order, as before.
    if (wave.length === 0) wave = left.slice(0, 1);
    await runBounded(wave, concurrency, remove);
    const done = new Set(wave);
    left = left.filter((d) => !done.has(d));
  }
}
