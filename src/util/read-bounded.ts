// A user's input file or stdin (a manifest to fill, a deployed spec) read whole, but never past a bound: `--fill
// /dev/zero` grew without end (gigabytes, never finished), and a mistaken argument (a pak, a disk image) was read
// whole into memory. A FIFO or stdin is still read as a stream (`--fill <(helm template .)`, `helm … | --fill -`).
// A named FIFO nobody writes to blocks the open (as `cat` does): after a second it is said, naming it, so a CI log
// does not show a silent hang. It is not refused: process substitution (`<(…)`) is a FIFO too.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** The bytes of `input`, or `{ tooBig }` once more than `maxBytes` came (the rest is not read). */
export async function readBounded(input: AsyncIterable<Buffer | string>, maxBytes: number): Promise<Buffer | { tooBig: true }> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of input) {
    const b = typeof c === 'string' ? Buffer.from(c) : c;
    total += b.length;
    // Leaving the loop destroys the stream: nothing more is read.
    if (total > maxBytes) return { tooBig: true };
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** How long an open of a FIFO may wait for its writer before `onWait` is told. */
export const fifoWait = { noticeMs: 1000 };

/**
 * `readBounded` of a file (fs errors such as ENOENT and EISDIR are thrown as they are). `onWait` hears of a FIFO
 * whose open still waits for a writer after `fifoWait.noticeMs`.
 */
export async function readFileBounded(file: string, maxBytes: number, onWait?: (file: string) => void): Promise<Buffer | { tooBig: true }> {
  const fifo = onWait !== undefined && (await stat(file).then((st) => st.isFIFO(), () => false));
  const stream = createReadStream(file);
  if (fifo) {
    const timer = setTimeout(() => onWait(file), fifoWait.noticeMs);
    const done = () => clearTimeout(timer);
    stream.once('open', done).once('error', done).once('close', done);
  }
  return readBounded(stream, maxBytes);
}

/** What a command says of an input FIFO that has no writer yet. */
export function fifoWaitNotice(flag: string, file: string): string {
  return `${flag} ${file}: a FIFO with no writer yet; waiting for one to write the input (Ctrl-C to stop, or give a regular file)`;
}
