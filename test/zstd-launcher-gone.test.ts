// A layer's zstd started ahead (zstd.ts takes the next one while the current runs) whose launcher shell is killed
// while its named pipe is still being made: the start registered its pipe after the shell's end had settled every
// registered one, so nothing ever settled it, no reader ever opened the pipe, and its open for writing blocked a
// thread of the pool for ever; the layer's end waited on it (oci-zstd.test.ts's "late zstd" case hung once for
// 120 s at high load, where mkfifo, a fork of the test process, is slow). It now fails like any start on a gone shell.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { zstdArgs } from '../src/oci/compressor-id.js';
import { removeFifos } from '../src/oci/fifo-pool.js';
import { ZstdLauncher } from '../src/oci/zstd-child.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'zstd-launcher-'));
afterAll(() => {
  removeFifos();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a zstd started while its launcher shell is killed', () => {
  it('fails as zstd.failed instead of waiting for ever on a pipe no zstd will open', async () => {
    // An mkfifo that makes its pipes only once the test lets it: the kill lands while the pipe is being made.
    const bin = path.join(tmp, 'bin');
    const hold = path.join(tmp, 'hold');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'mkfifo'), `#!/bin/sh\nwhile [ -e '${hold}' ]; do sleep 0.01; done\nexec /usr/bin/mkfifo "$@"\n`);
    chmodSync(path.join(bin, 'mkfifo'), 0o755);
    // No perl on PATH: the layer's own shell starts the zstd, with pipes from mkfifo (with perl, the build's launcher
    // makes the pipes itself and this wait cannot arise).
    symlinkSync(execFileSync('sh', ['-c', 'command -v zstd'], { encoding: 'utf8' }).trim(), path.join(bin, 'zstd'));
    const savedPath = process.env.PATH;
    process.env.PATH = bin;
    const out = openSync(path.join(tmp, 'blob'), 'w');
    try {
      removeFifos(); // none made ahead: the next start makes its pipe with the mkfifo above
      const launcher = new ZstdLauncher('zstd', zstdArgs(3), out);
      const first = await launcher.next();
      removeFifos();
      writeFileSync(hold, '');
      const second = launcher.next();
      second.catch(() => {}); // awaited below
      launcher.kill();
      await launcher.done();
      rmSync(hold);
      await expect(second).rejects.toMatchObject({ code: 'zstd.failed', message: expect.stringContaining('was killed by SIGKILL') });
      await first.exited;
      await first.pipe.close();
    } finally {
      rmSync(hold, { force: true });
      process.env.PATH = savedPath;
      closeSync(out);
    }
  });
});
