// prune's deletes on the distribution API, several at once. One DELETE at a time took 58 s for 1,605 manifests
// (a round trip each). What a kill must never leave is a manifest that lists a deleted one: so a manifest is deleted
// only once every manifest of the same step that lists it is gone (an index before its platform manifests, a
// referrers index before its SBOMs). Within that rule any subset may be gone when prune is killed, as any prefix
// could be when it went one at a time; the next prune takes what is left from the tags, as it did then.
import { runBounded } from '../util/run-bounded.js';

/** Deletes in flight at once on a registry (DELETE /v2/<repo>/manifests/<digest>). */
export const PRUNE_DELETE_CONCURRENCY = 4;

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
