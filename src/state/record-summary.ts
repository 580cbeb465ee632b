// A build record's summary read without its trees' entries: `ls`, `inspect` and `gc` look at every local build
// (tags, time, layers, images) but need no build's entries but the one they show. A 100k-file game's record is
// 22 MB of JSON, 40 MiB once parsed and as much again through the schema; parsing each of several builds whole,
// even one at a time, grew the heap to about 350 MiB before a full collection. The two big values (`manifests`,
// `plan`) are stepped over in the file's bytes (every byte JSON gives meaning to is ASCII, and no byte of a UTF-8
// multi-byte character is), and only the rest is parsed and checked.
import { readOpenedBytes, recordStream, withRecordFile } from './record-file.js';
import { summaryText, topLevelPlaces } from './record-members.js';
import { GamelayerError } from '../errors.js';
import { JsonNestingError } from '../util/json-tokens.js';
import { eachEntry } from '../entries/packed-list.js';
import { isWhiteoutPath } from '../util/whiteout.js';
import { inChunkStore, isChunkPath, recipeFileOf } from '../chunk/recipe.js';
import { buildRecordSchema, parseStored, plannedLayerSchema, treeManifestSchema, type BuildRecord, type FileEntry, type PlannedLayer, type TreeManifest } from '../types.js';

export type BuildRecordSummary = Omit<BuildRecord, 'manifests' | 'plan'>;

const summarySchema = buildRecordSchema.omit({ manifests: true, plan: true });
/** Top-level keys stepped over, and the first byte their value must have. */
const SKIPPED = new Map([
  ['manifests', 0x5b], // [
  ['plan', 0x7b], // {
]);

/**
 * Records below this many bytes are parsed by JSON.parse whole, here and in record-parse.ts: a few MiB of objects at
 * most, and the byte loops that step over members (run cold in a CLI process, as every command is) cost ten times
 * JSON.parse's CPU: 16-18 ms on the 200 MB peers game's 72 KB record (JSON.parse 1.6-2.5 ms), 43-75 ms on a 0.9 MB
 * one (5-10 ms), most of what a no-op build + push had grown by since 2d88881. Settable for tests.
 */
export const wholeParse = { maxBytes: 1 << 20 };

/** A record that is JSON but not a record's shape (`problem` names the field). */
export function recordCorrupt(file: string, problem: string): GamelayerError {
  return new GamelayerError('record.corrupt', `${file}: not a gamelayer scan or build record: ${problem}`, 'delete it and scan or build again');
}

/** The record format this gamelayer writes and reads. */
export const RECORD_SCHEMA_VERSION = 1;

/**
 * A record of a later format (written by a newer gamelayer) is not damaged: saying so, and "delete it", would have
 * a user throw away a good record. Throws for a schemaVersion above the one this gamelayer reads.
 */
export function refuseNewerRecord(file: string, schemaVersion: unknown): void {
  if (typeof schemaVersion !== 'number' || !(schemaVersion > RECORD_SCHEMA_VERSION)) return;
  throw new GamelayerError(
    'record.invalid',
    `${file}: the record has schemaVersion ${schemaVersion}, written by a newer gamelayer (this one reads ${RECORD_SCHEMA_VERSION})`,
    'upgrade gamelayer on this machine to the version that wrote it; the record was left as it is',
  );
}

/**
 * A record whose bytes are not JSON, or (`e` a JsonNestingError) JSON nested deeper than the large-record reader
 * follows: said as such, since "not valid JSON" sent the user looking for damage in a file that `jq` reads.
 */
export function recordNotJson(file: string, e?: unknown): GamelayerError {
  if (e instanceof JsonNestingError) {
    return new GamelayerError(
      'record.corrupt',
      `${file}: not a gamelayer record: its JSON nests deeper than ${e.limit} levels (at byte ${e.offset}), where a record nests a few`,
      'delete it and scan or build again, or pass a record gamelayer wrote',
    );
  }
  return new GamelayerError('record.corrupt', `${file}: not valid JSON (truncated or corrupt record)`, 'delete it and scan or build again');
}

/**
 * Reads a build record's summary; the errors of `readBuildRecord` for a missing, corrupt or scan record. From
 * `recordStream.minBytes` on the file is not held: its top-level members are found a MiB at a time
 * (record-members.ts) and only the summary's are read (`inspect` read the 1M-entry game's 172 MB twice for them).
 */
export function readBuildSummary(file: string): Promise<BuildRecordSummary> {
  // One open: the file read is the one checked (a regular file, and its size then).
  return withRecordFile(file, noBuild, async (opened) =>
    parseBuildSummary(file, opened.size >= recordStream.minBytes ? largeSummaryText(file, opened.handle.fd, opened.size) : await readOpenedBytes(file, opened)),
  );
}

/** The summary's text of a large record, its file read a MiB at a time. */
function largeSummaryText(file: string, fd: number, size: number): Buffer {
  try {
    return summaryText(fd, topLevelPlaces(fd, size, file).members);
  } catch (e) {
    if (e instanceof SyntaxError) throw recordNotJson(file, e);
    throw new GamelayerError('record.unreadable', `${file}: cannot be read: ${(e as Error).message}`);
  }
}

const noBuild = (f: string) => new GamelayerError('record.no-build', `${f}: no build yet, run gamelayer build`);

/** A build record's summary from its bytes (`file` names it in errors). */
export function parseBuildSummary(file: string, bytes: Buffer): BuildRecordSummary {
  const corrupt = (problem: string) => recordCorrupt(file, problem);
  const notJson = () => recordNotJson(file);
  let value: unknown;
  try {
    value = bytes.length < wholeParse.maxBytes ? wholeWithoutKeys(bytes) : JSON.parse(withoutKeys(bytes));
  } catch (e) {
    if (e instanceof SyntaxError) throw notJson();
    throw corrupt((e as Error).message);
  }
  const r = value as { kind?: unknown; schemaVersion?: unknown };
  if (r.kind === 'scan') throw new GamelayerError('record.no-build', `${file}: a scan record, not a build record`, 'run gamelayer build');
  refuseNewerRecord(file, r.schemaVersion);
  if (r.schemaVersion !== 1) throw corrupt(`schemaVersion: expected 1, got ${JSON.stringify(r.schemaVersion)}`);
  const parsed = parseStored(summarySchema, value);
  if (!parsed.ok) throw corrupt(parsed.problem);
  return parsed.value;
}

/** Where one member of the top-level object lies in the bytes: its key's opening quote, its value's span. */
export interface MemberSpan {
  key: string;
  start: number;
  valueStart: number;
  valueEnd: number;
}

/**
 * The members of the top-level object, in order, and the index of its closing brace. Throws SyntaxError when the
 * text is not one JSON object (unbalanced, truncated, malformed anywhere: util/json-tokens.ts checks every byte).
 */
export function topLevelMembers(bytes: Buffer): Members {
  let members = topLevel.get(bytes);
  if (!members) {
    const found = objectMembers(bytes, skipSpace(bytes, 0));
    if (skipSpace(bytes, found.end + 1) !== bytes.length) throw new SyntaxError('text after the object');
    topLevel.set(bytes, (members = found));
  }
  return members;
}

type Members = { readonly members: readonly MemberSpan[]; readonly end: number };

/**
 * The top-level members of a buffer, kept while it lives: `inspect` and the deploy counts ask for them up to four
 * times per record, each a pass over all of its bytes (170 MB for a 1M-entry game).
 */
const topLevel = new WeakMap<Buffer, Members>();

// This reader keeps its own byte loop (it steps over values without checking them): on util/json-tokens.ts,
// `inspect` of the 1M-entry game took 10.5 s of CPU against 7.6 s (one pass of the tokenizer, cold, is slower).
/** The members of the object whose opening brace is at `i`, and the index of its closing brace. */
export function objectMembers(bytes: Buffer, i: number): Members {
  if (bytes[i] !== 0x7b) throw new SyntaxError('not an object');
  i = skipSpace(bytes, i + 1);
  const members: MemberSpan[] = [];
  if (bytes[i] === 0x7d) return { members, end: i };
  const ends = endsOf(bytes);
  for (;;) {
    if (bytes[i] !== QUOTE) throw new SyntaxError('expected a key');
    const start = i;
    const keyEnd = skipString(bytes, i);
    const key = JSON.parse(bytes.toString('utf8', i, keyEnd)) as string;
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== 0x3a) throw new SyntaxError('expected ":"');
    const valueStart = skipSpace(bytes, i + 1);
    const valueEnd = skipValue(bytes, valueStart, ends);
    members.push({ key, start, valueStart, valueEnd });
    i = skipSpace(bytes, valueEnd);
    if (bytes[i] === 0x2c) {
      i = skipSpace(bytes, i + 1);
      continue;
    }
    if (bytes[i] === 0x7d) return { members, end: i };
    throw new SyntaxError('expected "," or "}"');
  }
}

/** Calls `each` with the span of every element of the list whose opening bracket is at `i`, in order. */
export function forEachElement(bytes: Buffer, i: number, each: (start: number, end: number) => void): void {
  if (bytes[i] !== 0x5b) throw new SyntaxError('not a list');
  i = skipSpace(bytes, i + 1);
  if (bytes[i] === 0x5d) return;
  const ends = endsOf(bytes);
  for (;;) {
    const end = skipValue(bytes, i, ends);
    each(i, end);
    i = skipSpace(bytes, end);
    if (bytes[i] === 0x2c) {
      i = skipSpace(bytes, i + 1);
      continue;
    }
    if (bytes[i] === 0x5d) return;
    throw new SyntaxError('expected "," or "]"');
  }
}

/** The index just past the value at `i` (stepped over, not checked). */
export function valueEnd(bytes: Buffer, i: number): number {
  return skipValue(bytes, i, endsOf(bytes));
}

/**
 * Where the elements of the list whose opening bracket is at `i` lie: from its first element's start to its last
 * one's end (undefined: an empty list, or no list).
 */
export function listInner(bytes: Buffer, i: number): { start: number; end: number } | undefined {
  if (bytes[i] !== 0x5b) return undefined;
  const close = valueEnd(bytes, i) - 1;
  const start = skipSpace(bytes, i + 1);
  if (start >= close) return undefined;
  let end = close;
  while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d || bytes[end - 1] === 0x09)) end--;
  return { start, end };
}

function listElements(bytes: Buffer, i: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  forEachElement(bytes, i, (start, end) => out.push({ start, end }));
  return out;
}

/** An object's members but `drop`, parsed (the object at `start`). */
function parseWithout(bytes: Buffer, start: number, drop: string): { value: unknown; dropped?: MemberSpan } {
  const all = objectMembers(bytes, start).members;
  const kept = all.filter((m) => m.key !== drop);
  const value: unknown = JSON.parse(`{${kept.map((m) => `${JSON.stringify(m.key)}:${bytes.toString('utf8', m.valueStart, m.valueEnd)}`).join(',')}}`);
  return { value, dropped: all.find((m) => m.key === drop) };
}

/** What `inspect` shows of a list of entries: how many, how many files, their bytes, and the only one's path. */
export interface EntryCounts {
  entries: number;
  files: number;
  bytes: number;
  /** The path of the first entry (a tree image's marker layer holds only `.gamelayer-tree`). */
  firstPath?: string;
  /**
   * A chunked tree's chunk store (`.gamelayer-chunks/`, docs/chunks.md), when the list has entries there: its files
   * (chunks and recipes) and their bytes, and how many are chunks. They are counted in `files` and `bytes` too; the
   * tree's own files are the others plus one per recipe.
   */
  chunkStore?: ChunkStoreCounts;
}

export interface ChunkStoreCounts {
  files: number;
  bytes: number;
  chunks: number;
  recipes: number;
}

/** Adds a file entry of the chunk store to `c`. */
function countInChunkStore(c: EntryCounts, path: string, size: number): void {
  const store = (c.chunkStore ??= { files: 0, bytes: 0, chunks: 0, recipes: 0 });
  store.files++;
  store.bytes += size;
  if (isChunkPath(path)) store.chunks++;
  else if (recipeFileOf(path) !== undefined) store.recipes++;
}

/** Counts the entries of the list at `i`, one parsed at a time (none held). */
function countEntries(bytes: Buffer, i: number): EntryCounts {
  const c: EntryCounts = { entries: 0, files: 0, bytes: 0 };
  forEachElement(bytes, i, (start, end) => countEntry(c, JSON.parse(bytes.toString('utf8', start, end))));
  return c;
}

/** An element of a list of entries that is not an object (`null`, a number): at index `at` of its list. */
export class NotAnEntry extends Error {
  constructor(readonly at: number) {
    super(`entry ${at} is not a map`);
  }
}

/** Adds one entry (parsed, its fields not checked) to `c`; NotAnEntry when it is no object to read them from. */
export function countEntry(c: EntryCounts, entry: unknown): void {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new NotAnEntry(c.entries);
  const e = entry as { path?: unknown; type?: unknown; size?: unknown };
  if (c.entries === 0 && typeof e.path === 'string') c.firstPath = e.path;
  c.entries++;
  // A whiteout is a file in the tar but removes one: not counted among the layer's files.
  if (e.type === 'file' && !(typeof e.path === 'string' && isWhiteoutPath(e.path))) {
    c.files++;
    if (typeof e.path === 'string' && inChunkStore(e.path)) countInChunkStore(c, e.path, typeof e.size === 'number' ? e.size : 0);
  }
  if (typeof e.size === 'number') c.bytes += e.size;
}

/** A record as `inspect` shows it: the summary, the trees' and the plan's layers' heads with their entries counted. */
export interface RecordTotals extends BuildRecordSummary {
  trees: (ManifestHead & EntryCounts)[];
  planLayers: (Omit<PlannedLayer, 'entries'> & EntryCounts)[];
}

/**
 * The totals of a record read whole. One pass per list, nothing kept: a large list is packed (record-parse.ts), each
 * element an object made as it is read, and `filter` kept 1M of them (`inspect REF` of the 1M-entry game: 910 MiB).
 */
export function totalsOf(record: BuildRecord): RecordTotals {
  const counts = (list: readonly FileEntry[]): EntryCounts => {
    const c: EntryCounts = { entries: list.length, files: 0, bytes: 0 };
    for (const e of eachEntry(list)) {
      if (e.type === 'file' && !isWhiteoutPath(e.path)) {
        c.files++;
        if (inChunkStore(e.path)) countInChunkStore(c, e.path, e.size);
      }
      c.bytes += e.size;
    }
    return list.length ? { ...c, firstPath: list[0]!.path } : c;
  };
  const { manifests, plan, ...summary } = record;
  return {
    ...summary,
    trees: manifests.map(({ entries, ...head }) => ({ ...head, ...counts(entries) })),
    planLayers: plan.layers.map(({ entries, ...head }) => ({ ...head, ...counts(entries) })),
  };
}

/**
 * The totals of the record whose bytes are `bytes`, its entries counted in them one at a time: on a 1M-entry game
 * the record is 170 MB of JSON, which parsed whole took 700 MiB. The heads are checked against the record's schema;
 * the entries only parsed. Files from `recordStream.minBytes` on are not held at all (record-totals.ts).
 */
export function recordTotalsOf(file: string, bytes: Buffer): RecordTotals {
  return totalsWith(file, bytes, (_kind, _index, list) => countEntries(bytes, list));
}

/**
 * The totals of a record from `bytes` (the record, or its text with each list of entries `[]`), each list's counts
 * from `count`: a manifest's (`m`) or a plan layer's (`l`), by its index, its first byte in `bytes`.
 */
export function totalsWith(file: string, bytes: Buffer, count: (kind: 'm' | 'l', index: number, list: number) => EntryCounts): RecordTotals {
  const summary = parseBuildSummary(file, bytes);
  const corrupt = (problem: string) => recordCorrupt(file, problem);
  try {
    // An element that is no entry: named as the record's schema names it (`readRecord` says the same of it).
    const counted = (kind: 'm' | 'l', index: number, list: number): EntryCounts => {
      try {
        return count(kind, index, list);
      } catch (e) {
        if (e instanceof NotAnEntry) throw corrupt(`${kind === 'm' ? 'manifests' : 'plan.layers'}[${index}].entries[${e.at}]: expected a map`);
        throw e;
      }
    };
    const trees: RecordTotals['trees'] = countedManifests(file, bytes, (list, n) => counted('m', n, list));
    const plan = topLevelMembers(bytes).members.find((m) => m.key === 'plan')!;
    const layers = objectMembers(bytes, plan.valueStart).members.find((m) => m.key === 'layers');
    if (!layers) throw corrupt('plan.layers: missing');
    const planLayers: RecordTotals['planLayers'] = [];
    forEachElement(bytes, layers.valueStart, (start) => {
      const { value, dropped } = parseWithout(bytes, start, 'entries');
      const head = parseStored(plannedLayerHeadSchema, value);
      if (!head.ok) throw corrupt(`plan.layers[${planLayers.length}].${head.problem}`);
      if (!dropped) throw corrupt(`plan.layers[${planLayers.length}].entries: missing`);
      planLayers.push({ ...head.value, ...counted('l', planLayers.length, dropped.valueStart) });
    });
    return { ...summary, trees, planLayers };
  } catch (e) {
    if (e instanceof SyntaxError) throw recordNotJson(file, e);
    throw e;
  }
}

/**
 * Each tree manifest's head with what `count` makes of its entry list (`list`: the list's first byte in `bytes`),
 * the entries never held: the walk `inspect`'s totals and the deploy specs' counts share. SyntaxError for bytes
 * that are not JSON (the caller names the file).
 */
export function countedManifests<T>(file: string, bytes: Buffer, count: (list: number, manifest: number) => T): (ManifestHead & T)[] {
  const heads = manifestHeads(file, bytes);
  const manifests = topLevelMembers(bytes).members.find((m) => m.key === 'manifests')!;
  const out: (ManifestHead & T)[] = [];
  forEachElement(bytes, manifests.valueStart, (start) => {
    const n = out.length;
    const list = objectMembers(bytes, start).members.find((m) => m.key === 'entries');
    if (!list) throw recordCorrupt(file, `manifests[${n}].entries: missing`);
    out.push({ ...heads[n]!, ...count(list.valueStart, n) });
  });
  return out;
}

/** A tree's manifest without its entries: tree, digest, root, source, platform, chunks and chunk lists. */
export type ManifestHead = Omit<TreeManifest, 'entries'>;
const manifestHeadSchema = treeManifestSchema.omit({ entries: true });
const plannedLayerHeadSchema = plannedLayerSchema.omit({ entries: true });

/**
 * The record's tree manifests without their entries (stepped over in the bytes, as the summary's): what gc keeps
 * of a build's state (chunk lists, the trees that are archives) without parsing its 100k entries.
 */
export function manifestHeads(file: string, bytes: Buffer): ManifestHead[] {
  const corrupt = (problem: string) => recordCorrupt(file, problem);
  try {
    const list = topLevelMembers(bytes).members.find((m) => m.key === 'manifests');
    if (!list) throw corrupt('manifests: missing');
    return listElements(bytes, list.valueStart).map((el, n) => {
      const kept = objectMembers(bytes, el.start).members.filter((m) => m.key !== 'entries');
      const value: unknown = JSON.parse(`{${kept.map((m) => `${JSON.stringify(m.key)}:${bytes.toString('utf8', m.valueStart, m.valueEnd)}`).join(',')}}`);
      const parsed = parseStored(manifestHeadSchema, value);
      if (!parsed.ok) throw corrupt(`manifests[${n}].${parsed.problem}`);
      return parsed.value;
    });
  } catch (e) {
    if (e instanceof SyntaxError) throw recordNotJson(file, e);
    throw e;
  }
}

/** The top-level object's text without the SKIPPED members (each must be there, of its kind). */
export function withoutKeys(bytes: Buffer): string {
  const { members } = topLevelMembers(bytes);
  const kept: string[] = [];
  for (const m of members) {
    const first = SKIPPED.get(m.key);
    if (first === undefined) kept.push(`${JSON.stringify(m.key)}:${bytes.toString('utf8', m.valueStart, m.valueEnd)}`);
    else if (bytes[m.valueStart] !== first) throw new Error(`${m.key}: expected ${first === 0x5b ? 'a list' : 'a map'}`);
  }
  for (const key of SKIPPED.keys()) if (!members.some((m) => m.key === key)) throw new Error(`${key}: missing`);
  return `{${kept.join(',')}}`;
}

/**
 * JSON.parse(withoutKeys(bytes)) of a small record, parsed whole: the stepped-over members checked as withoutKeys
 * checks them (their kind, their presence), then left out.
 */
function wholeWithoutKeys(bytes: Buffer): Record<string, unknown> {
  const value: unknown = JSON.parse(bytes.toString('utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('not a JSON object');
  const out: Record<string, unknown> = { ...value };
  for (const key of Object.keys(out)) {
    const first = SKIPPED.get(key);
    if (first === undefined) continue;
    const v = out[key];
    const ok = first === 0x5b ? Array.isArray(v) : typeof v === 'object' && v !== null && !Array.isArray(v);
    if (!ok) throw new Error(`${key}: expected ${first === 0x5b ? 'a list' : 'a map'}`);
    delete out[key];
  }
  for (const key of SKIPPED.keys()) if (!Object.hasOwn(value, key)) throw new Error(`${key}: missing`);
  return out;
}

/**
 * The record's bytes with the top-level member `key` set to `json` (its value's text), every other byte as it
 * was: replaced where it is, else added last.
 */
export function withMember(bytes: Buffer, key: string, json: string): Buffer {
  const { members, end } = topLevelMembers(bytes);
  const at = members.find((m) => m.key === key);
  if (at) return Buffer.concat([bytes.subarray(0, at.valueStart), Buffer.from(json), bytes.subarray(at.valueEnd)]);
  const member = `${members.length ? ',' : ''}${JSON.stringify(key)}:${json}`;
  return Buffer.concat([bytes.subarray(0, end), Buffer.from(member), bytes.subarray(end)]);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return i;
}

/** The index just past the string starting at `i` (its opening quote). */
function skipString(b: Buffer, i: number): number {
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j];
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j + 1;
  }
  throw new SyntaxError('unterminated string');
}

/**
 * Where the containers a skip stepped over end, per buffer: the record's readers step over the same bytes again
 * and again (the top level steps over `manifests`, then each manifest, then each manifest's `entries`, before the
 * entries one at a time), and each pass was a byte loop over the whole record, cold in a CLI process: 22 MB and
 * four passes. Kept: the containers one and two levels below the one skipped (each manifest, its `entries`; the
 * plan's layers), and the lists three below (a plan layer's entries), not the objects there (the entries
 * themselves), at most SHALLOW_ENDS of them: a few hundred in a record, any number of entries.
 */
const shallowEnds = new WeakMap<Buffer, Map<number, number>>();
const SHALLOW_ENDS = 1 << 16;

/** The buffer's known container ends (skipValue's); fetched once per list or object stepped through. */
function endsOf(b: Buffer): Map<number, number> {
  let ends = shallowEnds.get(b);
  if (!ends) shallowEnds.set(b, (ends = new Map()));
  return ends;
}

/** The index just past the value starting at `i`: a string, or an object or list by its brackets, or a scalar. */
function skipValue(b: Buffer, i: number, ends: Map<number, number>): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c !== 0x7b && c !== 0x5b) {
    let j = i;
    while (j < b.length && b[j] !== 0x2c && b[j] !== 0x7d && b[j] !== 0x5d && b[j] !== 0x20 && b[j] !== 0x0a && b[j] !== 0x0d && b[j] !== 0x09) j++;
    if (j === i) throw new SyntaxError('expected a value');
    return j;
  }
  const known = ends.get(i);
  if (known !== undefined) return known;
  // The open containers at depths 1 to 3 (0: the one at i, whose end is returned), by where they start.
  // Made at the first inner container: an entry (none inside) allocates nothing.
  let open: number[] | undefined;
  let depth = 0;
  for (let j = i; j < b.length; j++) {
    const x = b[j];
    if (x === QUOTE) {
      j = skipString(b, j) - 1;
    } else if (x === 0x7b || x === 0x5b) {
      if (depth === 1 || depth === 2 || (depth === 3 && x === 0x5b)) (open ??= [-1, -1, -1, -1])[depth] = j;
      depth++;
    } else if (x === 0x7d || x === 0x5d) {
      --depth;
      if (open && depth <= 3 && open[depth]! >= 0) {
        if (ends.size < SHALLOW_ENDS) ends.set(open[depth]!, j + 1);
        open[depth] = -1;
      }
      if (depth === 0) return j + 1;
    }
  }
  throw new SyntaxError('unbalanced brackets');
}
