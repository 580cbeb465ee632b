// A build record's summary read without its trees' entries: `ls`, `inspect` and `gc` look at every local build
// (tags, time, layers, images) but need no build's entries but the one they show. A 100k-file game's record is
// 22 MB of JSON, 40 MiB once parsed and as much again through the schema; parsing each of several builds whole,
// even one at a time, grew the heap to about 350 MiB before a full collection. The two big values (`manifests`,
// `plan`) are stepped over in the file's bytes (every byte JSON gives meaning to is ASCII, and no byte of a UTF-8
// multi-byte character is), and only the rest is parsed and checked. The stepping is util/json-tokens.ts's (every
// byte checked as JSON.parse would, the values stepped over included).
import { readRecordFileBytes } from './record-file.js';
import { GamelayerError } from '../errors.js';
import { scanValue, JsonTokenizer, type JsonEvents } from '../util/json-tokens.js';
import { buildRecordSchema, parseStored, plannedLayerSchema, treeManifestSchema, type BuildRecord, type PlannedLayer, type TreeManifest } from '../types.js';

export type BuildRecordSummary = Omit<BuildRecord, 'manifests' | 'plan'>;

const summarySchema = buildRecordSchema.omit({ manifests: true, plan: true });
/** Top-level keys stepped over, and the first byte their value must have. */
const SKIPPED = new Map([
  ['manifests', 0x5b], // [
  ['plan', 0x7b], // {
]);

/** A record that is JSON but not a record's shape (`problem` names the field). */
export function recordCorrupt(file: string, problem: string): GamelayerError {
  return new GamelayerError('record.corrupt', `${file}: not a gamelayer scan or build record: ${problem}`, 'delete it and scan or build again');
}

/** A record whose bytes are not JSON. */
export function recordNotJson(file: string): GamelayerError {
  return new GamelayerError('record.corrupt', `${file}: not valid JSON (truncated or corrupt record)`, 'delete it and scan or build again');
}

/** Reads a build record's summary; the errors of `readBuildRecord` for a missing, corrupt or scan record. */
export async function readBuildSummary(file: string): Promise<BuildRecordSummary> {
  const bytes = await readRecordBytes(file);
  return parseBuildSummary(file, bytes);
}

/** A record file's bytes, with the errors `readBuildRecord` gives for a missing or unreadable one. */
export function readRecordBytes(file: string): Promise<Buffer> {
  return readRecordFileBytes(file, (f) => new GamelayerError('record.no-build', `${f}: no build yet, run gamelayer build`));
}

/** A build record's summary from its bytes (`file` names it in errors). */
export function parseBuildSummary(file: string, bytes: Buffer): BuildRecordSummary {
  const corrupt = (problem: string) => recordCorrupt(file, problem);
  const notJson = () => recordNotJson(file);
  let text: string;
  try {
    text = withoutKeys(bytes);
  } catch (e) {
    if (e instanceof SyntaxError) throw notJson();
    throw corrupt((e as Error).message);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw notJson();
  }
  const r = value as { kind?: unknown; schemaVersion?: unknown };
  if (r.kind === 'scan') throw new GamelayerError('record.no-build', `${file}: a scan record, not a build record`, 'run gamelayer build');
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
  let known = outlines.get(bytes);
  if (!known) {
    const found = new Outline(bytes);
    const t = (found.tokenizer = new JsonTokenizer(found, { reportDepth: OBJECT_DEPTH + 1, keyDepth: OBJECT_DEPTH }));
    t.push(bytes);
    t.end();
    outlines.set(bytes, (known = found.spans));
  }
  return known.get(-1) as Members;
}

type Members = { readonly members: readonly MemberSpan[]; readonly end: number };

/**
 * The members of every object down to OBJECT_DEPTH and the elements of every list down to LIST_DEPTH (the
 * top-level object is at 1), by their first byte (the top-level object's under -1), found in the one pass that
 * checks a buffer and kept while it lives. A manifest is at 3 and a plan layer at 4, their lists of entries at 4 and
 * 5: the readers step again only through those lists. On the 1M-entry game a pass is 170 MB; `inspect` made five.
 */
const outlines = new WeakMap<Buffer, Map<number, Members | number[]>>();
const OBJECT_DEPTH = 4;
const LIST_DEPTH = 3;

/** The tokenizer's events that make a buffer's outline. */
class Outline implements JsonEvents {
  readonly spans = new Map<number, Members | number[]>();
  /** The containers open that are outlined, by depth - 1: their first byte, members or elements, the key being read. */
  private readonly frames: { start: number; members?: MemberSpan[]; elements?: number[]; key: string; keyStart: number; valueStart: number }[] = [];
  tokenizer!: JsonTokenizer;

  constructor(private readonly bytes: Buffer) {}

  key(k: string, at: number, _end: number, depth: number): void {
    const f = this.frames[depth - 1]!;
    f.key = k;
    f.keyStart = at;
  }

  open(array: boolean, at: number, depth: number): void {
    if (depth === 1 && array) throw new SyntaxError('not an object');
    if (depth > 1) this.frames[depth - 2]!.valueStart = at;
    if (array ? depth <= LIST_DEPTH : depth <= OBJECT_DEPTH) this.frames[depth - 1] = { start: at, ...(array ? { elements: [] } : { members: [] }), key: '', keyStart: -1, valueStart: -1 };
    // A list deeper than LIST_DEPTH: its elements are not reported (the deeper objects at OBJECT_DEPTH are).
    else if (array && depth === OBJECT_DEPTH) this.tokenizer.reportDepth = depth;
  }

  close(array: boolean, at: number, depth: number): void {
    if (array && depth === OBJECT_DEPTH) this.tokenizer.reportDepth = OBJECT_DEPTH + 1;
    if (array ? depth <= LIST_DEPTH : depth <= OBJECT_DEPTH) {
      const f = this.frames[depth - 1]!;
      if (depth === 1 && this.bytes[at - 1] !== 0x7d) throw new SyntaxError('not an object');
      this.spans.set(depth === 1 ? -1 : f.start, f.elements ?? { members: f.members!, end: at - 1 });
    }
    if (depth > 1) this.child(depth - 1, this.frames[depth - 2]!.valueStart, at);
  }

  scalar(at: number, end: number, depth: number): void {
    if (depth === 1) throw new SyntaxError('not an object');
    this.child(depth - 1, at, end);
  }

  /** A member or element [start, end) of the container at `depth`. */
  private child(depth: number, start: number, end: number): void {
    const f = this.frames[depth - 1]!;
    if (f.elements) f.elements.push(start, end);
    else f.members!.push({ key: f.key, start: f.keyStart, valueStart: start, valueEnd: end });
  }
}

/** The members of the object whose opening brace is at `i`, and the index of its closing brace. */
export function objectMembers(bytes: Buffer, i: number): Members {
  const known = outlines.get(bytes)?.get(i);
  if (known && !Array.isArray(known)) return known;
  const found = new MemberList(bytes);
  scanValue(bytes, i, found, { reportDepth: 2, keyDepth: 1 });
  return found.result();
}

/** The tokenizer's events that collect an object's members (the object at depth 1). */
class MemberList implements JsonEvents {
  private readonly members: MemberSpan[] = [];
  private name = '';
  private start = -1;
  private valueStart = -1;
  private end = -1;

  constructor(private readonly bytes: Buffer) {}

  key(k: string, at: number): void {
    this.name = k;
    this.start = at;
  }

  open(array: boolean, at: number, depth: number): void {
    if (depth === 1 && array) throw new SyntaxError('not an object');
    if (depth === 2) this.valueStart = at;
  }

  close(_array: boolean, at: number, depth: number): void {
    if (depth === 2) this.members.push({ key: this.name, start: this.start, valueStart: this.valueStart, valueEnd: at });
    else this.end = at - 1;
  }

  scalar(at: number, atEnd: number, depth: number): void {
    if (depth === 1) throw new SyntaxError('not an object');
    this.members.push({ key: this.name, start: this.start, valueStart: at, valueEnd: atEnd });
  }

  result(): Members {
    if (this.bytes[this.end] !== 0x7d) throw new SyntaxError('not an object');
    return { members: this.members, end: this.end };
  }
}

/** Calls `each` with the span of every element of the list whose opening bracket is at `i`, in order. */
export function forEachElement(bytes: Buffer, i: number, each: (start: number, end: number) => void): void {
  if (bytes[i] !== 0x5b) throw new SyntaxError('not a list');
  const known = outlines.get(bytes)?.get(i);
  if (Array.isArray(known)) {
    for (let n = 0; n < known.length; n += 2) each(known[n]!, known[n + 1]!);
    return;
  }
  scanValue(bytes, i, new Elements(each), { reportDepth: 2, keyDepth: 0 });
}

/** The tokenizer's events that hand on each element of a list (the list at depth 1). */
class Elements implements JsonEvents {
  private start = -1;

  constructor(private readonly each: (start: number, end: number) => void) {}

  open(_array: boolean, at: number, depth: number): void {
    if (depth === 2) this.start = at;
  }

  close(_array: boolean, at: number, depth: number): void {
    if (depth === 2) this.each(this.start, at);
  }

  scalar(at: number, end: number): void {
    this.each(at, end);
  }
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
}

/** Counts the entries of the list at `i`, one parsed at a time (none held). */
function countEntries(bytes: Buffer, i: number): EntryCounts {
  const c: EntryCounts = { entries: 0, files: 0, bytes: 0 };
  forEachElement(bytes, i, (start, end) => {
    const e = JSON.parse(bytes.toString('utf8', start, end)) as { path?: unknown; type?: unknown; size?: unknown };
    if (c.entries === 0 && typeof e.path === 'string') c.firstPath = e.path;
    c.entries++;
    if (e.type === 'file') c.files++;
    if (typeof e.size === 'number') c.bytes += e.size;
  });
  return c;
}

/** A record as `inspect` shows it: the summary, the trees' and the plan's layers' heads with their entries counted. */
export interface RecordTotals extends BuildRecordSummary {
  trees: (ManifestHead & EntryCounts)[];
  planLayers: (Omit<PlannedLayer, 'entries'> & EntryCounts)[];
}

/** The totals of a record read whole. */
export function totalsOf(record: BuildRecord): RecordTotals {
  const counts = (list: readonly { path: string; type: string; size: number }[]): EntryCounts => ({
    entries: list.length,
    files: list.filter((e) => e.type === 'file').length,
    bytes: list.reduce((s, e) => s + e.size, 0),
    ...(list.length ? { firstPath: list[0]!.path } : {}),
  });
  const { manifests, plan, ...summary } = record;
  return {
    ...summary,
    trees: manifests.map(({ entries, ...head }) => ({ ...head, ...counts(entries) })),
    planLayers: plan.layers.map(({ entries, ...head }) => ({ ...head, ...counts(entries) })),
  };
}

/**
 * The totals of the record in `file`, its entries counted in its bytes one at a time: on a 1M-entry game the
 * record is 170 MB of JSON, which parsed whole took 700 MiB. The heads are checked against the record's schema; the
 * entries only parsed.
 */
export async function readRecordTotals(file: string): Promise<RecordTotals> {
  const bytes = await readRecordBytes(file);
  const summary = parseBuildSummary(file, bytes);
  const corrupt = (problem: string) => recordCorrupt(file, problem);
  try {
    const trees: RecordTotals['trees'] = countedManifests(file, bytes, (list) => countEntries(bytes, list));
    const plan = topLevelMembers(bytes).members.find((m) => m.key === 'plan')!;
    const layers = objectMembers(bytes, plan.valueStart).members.find((m) => m.key === 'layers');
    if (!layers) throw corrupt('plan.layers: missing');
    const planLayers: RecordTotals['planLayers'] = [];
    forEachElement(bytes, layers.valueStart, (start) => {
      const { value, dropped } = parseWithout(bytes, start, 'entries');
      const head = parseStored(plannedLayerHeadSchema, value);
      if (!head.ok) throw corrupt(`plan.layers[${planLayers.length}].${head.problem}`);
      if (!dropped) throw corrupt(`plan.layers[${planLayers.length}].entries: missing`);
      planLayers.push({ ...head.value, ...countEntries(bytes, dropped.valueStart) });
    });
    return { ...summary, trees, planLayers };
  } catch (e) {
    if (e instanceof SyntaxError) throw recordNotJson(file);
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
    if (e instanceof SyntaxError) throw recordNotJson(file);
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
