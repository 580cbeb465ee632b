// Copies of the bundled sample game for tests that build, change and compare it.
import { execFileSync } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type GameConfig } from '../../src/config/load.js';
import { tempDir } from './tmp.js';

export const SAMPLE = path.resolve('fixtures/sample-game');

/** A copy of the sample game (without its .gamelayer state) at `dst`; `umask` applies to the copy. */
export function copySample(dst: string, umask = '022'): void {
  execFileSync('sh', ['-c', `umask ${umask} && mkdir -p "$2" && cd "$1" && tar --exclude=./.gamelayer -cf - . | (cd "$2" && tar --no-same-permissions -xf -)`, 'sh', SAMPLE, dst]);
}

export async function sampleConfig(dir: string, yamlExtra = ''): Promise<GameConfig> {
  if (yamlExtra) await appendFile(path.join(dir, 'gamelayer.yaml'), `\n${yamlExtra}\n`);
  return loadConfig(path.join(dir, 'gamelayer.yaml'));
}

/** A fresh copy of the sample game at `game` in a temp folder of its own (`dir`, for other files), and its config. */
export async function sampleGame(yamlExtra = ''): Promise<{ dir: string; game: string; config: GameConfig }> {
  const dir = await tempDir();
  const game = path.join(dir, 'game');
  copySample(game);
  return { dir, game, config: await sampleConfig(game, yamlExtra) };
}
