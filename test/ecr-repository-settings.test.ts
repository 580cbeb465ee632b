// `--immutable-tags` / `--scan-on-push` set up the repository `--create-repo` creates. For a repository that already
// existed without them they did nothing, silently: a build engineer adding them to the buildspec of an existing
// repository believed its tags immutable and its images scanned. They are now refused before anything is sent, with the
// `aws ecr` command that changes the repository; a repository that has the settings takes them as before.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { storedManifests } from './support/registry.js';
import { useEcrGame } from './support/ecr-game.js';

const t = useEcrGame('gl-ecr-settings-');
const build = (tag: string, flags: string[]) => t.buildPush('studio/game', tag, flags);

describe('--immutable-tags / --scan-on-push for a repository that exists', () => {
  it('are refused where the repository lacks the setting, and taken where it has it', async () => {
    const first = await build('v1', ['--create-repo']);
    expect(first.code, first.stderr).toBe(0);
    const manifests = await storedManifests(t.ecr.registry.storageDir, 'studio/game');
    await appendFile(path.join(t.dir, 'app/game.xml'), '<v2/>\n');

    const immutable = await build('v2', ['--create-repo', '--immutable-tags']);
    expect(immutable.code).toBe(1);
    expect(immutable.stderr).toContain(
      '--immutable-tags: ECR repository "studio/game" (region eu-west-1) exists with mutable tags (MUTABLE); the flag only sets up a repository --create-repo creates',
    );
    expect(immutable.stderr).toContain(
      "hint: make its tags immutable but the line, signature and referrers tags: aws ecr put-image-tag-mutability --repository-name studio/game --image-tag-mutability IMMUTABLE_WITH_EXCLUSION --image-tag-mutability-exclusion-filters filterType=WILDCARD,filter='gamelayer-line.*' filterType=WILDCARD,filter='sha256-*'",
    );
    const scan = await build('v2', ['--scan-on-push']);
    expect(scan.code).toBe(1);
    expect(scan.stderr).toContain('error[ecr.repository-settings]: --scan-on-push: ECR repository "studio/game" (region eu-west-1) exists without scan on push');
    expect(scan.stderr).toContain('aws ecr put-image-scanning-configuration --repository-name studio/game --image-scanning-configuration scanOnPush=true');
    // Nothing was pushed by the refused runs.
    expect(await storedManifests(t.ecr.registry.storageDir, 'studio/game')).toEqual(manifests);

    // The repository changed as the hints say: the same flags are taken.
    t.ecr.repositories.set('studio/game', { ...t.ecr.repositories.get('studio/game')!, mutability: 'IMMUTABLE_WITH_EXCLUSION', exclusions: ['gamelayer-line.*'], scanOnPush: true });
    const after = await build('v2', ['--create-repo', '--immutable-tags', '--scan-on-push']);
    expect(after.code, after.stderr).toBe(0);
  });
});
