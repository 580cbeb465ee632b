// A step's rate in the log counts the bytes it read or sent, not its total: a chunked tree found in the recipe
// cache, or a blob the registry mounted, took no time and is not reported at thousands of MB/s.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { plainReporter } from '../src/report/reporter.js';
import { runCli } from './support/cli-process.js';
import { prng } from './support/prng.js';
import { tempDir } from './support/tmp.js';

function captured() {
  const out = new PassThrough();
  let text = '';
  out.on('data', (b: Buffer) => (text += b.toString()));
  return { out, text: () => text };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('plain reporter rates', () => {
  it('gives the rate of ticked bytes only, and none when every byte was skipped', async () => {
    const log = captured();
    const reporter = plainReporter(log.out);
    const cached = reporter.task('chunk app-media', 2_000_000_000, 'bytes');
    cached.skip?.(2_000_000_000);
    await pause(5);
    cached.done('1 files');
    const read = reporter.task('hash app', 1_000_000, 'bytes');
    read.tick(1_000_000);
    await pause(5);
    read.done();
    const lines = log.text().trim().split('\n');
    expect(lines[0]).toMatch(/^chunk app-media: 1 files 1\.86 GiB \(\d+\.\d\ds\)$/);
    expect(lines[1]).toMatch(/^hash app: done 977 KiB \(\d+\.\d\ds, \d+\.\d MB\/s\)$/);
  });
});

describe('a chunked tree built again from the recipe cache', () => {
  it('logs its chunk step without a rate', async () => {
    const dir = await tempDir('report-rate-');
    for (const t of ['engine', 'engine-media', 'app', 'app-media']) await mkdir(path.join(dir, t), { recursive: true });
    await writeFile(path.join(dir, 'engine/start.sh'), '#!/bin/sh\necho start\n', { mode: 0o755 });
    await writeFile(path.join(dir, 'engine-media/e.dat'), 'engine media');
    await writeFile(path.join(dir, 'app/app.cfg'), 'app');
    // Several files, so the cached step takes a measurable millisecond or more (the old rate was total / ms).
    for (let i = 0; i < 12; i++) await writeFile(path.join(dir, `app-media/big${i}.pak`), prng(`big${i}`, 1536 * 1024));
    await writeFile(
      path.join(dir, 'gamelayer.yaml'),
      ['game: rates', 'version: 1.0.0', 'start: /opt/local/engine/start.sh', 'trees:', '  engine: {source: engine}', '  engine-media: {source: engine-media}', '  app: {source: app}', '  app-media: {source: app-media, chunks: {minFileSize: 1MiB, avgChunkSize: 64KiB}}', ''].join('\n'),
    );
    const first = await runCli(['build', '-c', 'gamelayer.yaml'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    await writeFile(path.join(dir, 'app/app.cfg'), 'app 2');
    const again = await runCli(['build', '-c', 'gamelayer.yaml'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^chunk app-media: 12 files, \d+ chunks, 12 from the recipe cache 18\.0 MiB \(\d+\.\d\ds\)$/m);
  });
});
