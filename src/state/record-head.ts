// What a local build record's head says: when its build was made (`createdAt`: what orders the records,
// recorded-layers.ts picks the newest few; the file's modification time does not: noting a push rewrites an old
// record, which then passed for the newest), of which game, into which store and under which tag (record-name.ts
// and markPushed judge whose a record is by these, without reading the rest: a 1M-entry game's record is 170 MB).
import { closeSync, readSync } from 'node:fs';
import { JsonTokenizer } from '../util/json-tokens.js';
import { openRegularFileSyncOrNone } from '../util/small-file.js';

/**
 * Bytes of a record's head that are read. The writers put `kind` and `store` first (records.ts, `localRecord`;
 * records written before stop 48 have `store` last), then `schemaVersion`, `game`, `version`, `createdAt` and `tags`
 * (the config bounds the names to a few hundred characters), so they lie well inside; a record is never read further.
 */
const HEAD_BYTES = 4096;

/** What a record's head tells; each member undefined where the head does not hold it whole. */
export interface RecordHead {
  /** When its build was made, ms since the epoch. */
  createdMs?: number;
  game?: string;
  /** The store its images went to (`store`), as the record names it. */
  store?: string;
  /** Its first tag (the build's own). */
  tag?: string;
}

/** What the head says (`RecordHead`): nothing of a file that is not a regular file or cannot be read. */
export function recordHead(file: string): RecordHead {
  // Not waited on when a FIFO is named like a record: refused by its kind (record-file.ts).
  const opened = openRegularFileSyncOrNone(file);
  if (!opened) return {};
  try {
    return recordHeadAt(opened.fd);
  } finally {
    closeSync(opened.fd);
  }
}

/** Whether two heads are of one build: the same first tag and creation time, both known (a pointer is its copy). */
export function sameBuildHead(a: RecordHead, b: RecordHead): boolean {
  return a.tag !== undefined && a.createdMs !== undefined && a.tag === b.tag && a.createdMs === b.createdMs;
}

/** `recordHead` of a record file already open (a reader that goes on reading it through the same descriptor). */
export function recordHeadAt(fd: number): RecordHead {
  try {
    const head = Buffer.allocUnsafe(HEAD_BYTES);
    const found = membersIn(head.subarray(0, readSync(fd, head, 0, HEAD_BYTES, 0)));
    const ms = typeof found.createdAt === 'string' ? Date.parse(found.createdAt) : NaN;
    return {
      ...(Number.isNaN(ms) ? {} : { createdMs: ms }),
      ...(typeof found.game === 'string' ? { game: found.game } : {}),
      ...(typeof found.store === 'string' ? { store: found.store } : {}),
      ...(typeof found.tag === 'string' ? { tag: found.tag } : {}),
    };
  } catch {
    return {};
  }
}

const MEMBERS = new Set(['createdAt', 'game', 'store']);

/**
 * The top-level `createdAt`, `game` and `store` members and the first element of `tags` in the first bytes of a JSON
 * object (the rest of it is not there).
 */
function membersIn(head: Buffer): { createdAt?: unknown; game?: unknown; store?: unknown; tag?: unknown } {
  let key = '';
  const found: { createdAt?: unknown; game?: unknown; store?: unknown; tag?: unknown } = {};
  const take = (name: keyof typeof found, start: number, end: number) => {
    if (!(name in found)) found[name] = JSON.parse(head.toString('utf8', start, end));
  };
  const t = new JsonTokenizer(
    {
      key: (k) => (key = k),
      scalar: (start, end, depth) => {
        if (depth === 2 && MEMBERS.has(key)) take(key as keyof typeof found, start, end);
        else if (depth === 3 && key === 'tags') take('tag', start, end);
      },
    },
    { reportDepth: 3, keyDepth: 1 },
  );
  try {
    t.push(head, 0, head.length);
  } catch {
    // Bytes that are not JSON: whatever was found before them stands, as a record's reader will judge the rest.
  }
  return found;
}
