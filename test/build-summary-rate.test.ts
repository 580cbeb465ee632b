// The build's summary line gave the compressed new bytes per second of the whole build as its rate: 900 MiB of zeros
// built in 14.9 s read "(0.3 MB/s)", and every no-op build "(0.0 MB/s)", as if gamelayer were that slow. The rate is
// now the content built per second, said as such, and a build that built nothing shows none.
import { truncate } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-summary-rate-');
  copySample(dir);
  expect((await runCli(['build'], { cwd: dir })).code).toBe(0);
}, 60_000);

const summary = (stdout: string) => stdout.split('\n').find((l) => l.startsWith('layers: ')) ?? '';

describe('the build summary line', () => {
  it('a build of a 64 MiB file of zeros: its content rate, not its compressed bytes\' (a few KiB)', async () => {
    await truncate(path.join(dir, 'app-media', 'gamedata.pak'), 64 * 1024 * 1024);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r.stdout)).toMatch(/total [\d.]+s \(64\.\d MiB of content built, [\d.]+ MB\/s\)/);
  });

  it('a no-op build: no rate', async () => {
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(summary(r.stdout)).toMatch(/^layers: 0 built, \d+ reused; new bytes 0 B of .*; scan [\d.]+s, total [\d.]+s; and 4 tree markers$/);
  });
});
