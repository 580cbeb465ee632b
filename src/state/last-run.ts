// Whether a store's last build run was a no-op planned on a build in a registry: the same build made again (same
// tags, same content), which keeps the record it found byte for byte, its `previous` too, since that says what the
// build's content was planned on (`inspect` tells its kept layers from those it made by it) and the record is neither
// written nor pushed again. The run itself was planned on that very build, read from a registry (--push, --from), so
// `diff --against REPO --previous` after it compares with the last build there: nothing changed. A few bytes beside
// the last-build pointer say so: `rerun-last.json` (`rerun-last@<key>.json` for another store's
// `build-last@<key>.json`), naming the build's tag and creation time and the reference the run was planned on (the
// repository diff must be asked about: a no-op of a build never pushed there has no baseline there). A no-op on the
// local last build writes none: it proves nothing about a registry. The note counts only while the pointer's head
// names that same build, so a later build, whatever it leaves behind, is never taken for a re-run.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { diskFullError } from '../util/disk-full.js';
import { safeJson } from '../util/safe-json.js';
import { readSmallFile } from '../util/small-file.js';
import { recordHead, sameBuildHead } from './record-head.js';

/** The note of `pointer` (a last-build pointer's path, or its name): beside it, `build-last` read `rerun-last`. */
function rerunNoteOf(pointer: string): string {
  return path.join(path.dirname(pointer), path.basename(pointer).replace(/^build-last/, 'rerun-last'));
}

/** A re-run note: its file and text (the fast path's stamp carries it: cli/fast-noop/stamp.ts). */
export interface RerunNote {
  file: string;
  text: string;
  plannedOn: string;
}

/** The note saying the last run into `pointer`'s store built `build` again unchanged, planned on `plannedOn` (the reference of the registry's record it read). */
export function rerunNote(pointer: string, build: { tags: readonly string[]; createdAt: string }, plannedOn: string): RerunNote {
  return { file: rerunNoteOf(pointer), text: JSON.stringify({ tag: build.tags[0], createdAt: build.createdAt, plannedOn }), plannedOn };
}

/** Writes `note` beside `pointer`; a note saying so already is left. */
export async function noteRerun(pointer: string, note: RerunNote): Promise<void> {
  if ((await rerunPlannedOn(pointer)) === note.plannedOn) return;
  await writeFileAtomic(note.file, note.text, {
    writeError: (e) => diskFullError(e, 'state.disk-full', path.dirname(pointer), path.basename(note.file)),
  });
}

/** A build that changed something: its pointer is a new build, the note of an earlier one goes. */
export async function dropRerun(pointer: string): Promise<void> {
  await rm(rerunNoteOf(pointer), { force: true });
}

/**
 * The reference the last run into `pointer`'s store was planned on when it built the build the pointer holds again,
 * unchanged, from a registry's record; undefined when it was no such run.
 */
export async function rerunPlannedOn(pointer: string): Promise<string | undefined> {
  const read = await readSmallFile(rerunNoteOf(pointer), 4096).catch(() => undefined);
  if (!read || !('bytes' in read)) return undefined;
  const note = safeJson(read.bytes.toString('utf8')) as { tag?: unknown; createdAt?: unknown; plannedOn?: unknown } | null | undefined;
  if (typeof note?.tag !== 'string' || typeof note.createdAt !== 'string' || typeof note.plannedOn !== 'string') return undefined;
  return sameBuildHead({ tag: note.tag, createdMs: Date.parse(note.createdAt) }, recordHead(pointer)) ? note.plannedOn : undefined;
}
