// Records of earlier scans and builds in `.gamelayer/records/`: the baselines `gamelayer diff` compares against.
// Plain JSON (readable with jq), written to a temp file and renamed so a reader never sees half a record.
import { copyFile, open, readdir, stat, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError, errnoCode } from '../errors.js';
import { buildRecordSchema, parseStored, scanRecordSchema, TREE_NAMES, type BuildRecord, type PushedTo, type ScanRecord, type TreeManifest, type TreeName } from '../types.js';
import { diskFullError } from '../util/disk-full.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { jsonChunks } from '../util/json-chunks.js';
import { writeTextPieces } from '../util/write-all.js';
import { packedRecord, parseRecordBytes } from './record-parse.js';
import { summaryText, topLevelPlaces, writePieces } from './record-members.js';
import { withRecordsLock } from './records-lock.js';
import { parseRecordFile } from './record-stream.js';
import { noSuchRecord, openRecordFile, readOpenedBytes, recordStream, withRecordFile } from './record-file.js';
import { parseBuildSummary, readBuildSummary, recordNotJson, refuseNewerRecord, withMember, type BuildRecordSummary } from './record-summary.js';
import { tagOfRecordName } from './record-name.js';
import { recordHead, recordHeadAt } from './record-head.js';
import { isLastBuildName, LAST_BUILD, lastBuildName, storeFromState } from './last-build.js';

export type { ScanRecord };

export type AnyRecord = ScanRecord | (BuildRecord & { kind: 'build' });

export function recordsDir(stateDir: string): string {
  return path.join(stateDir, 'records');
}

export const LAST_SCAN = 'scan-last.json';
export { LAST_BUILD, isLastBuildName, lastBuildName } from './last-build.js';

/** The last-build pointer of a config's store (last-build.ts): where a build into it writes its record's copy. */
export function lastBuildFile(config: { stateDir: string; store: string }): string {
  return path.join(recordsDir(config.stateDir), lastBuildName(config.stateDir, config.store));
}

/**
 * The last build of a config's store, to read: its pointer; for a store other than the default that has none yet, an
 * older version's `build-last.json` when that build is this store's (its record names no store, and the store holds
 * its server image), as older versions wrote it for every store. Else the pointer (missing: "no build yet").
 */
export async function lastBuildToRead(config: { stateDir: string; store: string }): Promise<string> {
  const own = lastBuildFile(config);
  const legacy = path.join(recordsDir(config.stateDir), LAST_BUILD);
  if (own === legacy || (await stat(own).then(() => true, () => false))) return own;
  // A record naming a store in its head (written since stop 48) is that store's, and this store has a name of its
  // own: not read further (a 1M-entry game's is 170 MB). Only one naming none there (stop 47 wrote `store` last;
  // older versions none) is read, for its store and server image.
  if (recordHead(legacy).store !== undefined) return own;
  const summary = await readBuildSummary(legacy).catch(() => undefined);
  const server = summary?.store === undefined ? summary?.images.find((i) => i.name === 'server') : undefined;
  // A record is anyone's text: only a sha256 digest names a file of the store.
  const hex = /^sha256:([a-f0-9]{64})$/.exec(server?.digest ?? '')?.[1];
  if (!hex) return own;
  return (await stat(path.join(config.store, 'blobs', 'sha256', hex)).then((s) => s.isFile(), () => false)) ? legacy : own;
}

/**
 * A build's record as its local file holds it: `kind`, and the store its images went to (`store`, its path from the
 * state folder: gc of another store sharing the state folder tells a live store's builds from those of a store that
 * is gone), first: whose record a file is, is then read from its head (record-head.ts), not from all of it. Only the
 * file: the record a build gives (and pushes) is the same on every host.
 */
export function localRecord(record: BuildRecord, of: { stateDir: string; store: string }): BuildRecord & { kind: 'build' } {
  const { kind: _kind, store: _store, ...rest } = record as BuildRecord & { kind?: string };
  return { kind: 'build', store: storeFromState(of.stateDir, of.store), ...rest };
}

/**
 * Writes a record as JSON, a piece at a time: a 100k-entry game's record is tens of MB of text (its entries twice,
 * in the manifests and in the plan), which as one string would be the largest thing a build holds.
 */
export async function writeRecord(file: string, record: unknown): Promise<void> {
  await writeFileAtomic(
    file,
    async (tmp) => {
      const fh = await open(tmp, 'wx');
      try {
        await writeTextPieces(fh, jsonChunks(record));
      } finally {
        await fh.close();
      }
    },
    { writeError: (e) => diskFullError(e, 'state.disk-full', path.dirname(file), path.basename(file)) },
  );
}

/** Replaces `file` atomically with a copy of the record `from` (the last build, same bytes as its tagged record). */
export async function copyRecord(from: string, file: string): Promise<void> {
  await writeFileAtomic(file, (tmp) => copyFile(from, tmp), {
    writeError: (e) => diskFullError(e, 'state.disk-full', path.dirname(file), path.basename(file)),
  });
}

export async function saveScanRecord(stateDir: string, game: string, manifests: TreeManifest[]): Promise<string> {
  const file = path.join(recordsDir(stateDir), LAST_SCAN);
  const record: ScanRecord = { kind: 'scan', schemaVersion: 1, game, createdAt: new Date().toISOString(), manifests };
  await writeRecord(file, record);
  return file;
}

/** Reads a scan or build record; a clear error when the file is missing or is not a record. */
export function readRecord(file: string): Promise<AnyRecord> {
  // One open: the file read is the one checked (a regular file, and its size then).
  return withRecordFile(file, noSuchRecord, async (opened) => {
    const large = opened.size >= recordStream.minBytes ? readLargeRecord(file, opened.handle.fd) : undefined;
    return large ? checkRecord(file, large.value) : parseRecord(file, await readOpenedBytes(file, opened));
  });
}

export { recordStream };

/** A large record read from its file a MiB at a time; undefined for one read the plain way. */
function readLargeRecord(file: string, fd: number): { value: unknown } | undefined {
  let value: unknown;
  try {
    value = parseRecordFile(fd, packedRecord.minEntries, packedRecord.minLayerEntries);
  } catch (e) {
    if (e instanceof SyntaxError) throw recordNotJson(file, e);
    throw new GamelayerError('record.unreadable', `${file}: cannot be read: ${(e as Error).message}`);
  }
  return value === undefined ? undefined : { value };
}


/**
 * A record's bytes checked and parsed (JSON, then its kind's schema); never held as one string, and each entry of
 * the plan one object with its manifest's (record-parse.ts).
 */
function parseRecord(file: string, bytes: Buffer): AnyRecord {
  let value: unknown;
  try {
    value = parseRecordBytes(bytes);
  } catch (e) {
    throw recordNotJson(file, e);
  }
  return checkRecord(file, value);
}

/** A parsed record checked against its kind's schema. */
function checkRecord(file: string, value: unknown): AnyRecord {
  const r = value as Partial<AnyRecord> | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.manifests)) {
    throw new GamelayerError('record.corrupt', `${file}: not a gamelayer scan or build record`, 'delete it and scan or build again');
  }
  refuseNewerRecord(file, r.schemaVersion);
  if (r.schemaVersion !== 1) {
    throw new GamelayerError('record.corrupt', `${file}: not a gamelayer scan or build record: schemaVersion: expected 1, got ${JSON.stringify(r.schemaVersion)}`, 'delete it and scan or build again');
  }
  // One schema per kind (types.ts), the same one the registry's record reader checks.
  const corrupt = (problem: string) =>
    new GamelayerError('record.corrupt', `${file}: not a gamelayer scan or build record: ${problem}`, 'delete it and scan or build again');
  if (r.kind === 'scan') {
    const scan = parseStored(scanRecordSchema, r);
    if (!scan.ok) throw corrupt(scan.problem);
    return scan.value;
  }
  const build = parseStored(buildRecordSchema, r);
  if (!build.ok) throw corrupt(build.problem);
  return { ...build.value, kind: 'build' };
}

/**
 * A build record, for commands that need one (deploy specs, run-local): a missing file means nothing was built yet,
 * and a scan record is not enough.
 */
export async function readBuildRecord(file: string): Promise<BuildRecord> {
  let r: AnyRecord;
  try {
    r = await readRecord(file);
  } catch (e) {
    if (e instanceof GamelayerError && e.code === 'record.missing') {
      throw new GamelayerError('record.no-build', `${file}: no build yet, run gamelayer build`);
    }
    throw e;
  }
  if (r.kind !== 'build') throw new GamelayerError('record.no-build', `${file}: a scan record, not a build record`, 'run gamelayer build');
  return r;
}

/**
 * The newest baseline of a game: its last build (into the config's store; a state folder alone: the default
 * store's), else its last scan, else undefined.
 */
export async function latestRecord(of: string | { stateDir: string; store: string }): Promise<{ file: string; record: AnyRecord } | undefined> {
  const config = typeof of === 'string' ? { stateDir: of, store: path.join(of, 'oci') } : of;
  for (const file of [await lastBuildToRead(config), path.join(recordsDir(config.stateDir), LAST_SCAN)]) {
    try {
      return { file, record: await readRecord(file) };
    } catch (e) {
      if (e instanceof GamelayerError && e.code === 'record.missing') continue;
      throw e;
    }
  }
  return undefined;
}

/**
 * Notes a successful push in the local records of that build (its tag's records, `build-<tag>.json` and those of
 * other stores, `build-<tag>@<key>.json`, and a store's last-build pointer while it is still the same build): one
 * entry per repository, replaced by a newer push there. A record of another build under the tag is left alone (the
 * push does not say which store built it: the images tell). Returns the files updated.
 */
export async function markPushed(stateDir: string, record: BuildRecord, entry: PushedTo): Promise<string[]> {
  const dir = recordsDir(stateDir);
  // Each file is read as bytes and only its summary parsed; the new `pushed` is spliced into the bytes. A 100k-file
  // game's record is tens of MB of JSON (1M files: 170 MB): parsing it again whole (the caller holds it already) and
  // writing it out from objects took more memory than the push itself, and so did holding both files' bytes at once.
  // Under the records lock: a no-op build putting a record's store first (record-layout.ts) does not drop the entry.
  // The folder is listed under it too: a record another build placed meanwhile is one of those marked. No state
  // folder (the lock's place): no record to mark.
  if (!(await stat(stateDir).then((s) => s.isDirectory(), () => false))) return [];
  return withRecordsLock(stateDir, async () => {
    const names = (await readdir(dir).catch(() => [] as string[])).sort();
    return names.length ? markRecords(dir, names, record, entry) : [];
  });
}

async function markRecords(dir: string, names: string[], record: BuildRecord, entry: PushedTo): Promise<string[]> {
  const updated: string[] = [];
  const tagged = names.filter((n) => !isLastBuildName(n) && tagOfRecordName(n) === String(record.tags[0])).map((n) => path.join(dir, n));
  // Every store's last-build pointer (last-build.ts) that may be this build.
  const lasts = names.filter(isLastBuildName).map((n) => path.join(dir, n));
  // A last build is a copy of a tagged record: the same bytes are checked and changed once (compared before the
  // tagged records are rewritten, a piece at a time, neither held whole).
  const copyOf = new Map<string, string>();
  for (const last of lasts) {
    for (const file of tagged) {
      if (!(await sameBytes(file, last))) continue;
      copyOf.set(last, file);
      break;
    }
  }
  /** What was done to each tagged record: skipped (not this build), left as it was, or written. */
  const outcomes = new Map<string, 'skipped' | 'unchanged' | 'written'>();
  for (const file of tagged) {
    const outcome = await markOne(file, record, entry);
    outcomes.set(file, outcome);
    if (outcome !== 'skipped') updated.push(file);
  }
  for (const last of lasts) {
    const of = copyOf.get(last);
    const outcome = of === undefined ? await markOne(last, record, entry) : outcomes.get(of)!;
    if (of !== undefined && outcome === 'written') await copyRecord(of, last);
    if (outcome !== 'skipped') updated.push(last);
  }
  return updated;
}

/** Notes the push in one record file (see markPushed). */
async function markOne(file: string, record: BuildRecord, entry: PushedTo): Promise<'skipped' | 'unchanged' | 'written'> {
  // Opened once: the places found, the summary read and the bytes copied around the new member are all of the file
  // that was checked, not of one put at its path meanwhile.
  const opened = await openRecordFile(file).catch((e: unknown) => (e instanceof GamelayerError && e.code === 'record.missing' ? undefined : Promise.reject(e)));
  if (!opened) return 'skipped';
  try {
    return await markOpened(file, opened, record, entry);
  } finally {
    await opened.handle.close();
  }
}

async function markOpened(file: string, opened: { handle: FileHandle; size: number }, record: BuildRecord, entry: PushedTo): Promise<'skipped' | 'unchanged' | 'written'> {
  const fd = opened.handle.fd;
  // A record whose head names another tag (record-head.ts) is another build's (sameImages): not read further. Every
  // store's last build was read whole per push (170 MB for a 1M-entry game).
  const tag = recordHeadAt(fd).tag;
  if (tag !== undefined && tag !== String(record.tags[0])) return 'skipped';
  // A large record is neither read nor written whole: its members are found in the file (record-members.ts).
  const large = opened.size >= recordStream.minBytes ? largeRecordMembers(file, fd, opened.size) : undefined;
  const bytes = large ? undefined : await readOpenedBytes(file, opened);
  let current: BuildRecordSummary;
  try {
    current = parseBuildSummary(file, large ? large.summaryBytes : bytes!);
  } catch (e) {
    // A scan record under that name is not this build's.
    if (e instanceof GamelayerError && e.code === 'record.no-build') return 'skipped';
    throw e;
  }
  if (!sameImages(current, record)) return 'skipped';
  // Pushed there already with these very images (a no-op push): the entry, and its first time, stand.
  const before = current.pushed?.find((p) => p.repository === entry.repository);
  if (before && JSON.stringify(before.images) === JSON.stringify(entry.images)) return 'unchanged';
  const pushed = (current.pushed ?? []).filter((p) => p.repository !== entry.repository);
  const json = JSON.stringify([...pushed, entry]);
  if (large) await writeSpliced(file, fd, large.places, 'pushed', json);
  else await writeBytes(file, withMember(bytes!, 'pushed', json));
  return 'written';
}

/** What markOne needs of a large record: its members' places, and a small text with its summary's members. */
function largeRecordMembers(file: string, fd: number, size: number): { places: ReturnType<typeof topLevelPlaces>; summaryBytes: Buffer } | undefined {
  let places: ReturnType<typeof topLevelPlaces>;
  try {
    places = topLevelPlaces(fd, size, file);
  } catch (e) {
    if (e instanceof SyntaxError) throw recordNotJson(file, e);
    throw new GamelayerError('record.unreadable', `${file}: cannot be read: ${(e as Error).message}`);
  }
  return { places, summaryBytes: summaryText(fd, places.members) };
}

/** `withMember` of the file's bytes, written a MiB at a time around the spliced member. */
async function writeSpliced(file: string, fd: number, places: ReturnType<typeof topLevelPlaces>, key: string, json: string): Promise<void> {
  const at = places.members.find((m) => m.key === key);
  const [cutFrom, cutTo, text] = at ? [at.valueStart, at.valueEnd, json] : [places.end, places.end, `${places.members.length ? ',' : ''}${JSON.stringify(key)}:${json}`];
  await writePieces(file, fd, [[0, cutFrom], text, [cutTo, places.size]]);
}

/** Whether two files hold the same bytes, read a MiB at a time (a missing file: false). */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const PIECE = 1 << 20;
  let fa: FileHandle | undefined;
  let fb: FileHandle | undefined;
  try {
    fa = await open(a, 'r');
    fb = await open(b, 'r');
    const [sa, sb] = await Promise.all([fa.stat(), fb.stat()]);
    if (sa.size !== sb.size) return false;
    const ba = Buffer.alloc(PIECE);
    const bb = Buffer.alloc(PIECE);
    for (let at = 0; at < sa.size; ) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, PIECE, at), fb.read(bb, 0, PIECE, at)]);
      if (ra.bytesRead !== rb.bytesRead || ra.bytesRead === 0) return false;
      if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      at += ra.bytesRead;
    }
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw new GamelayerError('record.unreadable', `${a}, ${b}: cannot be read: ${(e as Error).message}`);
  } finally {
    await fa?.close();
    await fb?.close();
  }
}

async function writeBytes(file: string, bytes: Buffer): Promise<void> {
  await writeFileAtomic(file, (tmp) => writeFile(tmp, bytes, { flag: 'wx' }), {
    writeError: (e) => diskFullError(e, 'state.disk-full', path.dirname(file), path.basename(file)),
  });
}

/** The same build: same tag and the same image digests. */
function sameImages(a: BuildRecordSummary, b: BuildRecordSummary): boolean {
  const key = (r: BuildRecordSummary) => JSON.stringify([r.tags[0], r.images.map((i) => [i.name, i.platform ?? '', i.digest])]);
  return key(a) === key(b);
}

/** The record as it travels to a registry: local-only fields (where it was pushed, its local store) left out. */
export function recordForRegistry(record: BuildRecord & { kind?: string }): BuildRecord {
  const { kind: _kind, pushed: _pushed, store: _store, ...rest } = record;
  return rest;
}
