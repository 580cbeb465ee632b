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

/**
 * The record's `createdAt` as milliseconds since the epoch; undefined for a file that is not a regular file, cannot
 * be read, or whose head holds no such top-level member with a date.
 */
export function recordCreatedMs(file: string): number | undefined {
  // Not waited on when a FIFO is named like a record: refused by its kind (record-file.ts).
  const opened = openRegularFileSyncOrNone(file);
  if (!opened) return undefined;
  try {
    const head = Buffer.allocUnsafe(HEAD_BYTES);
    const text = createdAtIn(head.subarray(0, readSync(opened.fd, head, 0, HEAD_BYTES, 0)));
    const ms = text === undefined ? NaN : Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  } catch {
    return undefined;
  } finally {
    closeSync(opened.fd);
  }
}

/** The top-level `createdAt` string in the first bytes of a JSON object (the rest of it is not there). */
function createdAtIn(head: Buffer): string | undefined {
  let key = '';
  let found: unknown;
  const t = new JsonTokenizer(
    {
      key: (k) => (key = k),
      scalar: (start, end, depth) => {
        if (depth === 2 && key === 'createdAt' && found === undefined) found = JSON.parse(head.toString('utf8', start, end));
      },
    },
    { reportDepth: 2, keyDepth: 1 },
  );
  try {
    t.push(head, 0, head.length);
  } catch {
    // Bytes that are not JSON: whatever was found before them stands, as a record's reader will judge the rest.
  }
  return typeof found === 'string' ? found : undefined;
}
