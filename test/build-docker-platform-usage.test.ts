// `build --builder docker --platform foo` exited 1, as a failed build does, while the same mistake without
// --builder docker (build.platform) and every other bad flag value exit 2 (docs/errors.md, "Exit status"). It is a
// usage error now, naming the flag and the forms it takes; so is a docker build given several platforms (it
// built the first and left the others out without a word).
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('a docker build or dockerfile given a platform the config does not build', () => {
  it.each([
    [['build', '--builder', 'docker', '--platform', 'foo'], '--platform foo: not in the platforms of'],
    [['dockerfile', '--platform', 'foo'], '--platform foo: not in the platforms of'],
    [['build', '--builder', 'docker', '--platform', 'linux/amd64', 'linux/arm64'], '--platform linux/amd64 linux/arm64: --builder docker builds one platform a run'],
  ])('%j is a usage error (exit 2) naming the flag and the accepted platforms', async (args, said) => {
    const dir = await tempDir('gl-docker-platform-');
    await writeTinyGame(dir, ['game: docker-platform', 'start: [/opt/local/engine/run]', 'platforms: [linux/amd64, linux/arm64]']);
    const r = await runCli(args, { cwd: dir });
    expect(r.stderr).toContain('error[docker.platform]: ');
    expect(r.stderr).toContain(said);
    expect(r.stderr).toContain('linux/amd64, linux/arm64');
    expect(r.code, r.stderr).toBe(2);
  });
});
