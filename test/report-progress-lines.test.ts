// In a CI log (CodeBuild) or a pipe, a long byte step — hashing a big tree, building its layers, uploading a blob —
// prints progress lines while it runs, not only one line at its end: minutes of silence read as a hung build.
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PROGRESS_BYTES_TENTHS_MIN, plainReporter } from '../src/report/reporter.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

/** The tenths (1–9) the progress lines of `label` reached, in the order they were printed. */
function tenthsOf(log: string, label: string): number[] {
  const line = new RegExp(`^${label}: [\\d.]+ (?:B|KiB|MiB|GiB)/[\\d.]+ (?:KiB|MiB|GiB) \\((\\d+)%\\)$`, 'gm');
  return [...log.matchAll(line)].map((m) => Math.floor(Number(m[1]) / 10));
}

describe('progress lines of long byte steps in plain output', () => {
  it('a cold build of a big file logs its layer step at each tenth, then its summary', async () => {
    const dir = await tempDir('progress-lines-');
    await writeTinyGame(dir, ['game: lines', 'start: [/opt/local/engine/run]']);
    // Sparse: read as zeros, so the layer is quick to compress, but every byte is read, hashed and packed.
    await writeFile(path.join(dir, 'app-media/big.pak'), '');
    await truncate(path.join(dir, 'app-media/big.pak'), PROGRESS_BYTES_TENTHS_MIN + 16 * 1024 * 1024);
    const built = await runCli(['build', '-c', 'gamelayer.yaml'], { cwd: dir, env: { CI: '1' } });
    expect(built.code, built.stderr).toBe(0);
    const label = 'build \\d+ layers? \\+ \\d+ tree markers?';
    // Each tenth once, in order (a line every 10 s may come between them on a slow host: same tenth or one passed).
    expect([...new Set(tenthsOf(built.stderr, label))]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(built.stderr).toMatch(new RegExp(`^${label}: \\d+ layers built 272 MiB \\(`, 'm'));
    expect(built.stderr).not.toContain('\u001b');
  });

  it('counts bytes a step skipped (cached, mounted) towards its position, and small steps stay one line', () => {
    const out = new PassThrough();
    let log = '';
    out.on('data', (b: Buffer) => (log += b.toString()));
    const reporter = plainReporter(out);
    const big = reporter.task('chunk app-media', 1000 * 1024 * 1024, 'bytes');
    big.skip?.(500 * 1024 * 1024);
    big.tick(250 * 1024 * 1024);
    big.done();
    const small = reporter.task('hash app', PROGRESS_BYTES_TENTHS_MIN - 1, 'bytes');
    for (let i = 0; i < 10; i++) small.tick(PROGRESS_BYTES_TENTHS_MIN / 10);
    small.done();
    const lines = log.trim().split('\n');
    expect(lines.slice(0, 2)).toEqual(['chunk app-media: 500 MiB/1000 MiB (50%)', 'chunk app-media: 750 MiB/1000 MiB (75%)']);
    expect(lines.slice(2).map((l) => l.replace(/ \(.*/, ''))).toEqual(['chunk app-media: done 1000 MiB', 'hash app: done 256 MiB']);
  });
});
