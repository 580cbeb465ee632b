// The last-build pointer after a no-op build (the same build made again, its record left byte for byte): that build
// is the last one all the same. The pointer names another when a build of another tag came since (v2 pushed, v3
// built locally, then v2 built again), or none when the store has no pointer of its own yet (an older version's
// build-last.json was every store's): it is made the record's copy, as a real build leaves it, and `k8s`, `ecs`,
// `run-local` without a tag and `diff --previous` (state/last-run.ts) take the build just run. A real build's copy is
// made under the same lock.
import { copyRecord } from './records.js';
import { recordHead, sameBuildHead } from './record-head.js';
import { withRecordsLock } from './records-lock.js';

/**
 * Makes `pointer` a copy of the record file `recordFile` unless its head names that build already; true when it was
 * written. Under the records lock: a push noting itself in both (markPushed) keeps them the same bytes.
 */
export async function pointLastBuildAt(stateDir: string, pointer: string, recordFile: string): Promise<boolean> {
  const pointsAt = () => sameBuildHead(recordHead(recordFile), recordHead(pointer));
  if (pointsAt()) return false; // the usual no-op, the last build made again: no lock taken
  return withRecordsLock(stateDir, async () => {
    if (pointsAt()) return false;
    await copyRecord(recordFile, pointer);
    return true;
  });
}

/**
 * Makes `pointer` a copy of a real build's new record `recordFile`. Under the records lock: a push of another build
 * noting itself (markPushed) reads the pointer as its build's and puts its noted copy back; a copy landing between
 * the two left the pointer naming that older build.
 */
export function pointLastBuildTo(stateDir: string, pointer: string, recordFile: string): Promise<void> {
  return withRecordsLock(stateDir, () => copyRecord(recordFile, pointer));
}
