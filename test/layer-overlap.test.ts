// A layer gives up its tar slot once its whole tar is with the compressor (pipeline/layer-slots.ts): the next layer
// starts while it finishes (compressor tail, hash, fsync, rename). A `zstd` on PATH that holds its exit until another
// layer's compressor has started shows whether the next layer starts meanwhile; one that fails then shows that a
// layer failing in its tail still fails the build and leaves no temp file and no blob that is not whole.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeZstdWorkers } from '../src/oci/zstd.js';
import { build } from '../src/pipeline/build.js';
import { sampleGame } from './support/sample.js';

const realZstd = execFileSync('sh', ['-c', 'command -v zstd'], { encoding: 'utf8' }).trim();
const pathBefore = process.env.PATH;
afterAll(async () => {
  process.env.PATH = pathBefore;
  await closeZstdWorkers();
});

/**
 * A `zstd` first on PATH: the first layer's compresses its input, then waits (up to 30 s, so old code ends too) until
 * a second layer's has started, writes how many had started into `marks/seen-by-first`, and ends with `firstEnd`.
 * "Started" is counted once a zstd has read its whole input (the pipe on its stdin): the layer writer starts a zstd
 * ahead of the stretch it may get, and one that never gets any is killed, having started nothing.
 */
async function fakeZstdOnPath(dir: string, firstEnd: string): Promise<string> {
  const bin = path.join(dir, 'bin');
  const marks = path.join(dir, 'marks');
  mkdirSync(bin, { recursive: true });
  mkdirSync(marks, { recursive: true });
  const started = `$(ls "${marks}" | grep -c '^started\\.')`;
  await writeFile(
    path.join(bin, 'zstd'),
    `#!/bin/sh
case "$1" in --version) exec "${realZstd}" "$@";; esac
# Its input is the pipe on stdin; compressed from a pipe again, as zstd would have.
input="${marks}/input.$$"
cat > "$input"
touch "${marks}/started.$$"
if mkdir "${marks}/first" 2>/dev/null; then
  cat "$input" | "${realZstd}" "$@" || exit $?
  i=0
  while [ ${started} -lt 2 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
  echo ${started} > "${marks}/seen-by-first"
  ${firstEnd}
fi
cat "$input" | "${realZstd}" "$@"
`,
  );
  chmodSync(path.join(bin, 'zstd'), 0o755);
  process.env.PATH = `${bin}:${pathBefore}`;
  return marks;
}

describe('layers finishing while the next one is made', () => {
  it('the next layer starts while the first one\'s compressor is still running; same layers as a plain build', async () => {
    const { dir, config } = await sampleGame();
    const marks = await fakeZstdOnPath(dir, 'exit 0');
    const held = await build({ config, compression: 'zstd', concurrency: 1 });
    expect(Number(readFileSync(path.join(marks, 'seen-by-first'), 'utf8'))).toBeGreaterThanOrEqual(2);

    // The same game built again from nothing with the real zstd: the same layers.
    process.env.PATH = pathBefore;
    const plain = await build({ config: (await sampleGame()).config, compression: 'zstd', concurrency: 1 });
    expect(held.summary.layers.map((l) => l.layer.digest)).toEqual(plain.summary.layers.map((l) => l.layer.digest));
  }, 120_000);

  it('a layer whose compressor fails after the next layer started fails the build and leaves nothing half-written', async () => {
    const { dir, game, config } = await sampleGame();
    await fakeZstdOnPath(dir, 'echo "zstd: simulated failure at the end" >&2; exit 3');
    await expect(build({ config, compression: 'zstd', concurrency: 1 })).rejects.toMatchObject({
      code: 'zstd.failed',
      message: expect.stringMatching(/exited with 3: zstd: simulated failure at the end/),
    });
    // Nothing goes on after the build reported the failure: no temp file, and every named blob is whole.
    const store = path.join(game, '.gamelayer/oci');
    expect(readdirSync(path.join(store, '.tmp'))).toEqual([]);
    for (const hex of readdirSync(path.join(store, 'blobs/sha256'))) {
      expect(createHash('sha256').update(readFileSync(path.join(store, 'blobs/sha256', hex))).digest('hex')).toBe(hex);
    }
  }, 120_000);
});
