// A user's input file or stdin (a manifest to fill, a deployed spec) read whole, but never past a bound: `--fill
// /dev/zero` grew without end (gigabytes, never finished), and a mistaken argument (a pak, a disk image) was read
// whole into memory. A FIFO or stdin is still read as a stream (`--fill <(helm template .)`, `helm … | --fill -`).
import { createReadStream } from 'node:fs';

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

/** `readBounded` of a file (fs errors such as ENOENT and EISDIR are thrown as they are). */
export function readFileBounded(file: string, maxBytes: number): Promise<Buffer | { tooBig: true }> {
  return readBounded(createReadStream(file), maxBytes);
}
