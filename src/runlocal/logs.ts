// Container output as whole lines, each handed on with the container's name; the last lines of each container
// are kept for the error that names a failed one.
import { Writable } from 'node:stream';

export type LogStream = 'stdout' | 'stderr';
export type LogSink = (container: string, stream: LogStream, line: string) => void;

/** Writes `[name] line` to this process's stdout or stderr. */
export function prefixedLogSink(out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): LogSink {
  return (container, stream, line) => (stream === 'stdout' ? out : err).write(`[${container}] ${line}\n`);
}

/** A writable that splits what it gets into lines; a last line without a newline is flushed at the end. */
export class LineSplitter extends Writable {
  private rest = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly onLine: (line: string) => void) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.rest += this.decoder.decode(chunk, { stream: true });
    const lines = this.rest.split('\n');
    this.rest = lines.pop() ?? '';
    for (const l of lines) this.onLine(l.replace(/\r$/, ''));
    cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.rest += this.decoder.decode();
    if (this.rest) this.onLine(this.rest);
    this.rest = '';
    cb();
  }
}

/** The last `max` lines of a container, both streams interleaved as they came. */
export class LogTail {
  private readonly lines: string[] = [];

  constructor(private readonly max = 40) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  text(): string {
    return this.lines.join('\n');
  }
}
