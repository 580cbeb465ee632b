// The last-build pointer and the re-run note beside it (last-run.ts), set as one decision under the records lock,
// under which a push notes itself in the pointer (markPushed: is the pointer this build's? then it gets the noted
// copy). Outside it, a build's copy landing between the push's read and its write left the pointer naming the older
// build, a build's record of a tag landing there was replaced by the other build's of that tag (with its pushes),
// and a build's drop of the note after a no-op had made its build the last one again took the no-op's note with it
// (`diff --previous` then compared with the build before the last).
//
// After a no-op build (the same build made again, its record left byte for byte) that build is the last one all the
// same. The pointer names another when a build of another tag came since (v2 pushed, v3 built locally, then v2 built
// again), or none when the store has no pointer of its own yet (an older version's build-last.json was every
// store's): it is made the record's copy, as a real build leaves it, and `k8s`, `ecs`, `run-local` without a tag and
// `diff --previous` (state/last-run.ts) take the build just run.
import path from 'node:path';
import { makeFolders } from '../util/make-folders.js';
import { copyRecord, writeRecord } from './records.js';
import { dropRerun, noteRerun, rerunPlannedOn, type RerunNote } from './last-run.js';
import { recordHead, sameBuildHead } from './record-head.js';
import { withRecordsLock } from './records-lock.js';

/**
 * What a build leaves beside the pointer: a no-op planned on a registry's build its note, a build that changed
 * something none (`drop`), a no-op on the local build the note as it is (`keep`: it proves nothing about a registry).
 */
export type RerunChange = RerunNote | 'drop' | 'keep';

/** A build's record (`record`) written to its tag's file, the pointer made its copy and the note set, under the lock. */
export async function recordLastBuild(stateDir: string, build: { file: string; record: unknown }, pointer: string, rerun: RerunChange): Promise<void> {
  // The lock's place too (records/ is in the state folder): a merge host's first record makes them.
  await makeFolders(path.dirname(build.file));
  return withRecordsLock(stateDir, async () => {
    await writeRecord(build.file, build.record);
    await copyRecord(build.file, pointer);
    await leaveNote(pointer, rerun);
  });
}

/**
 * After a no-op: makes `pointer` a copy of the record file `recordFile` unless its head names that build already, and
 * sets the note; true when the pointer was written.
 */
export async function pointLastBuildAt(stateDir: string, pointer: string, recordFile: string, rerun: RerunNote | 'keep'): Promise<boolean> {
  const pointsAt = () => sameBuildHead(recordHead(recordFile), recordHead(pointer));
  const noted = async () => rerun === 'keep' || (await rerunPlannedOn(pointer)) === rerun.plannedOn;
  if (pointsAt() && (await noted())) return false; // the usual no-op, the last build made again: no lock taken
  return withRecordsLock(stateDir, async () => {
    const written = !pointsAt();
    if (written) await copyRecord(recordFile, pointer);
    await leaveNote(pointer, rerun);
    return written;
  });
}

/** Best effort, as a no-op writes nothing else: unsaid, `diff --previous` compares with what the content was planned on. */
async function leaveNote(pointer: string, rerun: RerunChange): Promise<void> {
  if (rerun === 'drop') await dropRerun(pointer).catch(() => undefined);
  else if (rerun !== 'keep') await noteRerun(pointer, rerun).catch(() => undefined);
}
