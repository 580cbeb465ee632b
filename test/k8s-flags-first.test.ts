// `gamelayer k8s --kind pods` in a game without a registry said "registry: not set, so the image repository is
// unknown"; once that was set, the next run said --kind was wrong. A mistyped flag value is now said first, before
// the registry, the record or a build are looked for.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('k8s with a mistyped --kind or --volumes, no registry and no build', () => {
  it.each([
    [['--kind', 'pods'], '--kind: got "pods"; expected one of pod, deployment, gameserver, fleet'],
    [['--volumes', 'inti'], '--volumes: got "inti"; expected one of none, init, image'],
  ])('k8s %j names the flag', async (flags, said) => {
    const dir = await tempDir('gl-k8s-flags-');
    await writeTinyGame(dir, ['game: flags-first', 'start: [/opt/local/engine/run]']);
    const r = await runCli(['k8s', ...flags], { cwd: dir });
    expect(r.code, r.stderr).toBe(2); // a usage error
    expect(r.stderr).toContain(`error[deploy.option]: ${said}`);
    expect(r.stderr).not.toContain('deploy.repository');
  });
});
