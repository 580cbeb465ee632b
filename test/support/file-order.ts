// The order the test files start in: longest first, by the durations of a full run kept in file-durations.json
// (scripts/test-durations.mjs writes it). A CI checkout has no vitest results cache, so vitest's own order there is
// by file size, which started some of the longest files (kill and prune runs, short files) in the last minutes,
// with the other worker idle beside them. Files the list does not know yet (new ones) start before all others.
// The files of the project "shared" (vitest.config.ts) come after all isolated ones, longest first among them too:
// vitest keeps a worker for the next file only when that file is also a shared one, so one isolated file between
// two shared ones would cost a new worker and the modules it loads. They are short: the run still ends on short ones.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Seconds per test file (path relative to the repository), from file-durations.json. */
export function knownDurations(file = path.join(root, 'test/support/file-durations.json')): Map<string, number> {
  const table = JSON.parse(readFileSync(file, 'utf8')) as { seconds: Record<string, number> };
  return new Map(Object.entries(table.seconds));
}

/** `files` in the order they should start; `pathOf` gives a file's path relative to the repository. */
export function longestFirst<T>(files: T[], pathOf: (f: T) => string, seconds: Map<string, number>): T[] {
  const keyed = files.map((f) => ({ f, p: pathOf(f), s: seconds.get(pathOf(f)) ?? Number.POSITIVE_INFINITY }));
  return keyed.sort((a, b) => b.s - a.s || (a.p < b.p ? -1 : a.p > b.p ? 1 : 0)).map((k) => k.f);
}

/** `ordered` with the files `isShared` says run in a shared worker moved after all others, each part in its order. */
export function sharedLast<T>(ordered: T[], isShared: (f: T) => boolean): T[] {
  return [...ordered.filter((f) => !isShared(f)), ...ordered.filter(isShared)];
}

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = longestFirst(files, (f) => path.relative(root, f.moduleId).split(path.sep).join('/'), knownDurations());
    return sharedLast(ordered, (f) => f.project.config.isolate === false);
  }
}
