// A large record file's top-level members found a MiB at a time (issue 17 item 2): noting a push in the 1M-entry
// game's record (172 MB) read it whole and made a second copy of it with the new member spliced in, 363 MiB held
// at the end of a push. Here only the members' places are found; the summary is parsed from the small members'
// text, and the new file is the old one copied a MiB at a time around the spliced member (`withMember`'s bytes).
import { closeSync, openSync, readSync, type PathLike } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

export interface MemberPlace {
  key: string;
  valueStart: number;
  valueEnd: number;
}

const PIECE = 1 << 20;

/** The top-level object's members (file offsets) and where its closing brace is; SyntaxError if it is not one object. */
export function topLevelPlaces(file: PathLike): { members: MemberPlace[]; end: number; size: number } {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(PIECE);
    const members: MemberPlace[] = [];
    let pos = 0;
    let depth = 0;
    let inString = false;
    let escaped = false;
    let key: number[] | undefined;
    let pendingKey: string | undefined;
    /** Expecting a key (after `{` or a top-level `,`), or a value's first byte (after `:`). */
    let wantKey = false;
    let wantValue = false;
    let current: MemberPlace | undefined;
    let lastEnd = 0;
    let end = -1;
    for (;;) {
      const n = readSync(fd, buf, 0, PIECE, pos);
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        const c = buf[i]!;
        if (inString) {
          key?.push(c);
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) {
            inString = false;
            lastEnd = pos + i + 1;
            if (key) {
              pendingKey = JSON.parse(Buffer.from(key).toString('utf8')) as string;
              key = undefined;
            }
          }
          continue;
        }
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (end >= 0) throw new SyntaxError('text after the object');
        if (depth === 1 && (c === 0x2c || c === 0x7d)) {
          if (wantValue) throw new SyntaxError('expected a value');
          if (current) {
            current.valueEnd = lastEnd;
            members.push(current);
            current = undefined;
            pendingKey = undefined;
          } else if (c === 0x2c || pendingKey !== undefined || wantValue || members.length > 0) throw new SyntaxError('expected a value');
          if (c === 0x7d) {
            end = pos + i;
            depth = 0;
          } else wantKey = true;
          continue;
        }
        if (wantValue) {
          current = { key: pendingKey!, valueStart: pos + i, valueEnd: -1 };
          wantValue = false;
        }
        if (depth === 1 && c === 0x3a) {
          if (pendingKey === undefined || current) throw new SyntaxError('expected a key');
          wantValue = true;
          continue;
        }
        if (c === 0x22) {
          inString = true;
          if (depth === 1 && wantKey) {
            key = [c];
            wantKey = false;
          } else if (depth === 1 && !current) throw new SyntaxError('expected ":"');
          continue;
        }
        if (depth === 0) {
          if (c !== 0x7b) throw new SyntaxError('not an object');
          depth = 1;
          wantKey = true;
          continue;
        }
        if (depth === 1 && wantKey) throw new SyntaxError('expected a key');
        if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) depth--;
        lastEnd = pos + i + 1;
      }
      pos += n;
    }
    if (end < 0) throw new SyntaxError('the object does not end');
    return { members, end, size: pos };
  } finally {
    closeSync(fd);
  }
}

/** The text of bytes [start, end) of the file. */
export function textAt(file: PathLike, start: number, end: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(end - start);
    for (let got = 0; got < buf.length; ) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) throw new SyntaxError('the record changed while it was read');
      got += n;
    }
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Writes to `out` the file's bytes [start, end), a MiB at a time. */
export async function copyRange(file: PathLike, out: FileHandle, start: number, end: number): Promise<void> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(PIECE);
    for (let at = start; at < end; ) {
      const n = readSync(fd, buf, 0, Math.min(PIECE, end - at), at);
      if (n === 0) throw new Error('the record changed while it was copied');
      await out.write(buf, 0, n);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}
