// `gamelayer k8s --kind pods` in a game without a registry said "registry: not set, so the image repository is
// unknown"; once that was set, the next run said --kind was wrong. A mistyped flag value is now said first, before
// the registry, the record or a build are looked for.
import { describe, it } from 'vitest';
import { expectFlagValueSaidFirst } from './support/tiny-game.js';

describe('k8s with a mistyped --kind or --volumes, no registry and no build', () => {
  it.each([
    [['--kind', 'pods'], '--kind: got "pods"; expected one of pod, deployment, gameserver, fleet'],
    [['--volumes', 'inti'], '--volumes: got "inti"; expected one of none, init, image'],
  ])('k8s %j names the flag', (flags, said) => expectFlagValueSaidFirst('k8s', flags, said));
});
