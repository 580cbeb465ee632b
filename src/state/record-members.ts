// A large record file's top-level members found a MiB at a time (issue 17 item 2): noting a push in the 1M-entry
// game's record (172 MB) read it whole and made a second copy of it with the new member spliced in, 363 MiB held
// at the end of a push. Here only the members' places are found; the summary is parsed from the small members'
// text, and the new file is the old one copied a MiB at a time around the spliced member (`withMember`'s bytes).
// The bytes are read through the shared tokenizer (util/json-tokens.ts), which checks them as JSON.parse would.
// Every function reads the descriptor the caller opened and checked (record-file.ts `withRecordFile`), never the path
// again: what is read is the file that was checked.
import { readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { diskFullError } from '../util/disk-full.js';
import type { FileHandle } from 'node:fs/promises';
import { JsonTokenizer } from '../util/json-tokens.js';

export interface MemberPlace {
  key: string;
  valueStart: number;
  valueEnd: number;
}

const PIECE = 1 << 20;

/**
 * The top-level object's members (file offsets) and where its closing brace is, from the file's first `size` bytes
 * (its size when checked); SyntaxError if they are not one object. `file` names it in errors.
 */
export function topLevelPlaces(fd: number, size: number, file: string): { members: MemberPlace[]; end: number; size: number } {
  const buf = Buffer.allocUnsafe(PIECE);
  const members: MemberPlace[] = [];
  let key = '';
  let valueStart = -1;
  let end = -1;
  const notObject = () => new SyntaxError('not an object');
  const t = new JsonTokenizer(
    {
      key: (k) => (key = k),
      open: (array, start, depth) => {
        if (depth === 1 && array) throw notObject();
        if (depth === 2) valueStart = start;
      },
      close: (_array, at, depth) => {
        if (depth === 2) members.push({ key, valueStart, valueEnd: at });
        else end = at - 1;
      },
      scalar: (start, at, depth) => {
        if (depth === 1) throw notObject();
        members.push({ key, valueStart: start, valueEnd: at });
      },
    },
    { file, reportDepth: 2, keyDepth: 1 },
  );
  while (t.offset < size) {
    const n = readSync(fd, buf, 0, Math.min(PIECE, size - t.offset), t.offset);
    if (n === 0) break;
    t.push(buf, 0, n);
  }
  t.end();
  return { members, end, size: t.offset };
}

/** The text of bytes [start, end) of the file. */
export function textAt(fd: number, start: number, end: number): string {
  const buf = Buffer.allocUnsafe(end - start);
  for (let got = 0; got < buf.length; ) {
    const n = readSync(fd, buf, got, buf.length - got, start + got);
    if (n === 0) throw new SyntaxError('the record changed while it was read');
    got += n;
  }
  return buf.toString('utf8');
}

/**
 * The text of the record's summary from its members' places: the entries' members (`manifests`, `plan`) stand in
 * as empty values of their kind (the summary only checks the kind, and `0` fails that check), the rest as it is.
 */
export function summaryText(fd: number, members: readonly MemberPlace[]): Buffer {
  const skipped: Record<string, [number, string]> = { manifests: [0x5b, '[]'], plan: [0x7b, '{}'] };
  const parts = members.map((m) => {
    const skip = skipped[m.key];
    const value = skip ? (textAt(fd, m.valueStart, m.valueStart + 1).charCodeAt(0) === skip[0] ? skip[1] : '0') : textAt(fd, m.valueStart, m.valueEnd);
    return `${JSON.stringify(m.key)}:${value}`;
  });
  return Buffer.from(`{${parts.join(',')}}`);
}

/** Writes to `out` the file's bytes [start, end), a MiB at a time. */
export async function copyRange(fd: number, out: FileHandle, start: number, end: number): Promise<void> {
  const buf = Buffer.allocUnsafe(PIECE);
  for (let at = start; at < end; ) {
    const n = readSync(fd, buf, 0, Math.min(PIECE, end - at), at);
    if (n === 0) throw new Error('the record changed while it was copied');
    await out.write(buf, 0, n);
    at += n;
  }
}

/** A piece of the new file: text, or bytes [start, end) of the old one. */
export type Piece = string | readonly [start: number, end: number];

/** Replaces `file` atomically with `pieces`, the old bytes read from `fd` (the file as it was opened and checked). */
export async function writePieces(file: string, fd: number, pieces: readonly Piece[]): Promise<void> {
  await writeFileAtomic(
    file,
    async (tmp) => {
      const out = await open(tmp, 'wx');
      try {
        for (const p of pieces) {
          if (typeof p === 'string') await out.write(Buffer.from(p));
          else await copyRange(fd, out, p[0], p[1]);
        }
      } finally {
        await out.close();
      }
    },
    { writeError: (e) => diskFullError(e, 'state.disk-full', path.dirname(file), path.basename(file)) },
  );
}
