// The OS base image kept in ECR, in its own repository with mutable tags (its `stable` tag moves with each OS
// patch), and the game's first build creating its repository: `build --push … --create-repo --immutable-tags
// --scan-on-push`. The base was read with the push's ECR options, so its repository was held to them: the build
// stopped at `error[base.pull]: … --immutable-tags: ECR repository "base/os" … exists with mutable tags`, after the
// game's repository had been created. The repository setup is the push's: the base is only read.
import { describe, expect, it } from 'vitest';
import { pushBusyboxBase } from './support/busybox-layout.js';
import { useEcrGame } from './support/ecr-game.js';
import { storedTags } from './support/registry.js';
import { sampleOnBase } from './support/sample.js';

const ecrGame = useEcrGame('gl-ecr-base-settings-', { game: false });

describe('a base image in ECR and a repository the push creates', () => {
  it('--create-repo --immutable-tags --scan-on-push set up the game\'s repository; the base\'s is only read', async () => {
    const { ecr } = ecrGame;
    ecr.repositories.set('base/os', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    const pw = ecr.registry.users[0]!;
    await pushBusyboxBase(`${ecr.host}/base/os:stable`, `${pw.username}:${pw.password}`);
    const dir = await sampleOnBase(`${ecr.host}/base/os:stable`, 'gl-ecr-base-game-');

    const r = await ecrGame.buildPush('studio/game', 'd0', ['--create-repo', '--immutable-tags', '--scan-on-push'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(ecr.repositories.get('studio/game')).toMatchObject({ mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['gamelayer-line.*', 'sha256-*'], scanOnPush: true });
    // The base's repository is as it was: never created, changed or held to the push's settings.
    expect(ecr.repositories.get('base/os')).toMatchObject({ mutability: 'MUTABLE', scanOnPush: false });
    expect(ecr.calls.filter((c) => c.op === 'CreateRepository').map((c) => c.body.repositoryName)).toEqual(['studio/game']);
    expect(Object.keys(await storedTags(ecr.registry.storageDir, 'studio/game'))).toEqual(expect.arrayContaining(['d0', 'd0-app', 'gamelayer-line.default']));
  }, 180_000);
});
