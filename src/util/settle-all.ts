// Waiting for side-by-side work before failing: a failed build or push must not leave writes or uploads running
// behind it (a later step, or the next build, would race them).

/** Waits for every promise to settle (none left running in the background), then throws the first failure. */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
