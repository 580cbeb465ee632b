// When a local build record's build was made, from the record itself (`createdAt`), read from the head of its file:
// what orders the records (recorded-layers.ts picks the newest few). The file's modification time does not: noting a
// push rewrites an old record, which then passed for the newest.
import { closeSync, readSync } from 'node:fs';
import { JsonTokenizer } from '../util/json-tokens.js';
import { openRegularFileSyncOrNone } from '../util/small-file.js';

/**
 * Bytes of a record's head that are read. The writers put `createdAt` after `schemaVersion`, `game` and `version`
 * (the config bounds both names to a few hundred characters), so it lies well inside; a record is never read further.
 */
const HEAD_BYTES = 4096;

/** What a record's head tells: when its build was made (ms since the epoch) and of which game. */
export interface RecordHead {
  createdMs?: number;
  game?: string;
}


/**
 * The record's `createdAt` (as milliseconds) and `game`, each undefined where the head does not hold it (or the file
 * is not a regular file, or cannot be read).
 */
export function recordHead(file: string): RecordHead {
  // Not waited on when a FIFO is named like a record: refused by its kind (record-file.ts).
  const opened = openRegularFileSyncOrNone(file);
  if (!opened) return {};
  try {
    const head = Buffer.allocUnsafe(HEAD_BYTES);
    const found = membersIn(head.subarray(0, readSync(opened.fd, head, 0, HEAD_BYTES, 0)));
    const ms = typeof found.createdAt === 'string' ? Date.parse(found.createdAt) : NaN;
    return { ...(Number.isNaN(ms) ? {} : { createdMs: ms }), ...(typeof found.game === 'string' ? { game: found.game } : {}) };
  } catch {
    return {};
  } finally {
    closeSync(opened.fd);
  }
}

/** The top-level `createdAt` and `game` members in the first bytes of a JSON object (the rest of it is not there). */
function membersIn(head: Buffer): { createdAt?: unknown; game?: unknown } {
  let key = '';
  const found: { createdAt?: unknown; game?: unknown } = {};
  const t = new JsonTokenizer(
    {
      key: (k) => (key = k),
      scalar: (start, end, depth) => {
        if (depth === 2 && (key === 'createdAt' || key === 'game') && !(key in found)) found[key] = JSON.parse(head.toString('utf8', start, end));
      },
    },
    { reportDepth: 2, keyDepth: 1 },
  );
  try {
    t.push(head, 0, head.length);
  } catch {
    // Bytes that are not JSON: whatever was found before them stands, as a record's reader will judge the rest.
  }
  return found;
}
