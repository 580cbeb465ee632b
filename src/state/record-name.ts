// A build's tag becomes the name of its local record, `records/build-<tag>.json`. Tags are case-sensitive (`v1` and
// `V1` are two images in a registry), the file systems of macOS and Windows are not: the two builds wrote one file,
// and one record was lost. Each upper-case letter is written as `~` and its lower case (`V1` → `build-~v1.json`),
// so no two tags' names differ only in case; `~` is no tag character ([\w.-]), so a name reads back as its tag, and
// a tag without upper case keeps the name it always had. Records written under the old names are still found.
//
// Configs beside each other share the records folder but may name stores of their own (`store:`): one file per tag
// made one config's build of `v9` overwrite the other's. A store other than the default has names of its own,
// `build-<tag>@<key>.json` (the key of its last-build pointer, last-build.ts); the default store keeps `build-<tag>.json`.
// The rule for a file written before (`build-<tag>.json` of any store): it is the record of the store its `store`
// field names, and one naming no store (older versions) is any store's, as it was then.
import { readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { storeKey, storeOfRecord } from './last-build.js';
import { recordHead } from './record-head.js';
import { readBuildSummary, type BuildRecordSummary } from './record-summary.js';

/** A record file's name: its tag (as written) and, for a store other than the default, that store's key. */
const BUILD_NAME = /^build-(.+?)(?:@([0-9a-f]{12}))?\.json$/;

/** Where a store's builds are recorded: the state folder and the store (config.stateDir, config.store). */
export interface RecordsOf {
  stateDir: string;
  store: string;
}

/** The record file name of the build tagged `tag`, in the store keyed `key` (undefined: the default store). */
export function buildRecordName(tag: string, key?: string): string {
  return `build-${tag.replace(/[A-Z]/g, (c) => `~${c.toLowerCase()}`)}${key === undefined ? '' : `@${key}`}.json`;
}

/** The file the build of `tag` into `of.store` writes its record to. */
export function storeRecordFile(of: RecordsOf, tag: string): string {
  return path.join(of.stateDir, 'records', buildRecordName(tag, storeKey(of.stateDir, of.store)));
}

/** Whether a record (its `store` field) is of `of.store`: one naming no store (older versions) is any store's. */
export function namesStore(of: RecordsOf, named: string | undefined): boolean {
  return named === undefined || storeOfRecord(of.stateDir, named) === path.resolve(of.store);
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
  return /[A-Z]/.test(BUILD_NAME.exec(name)?.[1] ?? '');
}

/** The name a legacy-named record has now (`build-V1.json` → `build-~v1.json`), in the same store. */
export function currentRecordName(name: string): string | undefined {
  const m = BUILD_NAME.exec(name);
  return m ? buildRecordName(tagOfRecordName(name)!, m[2]) : undefined;
}

/** Whose record a file is: the store it names (undefined: none, older versions) and its tag; `read`: the record, when telling took reading it. */
interface Owner<R> {
  store: string | undefined;
  tag: string | undefined;
  read?: R;
}

/**
 * Whose record `file` is: from its head (store and tag, written first since stop 48: record-head.ts), else (a record
 * written before, its `store` last) from `read` of the file, whose result the caller may keep instead of reading it
 * again; `unreadable` when that fails (the reader that opens it says why).
 */
async function ownerOf<R extends BuildRecordSummary>(file: string, read: (file: string) => Promise<R>): Promise<Owner<R> | 'unreadable'> {
  const head = recordHead(file);
  if (head.store !== undefined && head.tag !== undefined) return { store: head.store, tag: head.tag };
  const record = await read(file).catch(() => undefined);
  return record ? { store: record.store, tag: record.tags[0], read: record } : 'unreadable';
}

/**
 * The record files of `tag` the records folder lists: its store's own name (`own`: a store other than the default's),
 * and the names written before (`build-<tag>.json`, and the name older versions gave a tag with upper case).
 */
async function filesOfTag(of: RecordsOf, tag: string): Promise<{ own?: string; older: string[] }> {
  const dir = path.join(of.stateDir, 'records');
  const names = await readdir(dir).catch(() => [] as string[]);
  const own = buildRecordName(tag, storeKey(of.stateDir, of.store));
  return {
    ...(own !== buildRecordName(tag) && names.includes(own) ? { own: path.join(dir, own) } : {}),
    older: [...new Set([buildRecordName(tag), legacyBuildRecordName(tag)])].filter((n) => names.includes(n)).map((n) => path.join(dir, n)),
  };
}

/**
 * The local record of `tag` built into `of.store`: its store's name, else a name written before (`build-<tag>.json`,
 * or with upper case as older versions wrote it: its exact name listed by the directory, as on a case-insensitive
 * file system a lookup of `build-V1.json` would open `build-v1.json`) when that record is this store's by the rule
 * above, with the record when telling whose it is took `read` of it (a record written before stop 48). Undefined when
 * the store has no record of that tag.
 */
export async function findBuildRecord<R extends BuildRecordSummary>(of: RecordsOf, tag: string, read: (file: string) => Promise<R>): Promise<{ file: string; record?: R } | undefined> {
  const files = await filesOfTag(of, tag);
  if (files.own) return { file: files.own };
  for (const file of files.older) {
    const owner = await ownerOf(file, read);
    if (owner === 'unreadable') return { file };
    if (namesStore(of, owner.store)) return { file, ...(owner.read ? { record: owner.read } : {}) };
  }
  return undefined;
}

/** The file of the local record of `tag` built into `of.store` (`findBuildRecord`), if there is one. */
export async function buildRecordFile(of: RecordsOf, tag: string): Promise<string | undefined> {
  return (await findBuildRecord(of, tag, readBuildSummary))?.file;
}

/**
 * Before the build of `tag` into `of.store` writes `file` (its store's name): a record there of another store (an
 * older version wrote every store's build to `build-<tag>.json`) moves to that store's name, unless that store has
 * one there already. So the default store's build of a tag never overwrites another store's.
 */
export async function moveOtherStoresRecord(of: RecordsOf, file: string): Promise<void> {
  const named = await ownerOf(file, readBuildSummary);
  if (named === 'unreadable' || named.tag === undefined || namesStore(of, named.store)) return;
  const other = path.join(path.dirname(file), buildRecordName(named.tag, storeKey(of.stateDir, storeOfRecord(of.stateDir, named.store!))));
  if (other === file || (await readdir(path.dirname(file)).catch(() => [] as string[])).includes(path.basename(other))) return;
  await rename(file, other);
}

/**
 * After the record of `tag` is written under its store's name: the same store's record of the tag under a name
 * written before goes (its build was written again just now), so `ls` lists the build once. Only a record of this
 * very tag (on a case-insensitive file system, an old store's `build-V1.json` may hold the build `v1` that overwrote
 * it) that names this store (one naming none may be another store's).
 */
export async function dropLegacyRecord(of: RecordsOf, tag: string): Promise<void> {
  const own = storeRecordFile(of, tag);
  for (const file of (await filesOfTag(of, tag)).older) {
    if (file === own) continue;
    const named = await ownerOf(file, readBuildSummary);
    if (named === 'unreadable' || named.tag !== tag) continue;
    // The default store's older records name no store: those are its own, under the old name of a tag with upper case.
    const mine = named.store === undefined ? storeKey(of.stateDir, of.store) === undefined : namesStore(of, named.store);
    if (mine) await rm(file, { force: true });
  }
}
