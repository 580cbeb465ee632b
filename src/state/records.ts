// Records of earlier scans and builds in `.gamelayer/records/`: the baselines `gamelayer diff` compares against.
// Plain JSON (readable with jq), written to a temp file and renamed so a reader never sees half a record.
import { copyFile, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError, errnoCode } from '../errors.js';
import { buildRecordSchema, parseStored, scanRecordSchema, TREE_NAMES, type BuildRecord, type PushedTo, type ScanRecord, type TreeManifest, type TreeName } from '../types.js';
import { diskFullError } from '../util/disk-full.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { jsonChunks } from '../util/json-chunks.js';
import { writeTextPieces } from '../util/write-all.js';

export type { ScanRecord };

export type AnyRecord = ScanRecord | (BuildRecord & { kind: 'build' });

export function recordsDir(stateDir: string): string {
  return path.join(stateDir, 'records');
}

export const LAST_SCAN = 'scan-last.json';
export const LAST_BUILD = 'build-last.json';

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
export async function readRecord(file: string): Promise<AnyRecord> {
  return parseRecord(file, await readRecordText(file));
}

async function readRecordText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new GamelayerError('record.missing', `${file}: no such record`);
    throw new GamelayerError('record.unreadable', `${file}: cannot be read: ${(e as Error).message}`);
  }
}

/** A record's text checked and parsed (JSON, then its kind's schema). */
function parseRecord(file: string, text: string): AnyRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GamelayerError('record.corrupt', `${file}: not valid JSON (truncated or corrupt record)`, 'delete it and scan or build again');
  }
  const r = value as Partial<AnyRecord> | null;
  if (!r || typeof r !== 'object' || !Array.isArray(r.manifests)) {
    throw new GamelayerError('record.corrupt', `${file}: not a gamelayer scan or build record`, 'delete it and scan or build again');
  }
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

/** The newest baseline of a game: its last build, else its last scan, else undefined. */
export async function latestRecord(stateDir: string): Promise<{ file: string; record: AnyRecord } | undefined> {
  for (const name of [LAST_BUILD, LAST_SCAN]) {
    const file = path.join(recordsDir(stateDir), name);
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
 * Notes a successful push in the local records of that build (`build-<tag>.json`, and `build-last.json` while it
 * is still the same build): one entry per repository, replaced by a newer push there. A record of another build
 * under the same name is left alone. Returns the files updated.
 */
export async function markPushed(stateDir: string, record: BuildRecord, entry: PushedTo): Promise<string[]> {
  const dir = recordsDir(stateDir);
  const updated: string[] = [];
  // Both files are read first; the last build is a copy of its tagged record, so the same text is checked once
  // (a 100k-file game's record is tens of MB of JSON through the record's schema).
  const files = [...new Set([`build-${record.tags[0]}.json`, LAST_BUILD])].map((name) => path.join(dir, name));
  const texts = await Promise.all(
    files.map((file) =>
      readRecordText(file).catch((e: unknown) => {
        if (e instanceof GamelayerError && e.code === 'record.missing') return undefined;
        throw e;
      }),
    ),
  );
  let parsed: { text: string; record: AnyRecord } | undefined;
  for (const [i, file] of files.entries()) {
    const text = texts[i];
    if (text === undefined) continue;
    const current = parsed?.text === text ? parsed.record : parseRecord(file, text);
    parsed = { text, record: current };
    if (current.kind !== 'build' || !sameImages(current, record)) continue;
    // Pushed there already with these very images (a no-op push): the entry, and its first time, stand.
    const before = current.pushed?.find((p) => p.repository === entry.repository);
    if (before && JSON.stringify(before.images) === JSON.stringify(entry.images)) {
      updated.push(file);
      continue;
    }
    const pushed = (current.pushed ?? []).filter((p) => p.repository !== entry.repository);
    await writeRecord(file, { ...current, pushed: [...pushed, entry] });
    updated.push(file);
  }
  return updated;
}

/** The same build: same tag and the same image digests. */
function sameImages(a: BuildRecord, b: BuildRecord): boolean {
  const key = (r: BuildRecord) => JSON.stringify([r.tags[0], r.images.map((i) => [i.name, i.platform ?? '', i.digest])]);
  return key(a) === key(b);
}

/** The record as it travels to a registry: local-only fields (where it was pushed) left out. */
export function recordForRegistry(record: BuildRecord & { kind?: string }): BuildRecord {
  const { kind: _kind, pushed: _pushed, ...rest } = record;
  return rest;
}
