// A local record's `pushed` list read from the end of its file, not from all of it (a 1M-entry game's record is
// 170 MB; a deploy looking for the images other builds pushed read every other record whole). Noting a push
// (records.ts, markPushed) replaces the member where it is or adds it last, and a build writes a record without one,
// so in a record gamelayer wrote it is the last member or absent. A list found elsewhere (an edited record) is not
// seen: that record counts as pushed nowhere, as a record that cannot be read does.
import { closeSync, readSync } from 'node:fs';
import { pushedToSchema, type PushedTo } from '../types.js';
import { openRegularFileSyncOrNone } from '../util/small-file.js';
import { z } from 'zod';

/** Bytes read from the end first, then at most (a list of a few hundred repositories' pushes). */
export const pushedTail = { firstBytes: 64 << 10, maxBytes: 1 << 20 };

const pushedList = z.array(pushedToSchema);

/** The record's `pushed` list when it is the file's last member; empty when it is not, or the file cannot be read. */
export function pushedOfRecord(file: string): PushedTo[] {
  const opened = openRegularFileSyncOrNone(file);
  if (!opened) return [];
  try {
    const first = lastMember(opened.fd, opened.size, pushedTail.firstBytes);
    if (first !== 'longer') return first;
    return lastMember(opened.fd, opened.size, pushedTail.maxBytes) as PushedTo[];
  } catch {
    return [];
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * The `pushed` list in the file's last `bytes`, from the record's last members found there: `longer` when its last
 * member starts before them.
 */
function lastMember(fd: number, size: number, bytes: number): PushedTo[] | 'longer' {
  const start = Math.max(0, size - bytes);
  const buf = Buffer.allocUnsafe(size - start);
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, start + got);
    if (n === 0) break;
    got += n;
  }
  const text = buf.toString('utf8', 0, got).trimEnd();
  if (!text.endsWith('}')) return [];
  const body = text.slice(0, -1);
  // From the last key back, the first that begins members of the object the file's last brace closes (the record):
  // a key inside a nested value leaves its brackets unmatched, and one inside a string has its quotes escaped.
  for (const key of [...body.matchAll(/"(?:[^"\\]|\\.)*"\s*:/g)].reverse()) {
    let members: { pushed?: unknown };
    try {
      members = JSON.parse(`{${body.slice(key.index)}}`) as typeof members;
    } catch {
      continue;
    }
    const list = pushedList.safeParse(members.pushed);
    return list.success ? list.data : [];
  }
  return start > 0 && bytes < pushedTail.maxBytes ? 'longer' : [];
}
