// A studio's game for the tests of games sharing layers (studio-build-from, studio-shared-layers): the test game's
// trees with one engine every game shares (the same 256 KiB server) and an app file of its own.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { prng } from './prng.js';
import { tempDir } from './tmp.js';
import { GAME_YAML, writeGame } from './trees.js';

/** The fields of `build --json` these tests read. */
export interface StudioBuildJson {
  summary: { built: number; layers: { tree: string; digest: string; reused: boolean }[]; previous: { source: string; ref?: string }; studioLayers?: { repository: string; layers: number; markers: number }[] };
  push: { bytesSent: number };
}

/** A folder holding game `name` (`extra` appended to its gamelayer.yaml); `prefix` names the temporary folder. */
export async function studioGame(prefix: string, name: string, extra = ''): Promise<string> {
  const dir = await tempDir(`${prefix}${name}-`);
  await writeGame(dir);
  await writeFile(path.join(dir, 'engine', 'bin', 'server'), prng('studio engine', 256 * 1024), { mode: 0o755 });
  await writeFile(path.join(dir, 'app', 'game.xml'), `<game name="${name}"/>\n`);
  await writeFile(path.join(dir, 'gamelayer.yaml'), `${GAME_YAML.replace('game: test-game', `game: ${name}`)}${extra}`);
  return dir;
}
