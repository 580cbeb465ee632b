// build --docker-compat picks the Dockerfile variant of the Docker builder; with the daemonless builder (the default)
// it did nothing, silently: the user asked for Docker 20.10 compatibility and got a daemonless build. Refused (exit 2)
// before any work.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';
import { existsSync } from 'node:fs';

describe('build --docker-compat without --builder docker', () => {
  it('is refused before anything is built', async () => {
    const game = path.join(await tempDir(), 'game');
    copySample(game);
    const r = await runCli(['build', '--docker-compat'], { cwd: game });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error[cli.docker-compat]: --docker-compat goes with --builder docker');
    expect(existsSync(path.join(game, '.gamelayer/records'))).toBe(false);
  });
});
