// `gamelayer ecs --launch-type fargte` in a game without a registry said "registry: not set" first (the check of the
// value sat in the task definition, made once the build record was read); the next run said the flag was wrong. As
// k8s does (k8s-flags-first.test.ts), a mistyped flag value is now said first.
import { describe, it } from 'vitest';
import { expectFlagValueSaidFirst } from './support/tiny-game.js';

describe('ecs with a mistyped flag value, no registry and no build', () => {
  it.each([
    [['--launch-type', 'fargte'], '--launch-type: got "fargte"; expected fargate or ec2'],
    [['--launch-type', 'ec2', '--network-mode', 'brige'], '--network-mode: got "brige"; expected awsvpc, bridge, host'],
    [['--family', 'a b'], '--family: got "a b"; expected 1-255 letters'],
  ])('ecs %j names the flag', (flags, said) => expectFlagValueSaidFirst('ecs', flags, said));
});
