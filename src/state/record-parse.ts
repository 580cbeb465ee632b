// A record's JSON parsed from its bytes with each plan layer's entries shared with its tree's manifest: a build
// record lists every entry twice (the manifests, the plan's layers), and JSON.parse made two objects of each, beside
// the record's whole text as one string. A 100k-file game's previous record held 50 MiB through the build so, 17
// MiB this way; a 1M-entry game's about ten times that. The value is what JSON.parse gives (the same keys, in the same
// order, the same values), but for identity: a plan entry whose bytes are those of its manifest's entry is that
// object. Every value is still parsed by JSON.parse (a piece at a time), so invalid JSON is a SyntaxError.
//
// A large list of entries (`packedRecord.minEntries`, the 1M-entry game's) is not made into objects at all: its
// elements are parsed a few thousand at a time into a packed store (src/entries/packed-entries.ts, about 35 bytes an
// entry instead of an object and its strings, about 150) and read through a list view (`packedList`); a plan
// layer whose entries are byte for byte its manifest's is that same list. A list the store would not give back
// exactly (keys in another order, an odd path or mode) is parsed into objects as before.
//
// A small record (below `wholeParse.maxBytes`, 1 MiB: record-summary.ts) is parsed by JSON.parse whole: sharing saves
// little there, and the walk's byte loops, cold in a CLI process, cost ten times JSON.parse's CPU.
import { PackedEntries } from '../entries/packed-entries.js';
import { packedList } from '../entries/packed-list.js';
import { isFileEntry, type FileEntry } from '../types.js';
import { forEachElement, listInner, objectMembers, topLevelMembers, valueEnd, wholeParse } from './record-summary.js';

type Json = Record<string, unknown>;

/**
 * Lists of entries from which a record's are held packed rather than as objects. Above the 100k-file bench game's
 * largest tree (62k entries: its planning reads objects, which cost less CPU than the list view's reads). Settable
 * for tests.
 */
export const packedRecord = {
  minEntries: 131_072,
  /**
   * A plan layer of a tree whose manifest is packed is packed from this many entries: a removal's patch on a 1M-entry
   * tree (100k whiteouts) was 13 MiB of objects beside the stores, in every build planned on that record (stop 42).
   */
  minLayerEntries: 16_384,
};

/** Elements parsed in one JSON.parse while packing: few enough that their objects die young. */
const PACK_BATCH = 4096;

/** One tree's manifest entries and where each lies in the bytes; a packed list is matched by its whole span. */
type ParsedList =
  | { entries: { path?: unknown }[]; starts: number[]; ends: number[]; packed?: undefined }
  | { packed: FileEntry[]; start: number; end: number };

/**
 * JSON.parse of a record's bytes (any JSON: what is not a record with manifests and a plan is parsed as it is); a
 * record below wholeParse.maxBytes by JSON.parse itself.
 */
export function parseRecordBytes(bytes: Buffer): unknown {
  if (bytes.length < wholeParse.maxBytes) return JSON.parse(bytes.toString('utf8'));
  let top: ReturnType<typeof topLevelMembers>;
  try {
    top = topLevelMembers(bytes);
  } catch {
    return JSON.parse(bytes.toString('utf8'));
  }
  const lists: { tree: unknown; platform: unknown; list: ParsedList }[] = [];
  return objectAt(bytes, top.members, (key, valueStart, valueEnd) => {
    if (key === 'manifests' && bytes[valueStart] === 0x5b) return listAt(bytes, valueStart, (start, end) => manifestAt(bytes, start, end, lists));
    if (key === 'plan' && bytes[valueStart] === 0x7b) return planAt(bytes, valueStart, lists);
    return JSON.parse(bytes.toString('utf8', valueStart, valueEnd));
  });
}

/** The object whose members are `members`, each value made by `value`. */
function objectAt(bytes: Buffer, members: ReturnType<typeof objectMembers>['members'], value: (key: string, start: number, end: number) => unknown): Json {
  const out: Json = {};
  for (const m of members) {
    const v = value(m.key, m.valueStart, m.valueEnd);
    // JSON.parse makes "__proto__" an own member; an assignment would set the prototype.
    if (m.key === '__proto__') Object.defineProperty(out, m.key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[m.key] = v;
  }
  return out;
}

function listAt(bytes: Buffer, start: number, element: (start: number, end: number) => unknown): unknown[] {
  const out: unknown[] = [];
  forEachElement(bytes, start, (s, e) => out.push(element(s, e)));
  return out;
}

/** A manifest, its entries parsed in one piece (or packed) and their spans noted for the plan's layers. */
function manifestAt(bytes: Buffer, start: number, end: number, lists: { tree: unknown; platform: unknown; list: ParsedList }[]): unknown {
  if (bytes[start] !== 0x7b) return JSON.parse(bytes.toString('utf8', start, end));
  let list: ParsedList | undefined;
  const m = objectAt(bytes, objectMembers(bytes, start).members, (key, s, e) => {
    if (key !== 'entries' || bytes[s] !== 0x5b) return JSON.parse(bytes.toString('utf8', s, e));
    const starts: number[] = [];
    const ends: number[] = [];
    forEachElement(bytes, s, (a, b) => {
      starts.push(a);
      ends.push(b);
    });
    const packed = starts.length >= packedRecord.minEntries ? packedAt(bytes, starts, ends) : undefined;
    if (packed) {
      list = { packed, start: s, end: e };
      return packed;
    }
    const v = JSON.parse(bytes.toString('utf8', s, e)) as { path?: unknown }[];
    list = { entries: v, starts, ends };
    return v;
  });
  if (list) lists.push({ tree: m.tree, platform: m.platform, list });
  return m;
}

/**
 * The elements at these spans in a packed store, as its list view; undefined when some element is not an entry the
 * store gives back as JSON.parse made it (the caller then parses the list into objects).
 */
function packedAt(bytes: Buffer, starts: readonly number[], ends: readonly number[]): FileEntry[] | undefined {
  function* batches(): Generator<unknown[]> {
    for (let from = 0; from < starts.length; from += PACK_BATCH) {
      const to = Math.min(starts.length, from + PACK_BATCH);
      yield JSON.parse(`[${bytes.toString('utf8', starts[from]!, ends[to - 1]!)}]`) as unknown[];
    }
  }
  return packedFromBatches(batches(), starts.length);
}

/**
 * Elements, a batch at a time, in a packed store, as its list view; undefined as soon as one is not packable. `count`:
 * how many there are (the store takes its room at once).
 */
export function packedFromBatches(batches: Iterable<unknown[]>, count = 0): FileEntry[] | undefined {
  const store = new PackedEntries().reserve(count);
  for (const batch of batches) {
    for (const e of batch) {
      if (!packable(e)) return undefined;
      store.append(e);
    }
  }
  return packedList(store.seal());
}

/**
 * Whether the store gives this value back exactly: an entry (isFileEntry) with the store's keys in its order (path,
 * type, mode, size, then xxh64 and linkTarget when present, nothing else), a mode its 16 bits hold, a path that
 * does not start with "/" (the store splits it at its last "/") and whose text survives UTF-8.
 */
function packable(e: unknown): e is FileEntry {
  if (!isFileEntry(e)) return false;
  const keys = Object.keys(e);
  if (keys.length < 4 || keys.length > 6 || keys[0] !== 'path' || keys[1] !== 'type' || keys[2] !== 'mode' || keys[3] !== 'size') return false;
  let k = 4;
  if (keys[k] === 'xxh64') k++;
  if (keys[k] === 'linkTarget') k++;
  if (k !== keys.length) return false;
  if (!Number.isInteger(e.mode) || e.mode < 0 || e.mode > 0xffff || Object.is(e.mode, -0)) return false;
  if (e.path.charCodeAt(0) === 47) return false;
  return (e.path as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function planAt(bytes: Buffer, start: number, lists: { tree: unknown; platform: unknown; list: ParsedList }[]): unknown {
  return objectAt(bytes, objectMembers(bytes, start).members, (key, s, e) => {
    if (key !== 'layers' || bytes[s] !== 0x5b) return JSON.parse(bytes.toString('utf8', s, e));
    return listAt(bytes, s, (ls, le) => {
      if (bytes[ls] !== 0x7b) return JSON.parse(bytes.toString('utf8', ls, le));
      const members = objectMembers(bytes, ls).members;
      const head = (k: string): unknown => {
        const m = members.find((x) => x.key === k);
        return m ? JSON.parse(bytes.toString('utf8', m.valueStart, m.valueEnd)) : undefined;
      };
      const tree = head('tree');
      const platform = head('platform');
      // The layer's tree as recordedTrees (plan/incremental.ts) finds it: the tree's manifest for that platform.
      const list = lists.find((x) => x.tree === tree && (x.platform === undefined || x.platform === platform))?.list;
      return objectAt(bytes, members, (k, vs, ve) => {
        if (k !== 'entries' || bytes[vs] !== 0x5b) return JSON.parse(bytes.toString('utf8', vs, ve));
        if (list?.packed) return layerOfPacked(bytes, vs, ve, list);
        return list ? sharedEntries(bytes, vs, list) : JSON.parse(bytes.toString('utf8', vs, ve));
      });
    });
  });
}

/**
 * A plan layer's entries beside a packed manifest: that very list when its bytes are the manifest's (a tree in one
 * layer), a store of its own when large, else objects.
 */
function layerOfPacked(bytes: Buffer, start: number, end: number, list: { packed: FileEntry[]; start: number; end: number }): unknown {
  if (end - start === list.end - list.start && bytes.compare(bytes, list.start, list.end, start, end) === 0) return list.packed;
  const starts: number[] = [];
  const ends: number[] = [];
  forEachElement(bytes, start, (a, b) => {
    starts.push(a);
    ends.push(b);
  });
  return (starts.length >= Math.min(packedRecord.minEntries, packedRecord.minLayerEntries) ? packedAt(bytes, starts, ends) : undefined) ?? JSON.parse(bytes.toString('utf8', start, end));
}

/** A plan layer's entries: each one whose bytes are a manifest entry's is that entry; the rest parsed. */
function sharedEntries(bytes: Buffer, start: number, list: Extract<ParsedList, { starts: number[] }>): unknown[] {
  const run = sharedRun(bytes, start, list);
  if (run) return run;
  const out: unknown[] = [];
  // Layers hold their entries in path order, a run of the manifest's (or a few changed ones): the next candidate
  // is just past the last one found.
  let next = 0;
  const same = (j: number, s: number, e: number) => j >= 0 && j < list.starts.length && list.ends[j]! - list.starts[j]! === e - s && bytes.compare(bytes, list.starts[j]!, list.ends[j]!, s, e) === 0;
  forEachElement(bytes, start, (s, e) => {
    if (same(next, s, e)) {
      out.push(list.entries[next++]);
      return;
    }
    const parsed = JSON.parse(bytes.toString('utf8', s, e)) as { path?: unknown };
    const j = typeof parsed.path === 'string' ? findPath(list.entries, parsed.path) : -1;
    if (same(j, s, e)) {
      out.push(list.entries[j]);
      next = j + 1;
    } else out.push(parsed);
  });
  return out;
}

/**
 * A plan layer's entries when its list's text is, byte for byte, a run of the manifest's entries (a tree in one
 * layer, or one layer of a tree split by size): those entries, found without stepping through the layer's entries
 * one at a time (the same text splits into the same elements). undefined: not such a run (stepped through then).
 * At 100k files the step was a pass of a JS loop over 11 MB, cold in every CLI process (bench/README.md, "The no-op
 * at 100k files").
 */
function sharedRun(bytes: Buffer, start: number, list: Extract<ParsedList, { starts: number[] }>): unknown[] | undefined {
  const inner = listInner(bytes, start);
  if (!inner || list.starts.length === 0) return undefined;
  const firstEnd = valueEnd(bytes, inner.start);
  const parsed = JSON.parse(bytes.toString('utf8', inner.start, firstEnd)) as { path?: unknown };
  const a = typeof parsed?.path === 'string' ? findPath(list.entries, parsed.path) : -1;
  if (a < 0) return undefined;
  const to = list.starts[a]! + (inner.end - inner.start);
  const b = findEnd(list.ends, to, a);
  if (b < 0 || bytes.compare(bytes, list.starts[a]!, to, inner.start, inner.end) !== 0) return undefined;
  return list.entries.slice(a, b + 1);
}

/** The index of `end` in sorted `ends` at or after `from` (-1: none). */
function findEnd(ends: readonly number[], end: number, from: number): number {
  let lo = from;
  let hi = ends.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (ends[mid] === end) return mid;
    if (ends[mid]! < end) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The index of the entry with this path in a list sorted by path (-1: none; an order JS strings disagree with only misses). */
function findPath(entries: { path?: unknown }[], path: string): number {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const p = entries[mid]!.path;
    if (typeof p !== 'string') return -1;
    if (p === path) return mid;
    if (p < path) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
