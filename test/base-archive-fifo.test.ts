// An archive base given as a FIFO, or as a process substitution (`docker-archive:/dev/fd/3` with `3< <(cat x.tar)`),
// yields its bytes once, while an archive is walked more than once by design (its documents, then its layers) and
// each walk opened the file twice (a sniff for gzip, then the read). A FIFO with no writer blocked the build for
// ever in that first open; a pipe's later reads saw what the sniff left, then nothing. Both are refused now, by their
// kind, naming the file (base.unreadable at the baseImage field).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useReapedCli } from './support/reaped-cli.js';
import { mkfifo } from './support/mkfifo.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

// A CLI left blocked on the FIFO by a failing run is killed after the test, not left behind.
const run = useReapedCli();

const HINT = 'hint: save the archive to a file and name that file in baseImage (a FIFO or a process substitution <(…) can be read only once)\n';

async function gameOn(base: string) {
  const dir = await tempDir('gl-base-fifo-archive-');
  await writeTinyGame(dir, ['game: fifo-base', 'start: [/bin/sh]', `baseImage: ${base}`]);
  return dir;
}

describe('an archive base that is not a regular file', () => {
  it('a FIFO (no writer): refused at once, naming it (was: the build blocked for ever)', async () => {
    const dir = await gameOn('docker-archive:base.tar');
    await mkfifo(path.join(dir, 'base.tar'));
    const r = await run(['build'], dir);
    expect(r.stderr).toBe(
      `error[base.unreadable]: ${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage: ${path.join(dir, 'base.tar')}: cannot read: a FIFO, not a regular file ` +
        `(an archive base is read more than once: its documents, then its layers)\n${HINT}`,
    );
    expect(r.code).toBe(1);
  });

  it('a process substitution (/dev/fd/3 of a pipe): refused, naming it (was: read from where the sniff left off)', async () => {
    const dir = await gameOn('oci-archive:/dev/fd/3');
    await writeFile(path.join(dir, 'some.tar'), Buffer.alloc(4096));
    const r = await run(['build'], dir, { prefix: ['bash', '-c', 'exec "$@" 3< <(cat some.tar)', 'bash'] });
    expect(r.stderr).toBe(
      `error[base.unreadable]: ${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage: /dev/fd/3: cannot read: a FIFO, not a regular file ` +
        `(an archive base is read more than once: its documents, then its layers)\n${HINT}`,
    );
    expect(r.code).toBe(1);
  });
});
