// The build's zstd launcher (src/oci/zstd-host.ts): at the end of its input (the build finished, or was killed and
// its end of the pipe closed) a zstd still waiting for its pipe's writer must not wait for ever, nor the launcher with
// it, and its exit is still reported.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZstdHost } from '../src/oci/zstd-host.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'zstd-host-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const which = (tool: string) => execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();

describe('the build\'s zstd launcher', () => {
  it('ends its input while a zstd waits for its pipe\'s writer: that zstd gets an empty input and exits 0, reported, and the launcher ends', async () => {
    const zstd = which('zstd');
    const host = new ZstdHost(which('perl'));
    const blob = path.join(tmp, 'blob.zst');
    const out = openSync(blob, 'w+');
    try {
      const fifo = path.join(tmp, 'in');
      const z = host.start(zstd, ['-1', '-q', '-c'], fifo, `/proc/${process.pid}/fd/${out}`, `${fifo}.err`);
      await z.made;
      host.close(); // no writer ever opens the pipe, as when the build was killed after starting this zstd
      expect(await z.exited).toEqual({ code: 0, message: '' });
      expect(execFileSync(zstd, ['-d', '-c', blob]).length).toBe(0);
      expect(readFileSync(blob).length).toBeGreaterThan(0); // an empty frame, appended
      const later = host.start(zstd, [], path.join(tmp, 'later'), blob, path.join(tmp, 'later.err'));
      await expect(later.made).rejects.toThrow(/launcher \(perl\) is gone/);
    } finally {
      closeSync(out);
    }
  }, 60_000);

  it('reports a zstd that cannot start with its message, and one it was told to kill as killed', async () => {
    const host = new ZstdHost(which('perl'));
    try {
      const missing = host.start(path.join(tmp, 'no-such-zstd'), [], path.join(tmp, 'm'), path.join(tmp, 'm.out'), path.join(tmp, 'm.err'));
      await missing.made;
      const w = openSync(path.join(tmp, 'm'), 'w'); // its read end opens, then the exec fails
      closeSync(w);
      expect(await missing.exited).toEqual({ code: 127, message: expect.stringMatching(/cannot run .*no-such-zstd/) });
      const held = host.start(which('zstd'), ['-q', '-c'], path.join(tmp, 'k'), path.join(tmp, 'k.out'), path.join(tmp, 'k.err'));
      await held.made;
      held.kill();
      expect((await held.exited).code).toBe(128 + 9);
    } finally {
      host.close();
    }
  }, 60_000);
});
