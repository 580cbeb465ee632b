// A studio folder with one config per game side by side (game-a.yaml, game-b.yaml): one state folder, each game its
// own store (`.gamelayer/oci-<game>`), its own app trees (`<game>/app`, `<game>/app-media`), the engine folders shared
// unless a game names its own.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { prng } from './prng.js';
import { writeTree } from './trees.js';

export interface StudioGame {
  name: string;
  /** The engine tree's source folder; default `engine`, shared. */
  engine?: string;
  /** More config lines (`mountFrom: [...]`). */
  extra?: string[];
}

/** Writes each game's app trees (a config line, `mediaBytes` of its own media) and its `<name>.yaml` in `dir`. */
export async function writeStudioGames(dir: string, games: StudioGame[], mediaBytes: number): Promise<void> {
  for (const game of games) {
    await writeTree(path.join(dir, game.name, 'app'), { 'server.cfg': `name=${game.name}\n` });
    await writeTree(path.join(dir, game.name, 'app-media'), { 'levels.pak': prng(game.name, mediaBytes) });
    await writeFile(
      path.join(dir, `${game.name}.yaml`),
      [
        `game: ${game.name}`,
        'start: /opt/local/engine/bin/server',
        `store: .gamelayer/oci-${game.name}`,
        ...(game.extra ?? []),
        'trees:',
        `  engine: {source: ${game.engine ?? 'engine'}}`,
        '  engine-media: {source: engine-media}',
        `  app: {source: ${game.name}/app}`,
        `  app-media: {source: ${game.name}/app-media}`,
        '',
      ].join('\n'),
    );
  }
}
