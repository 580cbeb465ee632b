// ECS task definition names and paths that ECS would refuse (or mis-read) are refused where they are given, naming
// the flag, as k8s does (and `codebuild imagedefinitions --server-container 'bad name!'`, a name no container has): `--family 'my game'` and `--copy-root relative` were written into the task definition, the
// first refused by RegisterTaskDefinition only at deploy time, the second a relative containerPath and copy script.
import { describe, expect, it } from 'vitest';
import { imageDefinitions } from '../src/codebuild/imagedefinitions.js';
import { ecsTaskDefinition } from '../src/ecs/task-definition.js';
import { deployInputFrom } from '../src/k8s/input.js';
import { REPOSITORY, fixtureConfig, fixtureRecord } from './k8s-fixture.js';

const input = () => deployInputFrom(fixtureConfig(), fixtureRecord(), REPOSITORY);

describe('ECS family and copy root', () => {
  it.each(['my game', 'game:1', 'a/b', '', 'x'.repeat(256)])('--family %j is refused', (family) => {
    expect(() => ecsTaskDefinition(input(), { family })).toThrow(
      `--family: got ${JSON.stringify(family)}; expected 1-255 letters, digits, "_" and "-" (ECS task definition family)`,
    );
  });

  it('a family of the allowed characters is written as given', () => {
    expect(ecsTaskDefinition(input(), { family: 'My_game-2' }).taskDefinition.family).toBe('My_game-2');
    expect(ecsTaskDefinition(input(), { family: 'x'.repeat(255) }).taskDefinition.family).toBe('x'.repeat(255));
  });

  it.each(['relative', 'mnt/copies', '/mnt/../etc', ''])('--copy-root %j is refused', (copyRoot) => {
    expect(() => ecsTaskDefinition(input(), { copyRoot })).toThrow(`--copy-root: got ${JSON.stringify(copyRoot)}; expected an absolute path such as /mnt`);
  });

  it('an absolute copy root is where the copies mount', () => {
    const td = ecsTaskDefinition(input(), { copyRoot: '/copies' }).taskDefinition;
    const paths = (td.containerDefinitions ?? []).flatMap((c) => (c.mountPoints ?? []).map((m) => m.containerPath));
    expect(paths).toContain('/copies/app');
  });

  it.each(['bad name!', 'a:b', '', 'x'.repeat(256)])('imagedefinitions --server-container %j is refused', (serverContainer) => {
    expect(() => imageDefinitions(input(), { serverContainer })).toThrow(
      `--server-container: got ${JSON.stringify(serverContainer)}; expected 1-255 letters, digits, "_" and "-" (an ECS container name)`,
    );
  });
});
