// A large record file parsed without its bytes held whole (issue 17 item 2): the 1M-entry game's record is 172 MB
// of JSON, and as one Buffer beside the scan it was the largest thing an incremental build held. The file is read
// twice, a MiB at a time. The first read finds the lists of entries (`manifests[i].entries`,
// `plan.layers[j].entries`), notes where each lies, how many elements it has and its digest, and copies the rest of
// the record (a few KB) as text, each such list written `[]`. The second read parses each list a few thousand
// elements at a time into a packed store (record-parse.ts `packedAt`), or into objects when it is small or the store
// would not give it back exactly; a layer's list whose bytes are a manifest's is that manifest's list. Then the
// rest is parsed and each list put in its place. The value is what JSON.parse gives, but for identity; invalid JSON
// is a SyntaxError. A record with a key twice where a list is looked for is read the plain way (`undefined`).
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { packedStoreOf } from '../entries/packed-list.js';
import { packedFromBatches } from './record-parse.js';

/** Elements parsed in one JSON.parse, and bytes read at a time. Settable for tests (small ones cross every boundary). */
export const streamRead = { batch: 4096, chunk: 1 << 20 };

interface ListSpan {
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

class Duplicate extends Error {}

/** The record at `file`, or undefined when it has a key twice where lists are looked for. */
export function parseRecordFile(file: string, minPacked: number): unknown {
  const fd = openSync(file, 'r');
  try {
    const { skeleton, lists } = firstRead(fd);
    const value = JSON.parse(skeleton) as Record<string, unknown>;
    // A manifest's packed list by its bytes' digest: a layer whose bytes are the same is that list (read-only).
    const made = new Map<string, unknown[]>();
    for (const l of lists) {
      const same = made.get(l.digest);
      const list = same ?? readList(fd, l, minPacked);
      if (!same && l.kind === 'm' && packedStoreOf(list)) made.set(l.digest, list);
      put(value, l, list);
    }
    return value;
  } catch (e) {
    if (e instanceof Duplicate) return undefined;
    throw e;
  } finally {
    closeSync(fd);
  }
}

function put(value: Record<string, unknown>, l: ListSpan, list: unknown[]): void {
  const holders = l.kind === 'm' ? value.manifests : (value.plan as Record<string, unknown>).layers;
  (holders as Record<string, unknown>[])[l.index]!.entries = list;
}

/** The list's elements: packed when at least `minPacked` and the store gives them back exactly, else objects. */
function readList(fd: number, l: ListSpan, minPacked: number): unknown[] {
  if (l.count === 0) return [];
  function* batches(): Generator<unknown[]> {
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
  const packed = l.count >= minPacked ? packedFromBatches(batches()) : undefined;
  if (packed) return packed;
  const out: unknown[] = [];
  for (const elements of batches()) for (const e of elements) out.push(e);
  return out;
}

const SPACE = new Uint8Array(256);
for (const c of [0x20, 0x0a, 0x0d, 0x09]) SPACE[c] = 1;

/**
 * The first read: the record's text but its lists of entries (each `[]`), and where those lie. Only the structure
 * is followed (brackets, strings, commas); the text is checked by JSON.parse afterwards, each list's elements a
 * batch at a time.
 */
function firstRead(fd: number): { skeleton: string; lists: ListSpan[] } {
  const kept: Buffer[] = [];
  const lists: ListSpan[] = [];
  const stack: Frame[] = [];
  const chunk = streamRead.chunk;
  const buf = Buffer.allocUnsafe(chunk);
  let pos = 0;
  let inString = false;
  let escaped = false;
  /** The bytes of a string that may be a key (in an object where lists are looked for), while it is read. */
  let keyBytes: number[] | undefined;
  let lastKey: string | undefined;
  /** The list being read, its frame's depth, its digest, where its current batch starts, and whether its current element has any byte. */
  let list: ListSpan | undefined;
  let listDepth = -1;
  let digest: Hash | undefined;
  let batchStart = 0;
  let content = false;
  for (;;) {
    const n = readSync(fd, buf, 0, chunk, pos);
    if (n === 0) break;
    let keepFrom = 0;
    for (let i = 0; i < n; i++) {
      const c = buf[i]!;
      if (inString) {
        if (keyBytes) keyBytes.push(c);
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) {
          inString = false;
          if (keyBytes) {
            lastKey = JSON.parse(Buffer.from(keyBytes).toString('utf8')) as string;
            keyBytes = undefined;
          }
        }
        continue;
      }
      if (SPACE[c]) continue;
      if (list && stack.length === listDepth) {
        // At the list's own level: a comma ends an element, `]` the list; anything else is an element's.
        if (c === 0x2c || c === 0x5d) {
          const at = pos + i;
          if (c === 0x2c || content || list.count > 0) {
            list.count++;
            if (c === 0x5d || list.count % streamRead.batch === 0) {
              list.batches.push(batchStart, at);
              batchStart = at + 1;
            }
          }
          content = false;
          if (c === 0x2c) continue;
          digest!.update(buf.subarray(keepFrom, i));
          list.bytes += i - keepFrom;
          list.digest = digest!.digest('hex');
          list = undefined;
          stack.pop();
          keepFrom = i;
          continue;
        }
        content = true;
      }
      const top = stack[stack.length - 1];
      if (c === 0x22) {
        inString = true;
        if (!list && top && !top.array && top.key === undefined && top.place !== Place.Other) keyBytes = [c];
      } else if (c === 0x3a) {
        if (!list && top && !top.array) {
          if (top.place !== Place.Other && lastKey !== undefined) {
            if (top.keys!.has(lastKey)) throw new Duplicate();
            top.keys!.add(lastKey);
          }
          top.key = lastKey ?? '';
          lastKey = undefined;
        }
      } else if (c === 0x2c) {
        if (top?.array) top.index++;
        else if (top) top.key = undefined;
      } else if (c === 0x7b || c === 0x5b) {
        const array = c === 0x5b;
        const place = list ? Place.Other : placeOf(top, array);
        stack.push({ place, array, index: 0, ...(array ? {} : { keys: new Set<string>() }) });
        if (place === Place.Entries) {
          list = { kind: stack[stack.length - 2]!.place === Place.Manifest ? 'm' : 'l', index: stack[stack.length - 3]!.index, batches: [], count: 0, bytes: 0, digest: '' };
          lists.push(list);
          listDepth = stack.length;
          digest = createHash('sha256');
          kept.push(Buffer.from(buf.subarray(keepFrom, i + 1)));
          keepFrom = i + 1;
          batchStart = pos + i + 1;
          content = false;
        }
      } else if (c === 0x7d || c === 0x5d) {
        stack.pop();
      }
    }
    if (list) {
      digest!.update(buf.subarray(keepFrom, n));
      list.bytes += n - keepFrom;
    } else kept.push(Buffer.from(buf.subarray(keepFrom, n)));
    pos += n;
  }
  if (list || inString) throw new SyntaxError('the record ends inside a value');
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
