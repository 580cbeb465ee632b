// A build's tag becomes the name of its local record, `records/build-<tag>.json`. Tags are case-sensitive (`v1` and
// `V1` are two images in a registry), the file systems of macOS and Windows are not: the two builds wrote one file,
// and one record was lost. Each upper-case letter is written as `~` and its lower case (`V1` → `build-~v1.json`),
// so no two tags' names differ only in case; `~` is no tag character ([\w.-]), so a name reads back as its tag, and
// a tag without upper case keeps the name it always had. Records written under the old names are still found.
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { readBuildSummary } from './record-summary.js';

const BUILD_NAME = /^build-(.+)\.json$/;

/** The record file name of the build tagged `tag`. */
export function buildRecordName(tag: string): string {
  return `build-${tag.replace(/[A-Z]/g, (c) => `~${c.toLowerCase()}`)}.json`;
}

/** The name older versions gave it: differs from `buildRecordName` for a tag with upper case only. */
export function legacyBuildRecordName(tag: string): string {
  return `build-${tag}.json`;
}

/** The tag of a record file name (either form), or undefined for a name that is no build record's. */
export function tagOfRecordName(name: string): string | undefined {
  const m = BUILD_NAME.exec(name);
  if (!m) return undefined;
  return m[1]!.replace(/~([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Whether `name` is an old-style name with upper case (a record the next build of its tag renames). */
export function isLegacyRecordName(name: string): boolean {
  return BUILD_NAME.test(name) && /[A-Z]/.test(name.slice('build-'.length));
}

/**
 * The file of the local record of `tag` in `dir`: the current name, else an old one written before (its exact name
 * listed by the directory: on a case-insensitive file system, a lookup of `build-V1.json` would open `build-v1.json`).
 * The current name when neither is there (where a record of that tag goes).
 */
export async function buildRecordFile(dir: string, tag: string): Promise<string> {
  const current = buildRecordName(tag);
  const legacy = legacyBuildRecordName(tag);
  if (legacy === current) return path.join(dir, current);
  const names = await readdir(dir).catch(() => [] as string[]);
  if (names.includes(current) || !names.includes(legacy)) return path.join(dir, current);
  return path.join(dir, legacy);
}

/**
 * After the record of `tag` is written under its current name: the old-style file of the same tag goes (its build
 * was written again just now), so `ls` lists the build once. Only when that file is a record of this very tag: on a
 * case-insensitive file system, an old store's `build-V1.json` may hold the build `v1` that overwrote it.
 */
export async function dropLegacyRecord(dir: string, tag: string): Promise<void> {
  const legacy = legacyBuildRecordName(tag);
  if (legacy === buildRecordName(tag)) return;
  const names = await readdir(dir).catch(() => [] as string[]);
  if (!names.includes(legacy)) return;
  const file = path.join(dir, legacy);
  const summary = await readBuildSummary(file).catch(() => undefined);
  if (summary?.tags[0] === tag) await rm(file, { force: true });
}
