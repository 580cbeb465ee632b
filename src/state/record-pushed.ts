// A local record's `pushed` list read from the end of its file, not from all of it (a 1M-entry game's record is
// 170 MB; a deploy looking for the images other builds pushed read every other record whole). Noting a push
// (records.ts, markPushed) replaces the member where it is or adds it last, and a build writes a record without one,
// so in a record gamelayer wrote it is the last member or absent. A list found elsewhere (an edited record) is not
// seen: that record counts as pushed nowhere, as a record that cannot be read does.
//
// The end alone proves nothing: a file that is no record (`not json {"pushed":…}`) or a record whose start was
// wrecked ends the same way. The list is taken only from a file whose head is sound too: it starts as a local record
// does (`{"kind":"build"`), names a store (one of stop 47's layout, `store` last, counts as pushed nowhere until its
// tag is built again: record-layout.ts), and its first tag is the one its file name says (record-name.ts). A file
// read whole (one of 64 KiB or less always is: a small game's record) must be JSON through and through. What is not
// detected: in a larger record, bytes wrecked between its head and its end. Its list is then believed, whole and
// schema-checked as it is: markPushed wrote it after the registry took the push, and the wrecked members (manifests,
// plan, layers) are of no use to a deploy of another build, whose spec pins the digests (one not there fails the
// pull; no other content runs). Proving them costs reading the whole file, which is what this avoids; the record's
// own readers (inspect, push, a build planned on it) read it whole and refuse it.
import { closeSync } from 'node:fs';
import path from 'node:path';
import { pushedToSchema, type PushedTo } from '../types.js';
import { safeJson } from '../util/safe-json.js';
import { openRegularFileSyncOrNone } from '../util/small-file.js';
import { recordHead, type RecordHead } from './record-head.js';
import { textAt } from './record-members.js';
import { tagOfRecordName } from './record-name.js';
import { z } from 'zod';

/** Bytes read from the end first, then at most (a list of a few hundred repositories' pushes). */
const pushedTail = { firstBytes: 64 << 10, maxBytes: 1 << 20 };

const pushedList = z.array(pushedToSchema);

/** What a local record starts with (records.ts, `localRecord`). */
const RECORD_START = '{"kind":"build"';

/**
 * The record's `pushed` list when it is the file's last member and its head is sound (`head`: what recordHead says of
 * the file, when the caller has read it); empty when not, or when the file cannot be read.
 */
export function pushedOfRecord(file: string, head: RecordHead = recordHead(file)): PushedTo[] {
  if (head.store === undefined || head.tag === undefined || head.tag !== tagOfRecordName(path.basename(file))) return [];
  const opened = openRegularFileSyncOrNone(file);
  if (!opened) return [];
  try {
    if (opened.size < RECORD_START.length || textAt(opened.fd, 0, RECORD_START.length) !== RECORD_START) return [];
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
  const text = textAt(fd, start, size).trimEnd();
  if (!text.endsWith('}')) return [];
  // The whole file, read: a record only when all of it is JSON (a cheap check at this size).
  if (start === 0 && safeJson(text) === undefined) return [];
  const body = text.slice(0, -1);
  // From the last key back, the first that begins members of the object the file's last brace closes (the record):
  // a key inside a nested value leaves its brackets unmatched, and one inside a string has its quotes escaped.
  for (const key of [...body.matchAll(/"(?:[^"\\]|\\.)*"\s*:/g)].reverse()) {
    const members = safeJson(`{${body.slice(key.index)}}`) as { pushed?: unknown } | undefined;
    if (members === undefined) continue;
    const list = pushedList.safeParse(members.pushed);
    return list.success ? list.data : [];
  }
  return start > 0 && bytes < pushedTail.maxBytes ? 'longer' : [];
}
