// Every build of a game written by fixtures/generate.ts warned that the engine cannot start: its start.sh needs /bin/sh
// and the config said `baseImage: scratch`. The benchmarks' figures are of that scratch game, so the default stays;
// `--base-image REF` writes a base with a shell, and a build of that game is quiet (and its engine can start).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const TSX = path.resolve('node_modules/.bin/tsx');
const WARNING = 'is a script for /bin/sh';

async function generate(out: string, extra: string[] = []): Promise<void> {
  await run(TSX, ['fixtures/generate.ts', '--out', out, '--size', '2MB', '--files', '40', '--seed', 'base-image', '--json', ...extra]);
}

describe('fixtures/generate.ts --base-image', () => {
  it('writes a game on a base with a shell, whose build does not warn', async () => {
    const work = await tempDir('gl-generate-base-');
    const base = await writeBusyboxLayout(path.join(work, 'busybox'));
    const game = path.join(work, 'game');
    await generate(game, ['--base-image', base]);
    expect(await readFile(path.join(game, 'gamelayer.yaml'), 'utf8')).toContain(`baseImage: ${JSON.stringify(base)}\n`);
    const build = await runCli(['build', '--json'], { cwd: game });
    expect(build.code, build.stderr).toBe(0);
    expect(build.stderr).not.toContain(WARNING);
  }, 120_000);

  it('keeps scratch by default (the benchmarks game, byte for byte), whose build says its start cannot run', async () => {
    const game = path.join(await tempDir('gl-generate-scratch-'), 'game');
    await generate(game);
    expect(await readFile(path.join(game, 'gamelayer.yaml'), 'utf8')).toContain('\nbaseImage: scratch\nstart: ["/opt/local/engine/start.sh"]\n');
    const build = await runCli(['build', '--json'], { cwd: game });
    expect(build.code, build.stderr).toBe(0);
    expect(build.stderr).toContain(WARNING);
  }, 120_000);
});
