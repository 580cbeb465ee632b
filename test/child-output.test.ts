// A child's output as text (util/child-output.ts): the zstd launchers' status lines come whole whatever the reads
// cut (a line, or a character of a path, across two reads), and an error keeps only the end of a chatty stderr.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { onLines, tailOf } from '../src/util/child-output.js';

describe('onLines', () => {
  it('gives whole lines across reads that cut lines and characters; a last line without newline is never given', async () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    onLines(stream, (l) => lines.push(l));
    const bytes = Buffer.from('exit 3 0\nmade 4\nexit 4 /tmp/zstd-in.é\n\nfail 5 6e');
    // A read per byte: every line, and the é (two bytes), falls across reads.
    for (let i = 0; i < bytes.length; i++) stream.write(bytes.subarray(i, i + 1));
    stream.end();
    await new Promise((r) => stream.on('end', r));
    expect(lines).toEqual(['exit 3 0', 'made 4', 'exit 4 /tmp/zstd-in.é', '']);
  });
});

describe('tailOf', () => {
  it('keeps the last characters written, all of them while they are few', async () => {
    const stream = new PassThrough();
    const tail = tailOf(stream, 10);
    stream.write('zstd: ');
    await new Promise((r) => setImmediate(r));
    expect(tail()).toBe('zstd: ');
    stream.write('error: no space left');
    await new Promise((r) => setImmediate(r));
    expect(tail()).toBe('space left');
  });
});
