// A daily build on an ECR repository with immutable tags: `--create-repo --immutable-tags` made every tag immutable,
// the line tag too, so the line tag stayed on the first build for ever and each day's build planned on it (its
// change measured against day one, growing day after day), with no word said. The repository is now created
// immutable except the line tags (IMMUTABLE_WITH_EXCLUSION, filter `gamelayer-line.*`), and on a repository made
// fully immutable elsewhere the push says the line tag could not move and how to exempt it.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { storedTags } from './support/registry.js';
import { writeGame } from './support/trees.js';
import { useEcrGame } from './support/ecr-game.js';

const t = useEcrGame('gl-ecr-immutable-line-', { game: false });

async function day(game: string, repo: string, tag: string, extra: string[] = []) {
  await appendFile(path.join(game, 'app/game.xml'), `<day name="${tag}"/>\n`);
  const r = await t.buildPush(repo, tag, extra, game);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

describe('daily builds on an ECR repository with immutable tags', () => {
  it('--create-repo --immutable-tags leaves the line tags mutable: each day plans on the day before', async () => {
    const game = path.join(t.dir, 'created');
    await writeGame(game);
    await day(game, 'studio/game', 'd1', ['--create-repo', '--immutable-tags']);
    expect(t.ecr.repositories.get('studio/game')).toMatchObject({ mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['gamelayer-line.*', 'sha256-*'] });
    for (const [tag, before] of [['d2', 'd1'], ['d3', 'd2']] as const) {
      const r = await day(game, 'studio/game', tag);
      expect(r.stdout).toMatch(new RegExp(`previous build: .*gamelayer-line\\.default .*`));
      const tags = await storedTags(t.ecr.registry.storageDir, 'studio/game');
      expect(tags['gamelayer-line.default']).toBe(tags[`${tag}.gamelayer-record`]);
      expect(tags[`${before}.gamelayer-record`]).not.toBe(tags[`${tag}.gamelayer-record`]);
      expect(r.stdout + r.stderr).not.toContain('cannot move');
    }
    // The build tags themselves stay immutable.
    await appendFile(path.join(game, 'app/game.xml'), '<again/>\n');
    const again = await t.buildPush('studio/game', 'd3', [], game);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error[push.tag-immutable]');
  });

  it('a repository immutable throughout: the push says the line tag stays, and how to exempt it', async () => {
    const game = path.join(t.dir, 'strict');
    await writeGame(game);
    t.ecr.repositories.set('studio/strict', { mutability: 'IMMUTABLE', scanOnPush: false, createdAt: Date.now() });
    await day(game, 'studio/strict', 'd1');
    const first = (await storedTags(t.ecr.registry.storageDir, 'studio/strict'))['gamelayer-line.default'];
    const r = await day(game, 'studio/strict', 'd2');
    const tags = await storedTags(t.ecr.registry.storageDir, 'studio/strict');
    expect(tags['gamelayer-line.default']).toBe(first);
    expect(r.stdout + r.stderr).toContain(`note: ${t.ecr.host}/studio/strict:gamelayer-line.default cannot move (the repository's tags are immutable)`);
    expect(r.stdout + r.stderr).toContain("aws ecr put-image-tag-mutability --repository-name studio/strict --image-tag-mutability IMMUTABLE_WITH_EXCLUSION --image-tag-mutability-exclusion-filters filterType=WILDCARD,filter='gamelayer-line.*' filterType=WILDCARD,filter='sha256-*'");
  });
});
