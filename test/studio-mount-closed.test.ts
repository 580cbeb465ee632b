// A `mountFrom:` repository these credentials may not read (another team's, on a registry with token auth): the
// push must upload what it cannot mount, not fail.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { DEFAULT_USER } from './support/registry.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { GAME_YAML, writeGame } from './support/trees.js';

const registry = useRegistry({ auth: 'token', closedRepos: ['studio/other-team'] });
const env = { GAMELAYER_REGISTRY_USERNAME: DEFAULT_USER.username, GAMELAYER_REGISTRY_PASSWORD: DEFAULT_USER.password };
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-studio-closed-');
  await writeGame(dir);
  await writeFile(path.join(dir, 'gamelayer.yaml'), `${GAME_YAML.replace('game: test-game', 'game: game-b')}mountFrom: [studio/other-team]\n`);
}, 60_000);

describe('a mountFrom repository the credentials may not read', () => {
  it('uploads the blobs instead', async () => {
    const r = await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/studio/game-b`], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/blobs: \d+ uploaded, 0 mounted/);
  }, 120_000);

  it('listed before a readable one: mounts from the readable one', async () => {
    const c = await tempDir('gl-studio-closed-c-');
    await writeGame(c);
    await writeFile(path.join(c, 'gamelayer.yaml'), `${GAME_YAML.replace('game: test-game', 'game: game-c')}mountFrom: [studio/other-team, studio/game-b]\n`);
    const r = await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/studio/game-c`], { cwd: c, env });
    expect(r.code, r.stderr).toBe(0);
    // Everything but the image configs (they name the game) is game B's.
    expect(r.stdout).toMatch(/blobs: \d+ uploaded, [1-9]\d* mounted/);
  }, 120_000);
});
