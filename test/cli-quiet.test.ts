// `-q, --quiet` for scripts that keep stderr for problems: no progress lines and no notes, warnings and errors still,
// and the result on stdout unchanged. There was no such flag: a script had to drop stderr whole, warnings with it.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { sampleGame } from './support/sample.js';

let dir: string;
beforeAll(async () => void ({ game: dir } = await sampleGame()));

describe('--quiet', () => {
  it('a build prints its result and nothing on stderr; without -q its steps are logged', async () => {
    const loud = await runCli(['build', '--tag', 'v1'], { cwd: dir, env: { CI: '1' } });
    expect(loud.code, loud.stderr).toBe(0);
    expect(loud.stderr).toMatch(/^build \d+ layers? \+ 4 tree markers: /m);
    const quiet = await runCli(['build', '--tag', 'v2', '-q'], { cwd: dir, env: { CI: '1' } });
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toContain('server image v2 = sha256:');
    // Before the command too, as -c is.
    const before = await runCli(['--quiet', 'scan'], { cwd: dir, env: { CI: '1' } });
    expect(before.code, before.stderr).toBe(0);
    expect(before.stderr).toBe('');
  });

  it('warnings and errors still reach stderr', async () => {
    const warned = await runCli(['k8s', '--local', '--repository', '127.0.0.1:5000/studio/game', '-q'], { cwd: dir, env: { CI: '1' } });
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toMatch(/^warning: baseImage is scratch/m);
    const failed = await runCli(['inspect', 'nosuch', '-q'], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error\[record\.no-build\]: /);
  });
});
