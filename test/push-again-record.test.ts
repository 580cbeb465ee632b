// `push REPO:TAG` of a build that `build --push REPO` already put there sends nothing: the record it reads back from
// .gamelayer/records is the same JSON, so the same blob, as the one the build pushed. Its keys came in another order
// (the schema's), so the record went up again in other bytes, its tag and the line's tag moved to a new index and the
// old one stayed behind untagged (after a prune, an index naming a deleted image).
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { storedTags } from './support/registry.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

describe('push of a build already pushed', () => {
  it('leaves its record and tags as build --push left them, and uploads nothing', async () => {
    const game = await tempDir();
    copySample(game);
    const repo = `${registry.host}/studio/push-again`;
    const built = await runCli(['build', '--push', repo, '--tag', 'v1'], { cwd: game });
    expect(built.code, built.stderr).toBe(0);
    const before = await storedTags(registry.storageDir, 'studio/push-again');
    expect(before['v1.gamelayer-record']).toBeDefined();
    const uploads = await registry.completedUploads();

    const again = await runCli(['push', `${repo}:v1`], { cwd: game });
    expect(again.code, again.stderr).toBe(0);
    expect(await storedTags(registry.storageDir, 'studio/push-again')).toEqual(before);
    expect(await registry.completedUploads()).toBe(uploads);
  }, 120_000);
});
