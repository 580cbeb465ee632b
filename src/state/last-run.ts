// Whether a store's last build run was a no-op: the same build made again (same tags, same content), which keeps
// the record it found byte for byte, its `previous` too, since that says what the build's content was planned on
// (`inspect` tells its kept layers from those it made by it) and the record is neither written nor pushed again. The
// run itself was planned on that very build, so `diff --previous` after it compares with the last build: nothing
// changed. A few bytes beside the last-build pointer say so: `rerun-last.json` (`rerun-last@<key>.json` for another
// store's `build-last@<key>.json`), naming the build's tag and creation time; it counts only while the pointer's head
// names that same build, so a later build, whatever it leaves behind, is never taken for a re-run.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { diskFullError } from '../util/disk-full.js';
import { readSmallFile } from '../util/small-file.js';
import { recordHead, sameBuildHead } from './record-head.js';

/** The note of `pointer` (a last-build pointer's path). */
function noteOf(pointer: string): string {
  return path.join(path.dirname(pointer), path.basename(pointer).replace(/^build-last/, 'rerun-last'));
}

/** Notes that the last run into `pointer`'s store built `build` again unchanged. */
export async function noteRerun(pointer: string, build: { tags: readonly string[]; createdAt: string }): Promise<void> {
  await writeFileAtomic(noteOf(pointer), JSON.stringify({ tag: build.tags[0], createdAt: build.createdAt }), {
    writeError: (e) => diskFullError(e, 'state.disk-full', path.dirname(pointer), path.basename(noteOf(pointer))),
  });
}

/** A build that changed something: its pointer is a new build, the note of an earlier one goes. */
export async function dropRerun(pointer: string): Promise<void> {
  await rm(noteOf(pointer), { force: true });
}

/** Whether the last run into `pointer`'s store built the build the pointer holds again, unchanged. */
export async function lastRunWasRerun(pointer: string): Promise<boolean> {
  const read = await readSmallFile(noteOf(pointer), 4096).catch(() => undefined);
  if (!read || !('bytes' in read)) return false;
  let note: { tag?: unknown; createdAt?: unknown } | null;
  try {
    note = JSON.parse(read.bytes.toString('utf8')) as typeof note;
  } catch {
    return false;
  }
  if (typeof note?.tag !== 'string' || typeof note.createdAt !== 'string') return false;
  return sameBuildHead({ tag: note.tag, createdMs: Date.parse(note.createdAt) }, recordHead(pointer));
}
