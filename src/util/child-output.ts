// A child process's output read as text: the status lines the zstd launchers write (oci/zstd-host.ts,
// oci/zstd-child.ts), which a read may cut anywhere, and the end of what a child says on stderr, for its error.
import type { Readable } from 'node:stream';

/** Calls `onLine` with each line `stream` gives, without its newline; a last line without one is never given. */
export function onLines(stream: Readable, onLine: (line: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8'); // a character cut between two reads is joined again
  stream.on('data', (text: string) => {
    buffer += text;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      onLine(line);
    }
  });
}

/** What `stream` gave so far, its last `chars` characters only (a chatty child holds no more than that). */
export function tailOf(stream: Readable, chars = 2000): () => string {
  let tail = '';
  stream.on('data', (d: Buffer) => (tail = (tail + d.toString()).slice(-chars)));
  return () => tail;
}
