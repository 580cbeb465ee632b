// Records of earlier scans and builds in `.gamelayer/records/`: the baselines `gamelayer diff` compares against.
// Plain JSON (readable with jq), written to a temp file and renamed so a reader never sees half a record.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GamelayerError, errnoCode } from '../errors.js';
import { TREE_NAMES, type BuildRecord, type PushedTo, type TreeManifest, type TreeName } from '../types.js';
import { diskFullError } from '../util/disk-full.js';
import { sweepStaleTemps, tempTag } from '../util/temp-files.js';

export interface ScanRecord {
  kind: 'scan';
  schemaVersion: 1;
  game: string;
  createdAt: string;
  manifests: TreeManifest[];
}

export type AnyRecord = ScanRecord | (BuildRecord & { kind: 'build' });

export function recordsDir(stateDir: string): string {
  return path.join(stateDir, 'records');
}

export const LAST_SCAN = 'scan-last.json';
export const LAST_BUILD = 'build-last.json';

export async function writeRecord(file: string, record: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await sweepStaleTemps(path.dirname(file));
  const tmp = `${file}.${tempTag()}.tmp`;
  try {
    await writeFile(tmp, JSON.stringify(record));
  } catch (e) {
    await rm(tmp, { force: true });
    throw diskFullError(e, 'state.disk-full', path.dirname(file), path.basename(file));
  }
  await rename(tmp, file);
}

export async function saveScanRecord(stateDir: string, game: string, manifests: TreeManifest[]): Promise<string> {
  const file = path.join(recordsDir(stateDir), LAST_SCAN);
  const record: ScanRecord = { kind: 'scan', schemaVersion: 1, game, createdAt: new Date().toISOString(), manifests };
  await writeRecord(file, record);
  return file;
}

/** Reads a scan or build record; a clear error when the file is missing or is not a record. */
export async function readRecord(file: string): Promise<AnyRecord> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new GamelayerError('record.missing', `${file}: no such record`);
    throw new GamelayerError('record.unreadable', `${file}: cannot be read: ${(e as Error).message}`);
  }
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
  const problem =
    r.schemaVersion !== 1 ? `schemaVersion: expected 1, got ${JSON.stringify(r.schemaVersion)}` : shapeProblem(r as Record<string, unknown>);
  if (problem) {
    throw new GamelayerError('record.corrupt', `${file}: not a gamelayer scan or build record: ${problem}`, 'delete it and scan or build again');
  }
  return (r.kind === 'scan' ? r : { ...r, kind: 'build' }) as AnyRecord;
}

/** The first field that does not have the shape diff and deploy rely on; undefined when the record is sound. */
function shapeProblem(r: Record<string, unknown>): string | undefined {
  const manifests = r.manifests as unknown[];
  for (const [i, m] of manifests.entries()) {
    const at = `manifests[${i}]`;
    if (!isObject(m)) return `${at}: expected a map`;
    if (!TREE_NAMES.includes(m.tree as TreeName)) return `${at}.tree: expected one of ${TREE_NAMES.join(', ')}`;
    if (typeof m.digest !== 'string') return `${at}.digest: expected a string`;
    if (!Array.isArray(m.entries)) return `${at}.entries: expected a list`;
    for (const [j, e] of (m.entries as unknown[]).entries()) {
      if (!isObject(e) || typeof e.path !== 'string' || typeof e.type !== 'string' || typeof e.size !== 'number') {
        return `${at}.entries[${j}]: expected a map with path, type and size`;
      }
    }
  }
  if (r.kind === 'scan') return undefined;
  if (!Array.isArray(r.tags)) return 'tags: expected a list';
  if (!Array.isArray(r.images)) return 'images: expected a list';
  if (!Array.isArray(r.layers)) return 'layers: expected a list';
  if (!isObject(r.plan) || !Array.isArray(r.plan.layers)) return 'plan.layers: expected a list';
  for (const [what, list] of [['layers', r.layers], ['plan.layers', r.plan.layers]] as const) {
    for (const [i, l] of (list as unknown[]).entries()) {
      if (!isObject(l) || typeof l.inputKey !== 'string') return `${what}[${i}].inputKey: expected a string`;
    }
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
  for (const name of [`build-${record.tags[0]}.json`, LAST_BUILD]) {
    const file = path.join(dir, name);
    let current: AnyRecord;
    try {
      current = await readRecord(file);
    } catch (e) {
      if (e instanceof GamelayerError && e.code === 'record.missing') continue;
      throw e;
    }
    if (current.kind !== 'build' || !sameImages(current, record)) continue;
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
