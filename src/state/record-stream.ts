// A large record file parsed without its bytes held whole (issue 17 item 2): the 1M-entry game's record is 172 MB
// of JSON, and as one Buffer beside the scan it was the largest thing an incremental build held. The file is read
// twice, a MiB at a time. The first read finds the lists of entries (`manifests[i].entries`,
// `plan.layers[j].entries`), notes where each lies, how many elements it has and its digest, and copies the rest of
// the record (a few KB) as text, each such list written `[]`. The second read parses each list a few thousand
// elements at a time into a packed store (record-parse.ts `packedAt`), or into objects when it is small or the store
// would not give it back exactly; a layer's list whose bytes are a manifest's is that manifest's list. Then the
// rest is parsed and each list put in its place. The value is what JSON.parse gives, but for identity; invalid JSON
// is a SyntaxError (the first read tokenizes through util/json-tokens.ts). A record with a key twice where a list
// is looked for is read the plain way (`undefined`).
import { createHash, type Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import { packedStoreOf } from '../entries/packed-list.js';
import { JsonTokenizer } from '../util/json-tokens.js';
import { packedFromBatches } from './record-parse.js';

/** Elements parsed in one JSON.parse, and bytes read at a time. Settable for tests (small ones cross every boundary). */
export const streamRead = { batch: 4096, chunk: 1 << 20 };

export interface ListSpan {
  /** Where in the record: a manifest's (`m`) or a plan layer's (`l`), and its index in that list. */
  kind: 'm' | 'l';
  index: number;
  /** File offsets of each batch of elements: from its first element's first byte to its last one's end. */
  batches: number[];
  count: number;
  bytes: number;
  /** The list's bytes (between its brackets) as `sha256` hex. */
  digest: string;
}

/** Where a container lies in the record, as far as lists of entries are concerned. */
const enum Place {
  Other,
  Top,
  Manifests,
  Manifest,
  Plan,
  Layers,
  Layer,
  Entries,
}

interface Frame {
  place: Place;
  array: boolean;
  /** Elements seen so far (arrays). */
  index: number;
  /** The key of the member being read (objects), once its ':' is seen. */
  key?: string;
  keys?: Set<string>;
}

/** A key twice where lists of entries are looked for (`recordLists`): such a record is read the plain way. */
export class Duplicate extends Error {}

/**
 * The record in the open file `fd`, or undefined when it has a key twice where lists are looked for. Lists of
 * `minPacked` entries or more are packed; a plan layer's of a tree whose manifest was packed from `minBeside` on.
 */
export function parseRecordFile(fd: number, minPacked: number, minBeside = minPacked): unknown {
  try {
    const { skeleton, lists } = recordLists(fd);
    const value = JSON.parse(skeleton) as Record<string, unknown>;
    // A manifest's packed list by its bytes' digest: a layer whose bytes are the same is that list (read-only).
    const made = new Map<string, unknown[]>();
    /** Trees with a packed manifest (the manifests come before the plan in a record gamelayer writes). */
    const packedTrees = new Set<unknown>();
    for (const l of lists) {
      const same = made.get(l.digest);
      const beside = l.kind === 'l' && packedTrees.has(holderOf(value, l).tree);
      const list = same ?? readList(fd, l, beside ? Math.min(minPacked, minBeside) : minPacked);
      if (!same && l.kind === 'm' && packedStoreOf(list)) {
        made.set(l.digest, list);
        packedTrees.add(holderOf(value, l).tree);
      }
      put(value, l, list);
    }
    return value;
  } catch (e) {
    if (e instanceof Duplicate) return undefined;
    throw e;
  }
}

function holderOf(value: Record<string, unknown>, l: ListSpan): Record<string, unknown> {
  const holders = l.kind === 'm' ? value.manifests : (value.plan as Record<string, unknown>).layers;
  return (holders as Record<string, unknown>[])[l.index]!;
}

function put(value: Record<string, unknown>, l: ListSpan, list: unknown[]): void {
  holderOf(value, l).entries = list;
}

/** The list's elements: packed when at least `minPacked` and the store gives them back exactly, else objects. */
function readList(fd: number, l: ListSpan, minPacked: number): unknown[] {
  if (l.count === 0) return [];
  const packed = l.count >= minPacked ? packedFromBatches(listBatches(fd, l), l.count) : undefined;
  if (packed) return packed;
  const out: unknown[] = [];
  for (const elements of listBatches(fd, l)) for (const e of elements) out.push(e);
  return out;
}

/** The list's elements read from the file `streamRead.batch` at a time, each batch parsed by one JSON.parse. */
export function* listBatches(fd: number, l: ListSpan): Generator<unknown[]> {
  for (let b = 0; b < l.batches.length; b += 2) {
    const start = l.batches[b]!;
    const buf = Buffer.allocUnsafe(l.batches[b + 1]! - start);
    for (let got = 0; got < buf.length; ) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) throw new SyntaxError('the record changed while it was read');
      got += n;
    }
    const elements = JSON.parse(`[${buf.toString('utf8')}]`) as unknown[];
    // A blank element (`[1,,2]`, `[1,]`) is one element fewer than the commas say, or a SyntaxError.
    const want = b + 2 < l.batches.length ? streamRead.batch : l.count - (l.batches.length / 2 - 1) * streamRead.batch;
    if (elements.length !== want) throw new SyntaxError('an empty element in a list');
    yield elements;
  }
}

/** Depth of the deepest container looked at outside a list of entries: a plan layer's `entries` (top 1, plan 2, layers 3, layer 4). */
const LOOKED_AT = 5;

/**
 * The first read: the record's text but its lists of entries (each `[]`), and where those lie. The bytes are
 * tokenized (util/json-tokens.ts, which checks them as JSON.parse would); only the containers down to a list of
 * entries and that list's elements are reported, and each list's elements are parsed a batch at a time afterwards.
 */
export function recordLists(fd: number): { skeleton: string; lists: ListSpan[] } {
  const kept: Buffer[] = [];
  const lists: ListSpan[] = [];
  const stack: Frame[] = [];
  /** The list being read, its depth, its digest, its current batch's first byte and its current element's. */
  let list: ListSpan | undefined;
  let listDepth = -1;
  let digest: Hash | undefined;
  let batchStart = -1;
  let elementStart = -1;
  let lastEnd = -1;
  /** The first byte of the record not yet kept (outside a list) or hashed (inside one). */
  let keepFrom = 0;
  const t = new JsonTokenizer(
    {
      key: (key, _start, _end, depth) => {
        const top = stack[depth - 1]!;
        if (top.place === Place.Other) return;
        if (top.keys!.has(key)) throw new Duplicate();
        top.keys!.add(key);
        top.key = key;
      },
      open: (array, start, depth) => {
        if (list) {
          elementStart = start;
          return;
        }
        const parent = stack[depth - 2];
        if (parent?.array) parent.index++;
        const place = placeOf(parent, array);
        stack[depth - 1] = { place, array, index: -1, ...(array ? {} : { keys: new Set<string>() }) };
        stack.length = depth;
        if (place === Place.Entries) {
          list = { kind: stack[depth - 2]!.place === Place.Manifest ? 'm' : 'l', index: stack[depth - 3]!.index, batches: [], count: 0, bytes: 0, digest: '' };
          lists.push(list);
          listDepth = depth;
          digest = createHash('sha256');
          kept.push(Buffer.from(t.chunk.subarray(keepFrom - t.chunkBase, start + 1 - t.chunkBase)));
          keepFrom = start + 1;
          t.reportDepth = depth + 1;
        }
      },
      close: (_array, end, depth) => {
        if (!list) return;
        if (depth > listDepth) element(end);
        else {
          // The list's bytes between its brackets are hashed; its `]` is kept.
          const at = end - 1 - t.chunkBase;
          digest!.update(t.chunk.subarray(keepFrom - t.chunkBase, at));
          list.bytes += end - 1 - keepFrom;
          if (list.count % streamRead.batch !== 0) list.batches.push(batchStart, lastEnd);
          list.digest = digest!.digest('hex');
          list = undefined;
          keepFrom = end - 1;
          t.reportDepth = LOOKED_AT;
        }
      },
      scalar: (start, end, depth) => {
        if (list && depth > listDepth) {
          elementStart = start;
          element(end);
        } else if (!list) {
          const parent = stack[depth - 2];
          if (parent?.array) parent.index++;
        }
      },
    },
    { reportDepth: LOOKED_AT, keyDepth: LOOKED_AT - 1 },
  );
  /** An element of the list ended at `end`: counted, and a batch closed every `streamRead.batch`. */
  function element(end: number): void {
    const l = list!;
    if (l.count % streamRead.batch === 0) batchStart = elementStart;
    l.count++;
    lastEnd = end;
    if (l.count % streamRead.batch === 0) l.batches.push(batchStart, end);
  }
  const chunk = streamRead.chunk;
  const buf = Buffer.allocUnsafe(chunk);
  for (;;) {
    const n = readSync(fd, buf, 0, chunk, t.offset);
    if (n === 0) break;
    const base = t.offset;
    t.push(buf, 0, n);
    if (list) {
      digest!.update(buf.subarray(keepFrom - base, n));
      list.bytes += base + n - keepFrom;
    } else kept.push(Buffer.from(buf.subarray(keepFrom - base, n)));
    keepFrom = base + n;
  }
  t.end();
  return { skeleton: Buffer.concat(kept).toString('utf8'), lists };
}

/** What a container opened inside `parent` (as its current member or element) is. */
function placeOf(parent: Frame | undefined, array: boolean): Place {
  if (!parent) return array ? Place.Other : Place.Top;
  if (parent.array) {
    if (parent.place === Place.Manifests && !array) return Place.Manifest;
    if (parent.place === Place.Layers && !array) return Place.Layer;
    return Place.Other;
  }
  const key = parent.key;
  if (parent.place === Place.Top && key === 'manifests' && array) return Place.Manifests;
  if (parent.place === Place.Top && key === 'plan' && !array) return Place.Plan;
  if (parent.place === Place.Plan && key === 'layers' && array) return Place.Layers;
  if ((parent.place === Place.Manifest || parent.place === Place.Layer) && key === 'entries' && array) return Place.Entries;
  return Place.Other;
}
