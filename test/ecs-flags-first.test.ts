// `gamelayer ecs --launch-type fargte` in a game without a registry said "registry: not set" first (the check of the
// value sat in the task definition, made once the build record was read); the next run said the flag was wrong. As
// k8s does (k8s-flags-first.test.ts), a mistyped flag value is now said first.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

describe('ecs with a mistyped flag value, no registry and no build', () => {
  it.each([
    [['--launch-type', 'fargte'], '--launch-type: got "fargte"; expected fargate or ec2'],
    [['--launch-type', 'ec2', '--network-mode', 'brige'], '--network-mode: got "brige"; expected awsvpc, bridge, host'],
    [['--family', 'a b'], '--family: got "a b"; expected 1-255 letters'],
  ])('ecs %j names the flag', async (flags, said) => {
    const dir = await tempDir('gl-ecs-flags-');
    await writeTinyGame(dir, ['game: ecs-flags-first', 'start: [/opt/local/engine/run]']);
    const r = await runCli(['ecs', ...flags], { cwd: dir });
    expect(r.code, r.stderr).toBe(2); // a usage error
    expect(r.stderr).toContain(`error[deploy.option]: ${said}`);
    expect(r.stderr).not.toContain('deploy.repository');
  });
});
