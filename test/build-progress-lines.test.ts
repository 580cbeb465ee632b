// A cold build in a CI log (stderr a pipe, not a terminal) printed nothing while it packed and compressed the layers:
// one line when all were done (`build 6 layers …: 10 layers built 924 MiB (5.89s, …)`), minutes later on a 30 GB
// game, read as a hang. A long step's task in plain output now prints progress lines as prune's do: at each tenth
// of a task of 1 GiB or more, and every 10 s while it moves; the same option is on each blob's upload in a push.
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const BIG = 1100 * 1024 * 1024;
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-build-lines-');
  for (const t of ['engine', 'engine-media', 'app', 'app-media']) await mkdir(path.join(dir, t));
  await writeFile(path.join(dir, 'engine', 'run'), 'server', { mode: 0o755 });
  // Sparse: 1.07 GiB of content to tar and compress, no disk.
  await writeFile(path.join(dir, 'app-media', 'big.pak'), '');
  await truncate(path.join(dir, 'app-media', 'big.pak'), BIG);
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    ['game: lines', 'start: /opt/local/engine/run', 'trees:', ...['engine', 'engine-media', 'app', 'app-media'].map((t) => `  ${t}: {source: ${t}}`), ''].join('\n'),
  );
});

describe('a cold build of more than 1 GiB with stderr a pipe', () => {
  it('prints a progress line at each tenth of the layers it builds, then the line of the whole step', async () => {
    const r = await runCli(['build'], { cwd: dir, env: { CI: 'true' } });
    expect(r.code, r.stderr).toBe(0);
    const lines = [...r.stderr.matchAll(/^build 4 layers \+ 4 tree markers: ([\d.]+ [KMG]?i?B)\/1\.07 GiB \((\d+)%\)$/gm)];
    const percents = lines.map((m) => Number(m[2]));
    for (const p of [10, 20, 30, 40, 50, 60, 70, 80, 90]) expect(percents.map((x) => Math.floor(x / 10) * 10), r.stderr).toContain(p);
    expect(percents.every((p, i) => p < 100 && (i === 0 || p >= percents[i - 1]!))).toBe(true);
    // The step's own line comes after them.
    const done = r.stderr.search(/^build 4 layers \+ 4 tree markers: 8 layers built 1\.07 GiB \(/m);
    expect(done).toBeGreaterThan(r.stderr.indexOf(lines.at(-1)![0]));
  }, 180_000);
});
