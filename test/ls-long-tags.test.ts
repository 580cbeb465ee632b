// `ls REPO` with long build tags: its KIND column (`record of <tag> (line <line>)`) is as long as the tags, and only
// the tag column was cut, to 6 characters ("1.0.…p"). Both now share the cut (80 columns in a pipe, or COLUMNS),
// and COLUMNS widens a piped listing so scripts get whole tags.
import { cp } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

let dir: string;
let registry: TestRegistry;
const tag = 'v2-hotfix-for-the-winter-event-build-4711';

beforeAll(async () => {
  dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
  registry = await startRegistry();
  const pushed = await runCli(['build', '--tag', tag, '--push', `${registry.host}/studio/sample`], { cwd: dir });
  expect(pushed.code, pushed.stderr).toBe(0);
}, 180_000);
afterAll(async () => {
  await registry?.stop();
});

const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));
const tagsOf = (text: string) => text.split('\n').slice(2, -2).map((l) => l.split(/\s{2,}/)[0]!);

describe('ls REPO with long tags', () => {
  it('prints whole tags into a pipe as wide as COLUMNS', async () => {
    const piped = (await runCli(['ls', `${registry.host}/studio/sample`], { cwd: dir, env: { COLUMNS: '300' } })).stdout;
    expect(piped).toMatch(new RegExp(`^${tag}-app-media +image `, 'm'));
    expect(piped).toMatch(new RegExp(`^${tag}\\.gamelayer-record +record of ${tag} `, 'm'));
    expect(tagsOf(piped)).toContain('gamelayer-line.default');
  });

  it('cuts tags and kinds together to 80 columns in a pipe, each tag still readable at both ends', async () => {
    const cut = (await runCli(['ls', `${registry.host}/studio/sample`], { cwd: dir, env: { COLUMNS: undefined } })).stdout;
    expect(widest(cut)).toBeLessThanOrEqual(80);
    const tags = tagsOf(cut);
    expect(tags.length).toBe(7); // five images, the build record, the line tag
    expect(new Set(tags).size).toBe(tags.length);
    for (const t of tags) expect(t.length).toBeGreaterThanOrEqual(Math.min(22, t.length));
    for (const tree of ['-engine', '-engine-media', '-app', '-app-media', 'layer-record']) {
      expect(tags.some((t) => t.startsWith('v2-hotfix') && t.endsWith(tree)), tree).toBe(true);
    }
  });
});
