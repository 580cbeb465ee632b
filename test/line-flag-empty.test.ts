// `build --line ''` and `push --line ''` (a shell variable unset: `--line "$BRANCH"`) went on and failed only at the
// line tag, as record.line with exit 1 (a build's work done first). An empty flag value is a usage error (exit 2,
// docs/errors.md), naming the flag, before anything is done.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();

describe("--line ''", () => {
  it.each([
    [['build', '--tag', 'v1', '--push', '--line', '']],
    [['push', 'v1', '--line', '']],
  ])('%j is a usage error naming --line', async (args) => {
    const dir = await tempDir('gl-line-empty-');
    await writeTinyGame(dir, ['game: line-empty', 'start: [/opt/local/engine/run]', `registry: ${registry.host}/studio/line-empty`]);
    const built = await runCli(['build', '--tag', 'v1'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const r = await runCli(args, { cwd: dir });
    expect(r.stderr).toContain('error[cli.usage]: --line: empty');
    expect(r.code).toBe(2);
  }, 90_000);
});
