// A build of one platform of several (`build --platform P --push REPO`) leaves the line's tag to `gamelayer index`.
// The second platform's build, before the first merge, found no line tag and said "deleted?" and "this push tags the
// line again": neither was true (nothing was deleted, and its push tags no line). The note now says why there is none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-platform-note-');
  await writeTinyGame(dir, ['game: note-game', 'version: 1.0.0', 'start: /opt/local/engine/start.sh', 'platforms: [linux/amd64, linux/arm64]'], {
    source: (t) => (t === 'engine' || t === 'app' ? `{linux/amd64: ${t}, linux/arm64: ${t}}` : t),
  });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const tagsOf = async (repo: string) => ((await (await fetch(`${registry.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] }).tags;

describe('a platform build before the first merge', () => {
  it('says the line tag is left to gamelayer index, not that it was deleted or that this push tags it', async () => {
    const repo = `${registry.host}/studio/note-game`;
    const amd = await runCli(['build', '--platform', 'linux/amd64', '--push', repo, '--line', 'main'], { cwd: dir });
    expect(amd.code, amd.stderr).toBe(0);
    await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true }); // the arm64 host
    const arm = await runCli(['build', '--platform', 'linux/arm64', '--push', repo, '--line', 'main'], { cwd: dir });
    expect(arm.code, arm.stderr).toBe(0);
    const note = arm.stderr.split('\n').find((l) => l.startsWith('note:') && l.includes('has no line tag'));
    expect(note, arm.stderr).toBe(
      `note: ${repo} has no line tag (gamelayer-line.main, nor another line's: builds of one platform leave it to gamelayer index): ` +
        `planned on its newest build record (${repo}:1.0.0-linux-amd64.gamelayer-record, built ${note?.match(/built (\S+)\)/)?.[1]}); ` +
        'gamelayer index tags the line once the platforms are merged; --from none plans afresh',
    );
    // What the note says holds: the platform builds tagged no line; the merge does.
    expect((await tagsOf('studio/note-game')).filter((t) => t.startsWith('gamelayer-line.'))).toEqual([]);
    const merged = await runCli(['index', repo, '--line', 'main'], { cwd: dir });
    expect(merged.code, merged.stderr).toBe(0);
    expect(await tagsOf('studio/note-game')).toContain('gamelayer-line.main');
  });
});
