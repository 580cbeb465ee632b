// A game started by a /bin/sh script on scratch gets a warning on every build (start-interpreter-warning.test.ts).
// `build --tag bad:tag` or a mistyped `--platform` printed that warning first, then the usage error: the flags are now
// checked before any warning, so a usage mistake prints its error alone.
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

async function scriptGame(): Promise<string> {
  const dir = await tempDir('gl-flags-warning-');
  await writeTinyGame(dir, ['game: flags-before-warning', 'start: [/opt/local/engine/start.sh]']);
  await writeFile(path.join(dir, 'engine', 'start.sh'), '#!/bin/sh\nexec true\n');
  await chmod(path.join(dir, 'engine', 'start.sh'), 0o755);
  return dir;
}

describe('build and dockerfile flag mistakes in a game whose start warns', () => {
  it.each([
    [['build', '--tag', 'bad:tag'], 'error[build.bad-tag]: --tag "bad:tag"'],
    [['build', '--platform', 'linux/amd65'], 'error[build.platform]: --platform linux/amd65'],
    [['build', '--builder', 'docker', '--tag', 'bad:tag'], 'error[docker.bad-tag]: --tag "bad:tag"'],
    [['build', '--builder', 'docker', '--platform', 'linux/amd65'], 'error[docker.platform]: --platform linux/amd65'],
    [['dockerfile', '--platform', 'linux/amd65'], 'error[docker.platform]: --platform linux/amd65'],
  ])('%j prints the usage error alone', async (args, said) => {
    const dir = await scriptGame();
    const r = await runCli(args, { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr.startsWith(said), r.stderr).toBe(true);
    expect(r.stderr).not.toContain('warning:');
  });

  it('a good build still warns once', async () => {
    const dir = await scriptGame();
    const r = await runCli(['build', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.split('is a script for /bin/sh').length - 1).toBe(1);
  });
});
