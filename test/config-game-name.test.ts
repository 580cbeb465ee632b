// `game:` is the image repository's last path part: `load` and `run-local` tag images `<game>:<tag>` (or
// `localhost/<game>`), `dockerfile` names a local base `gamelayer-base/<game>`. The old rule took any run of
// ".", "_" and "-" and a separator at the end, so "a.b..c" or "game-" loaded, built, and failed only at `load` as
// an invalid reference that named no field; init proposed such names from folder names ("a.b..c", "Ünïcode" → "n-code").
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

async function game(name: string): Promise<string> {
  const dir = await tempDir('gl-game-name-');
  await writeTinyGame(dir, [`game: "${name}"`, 'start: [/opt/local/engine/run]'], { files: false });
  return dir;
}

describe('game: a name a repository can hold', () => {
  for (const name of ['a.b..c', 'game-', 'game.', 'game_', 'a._b', 'a-.b']) {
    it(`"${name}" is refused where it is written, before anything runs`, async () => {
      const dir = await game(name);
      const r = await runCli(['scan'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`error[config.invalid]: ${path.join(dir, 'gamelayer.yaml')}:1:7: game: expected a repository path part`);
    });
  }

  it('a name of 129 characters is refused; names the distribution grammar takes still load', async () => {
    const long = await runCli(['scan'], { cwd: await game('g'.repeat(129)) });
    expect(long.code).toBe(1);
    expect(long.stderr).toContain('game: expected at most 128 characters');
    for (const ok of ['my-game', 'my_game.v2', 'a__b', 'a---b', 'g'.repeat(128)]) {
      const r = await runCli(['scan'], { cwd: await game(ok) });
      expect(r.code, `${ok}: ${r.stderr}`).toBe(0);
    }
  });

  it('init proposes a valid name from any folder name: accents kept as letters, separator runs made one "-"', async () => {
    const root = await tempDir('gl-game-init-');
    for (const [folder, want] of [
      ['Ünïcode Game', 'unicode-game'],
      ['a.b..c', 'a.b-c'],
      ['x._y-', 'x-y'],
      ['g'.repeat(200), 'g'.repeat(128)],
    ] as const) {
      const dir = path.join(root, folder);
      await mkdir(dir);
      const r = await runCli(['init', dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')).toContain(`game: "${want}"`);
      expect((await runCli(['scan'], { cwd: dir })).code).toBe(0);
    }
  });
});
