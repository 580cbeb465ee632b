// Copies of the bundled sample game for tests that build, change and compare it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll } from 'vitest';
import { loadConfig, type GameConfig } from '../../src/config/load.js';
import { tempDir } from './tmp.js';

import { copySample, copyTwoPlatformSample } from './sample-copy.js';

export { SAMPLE, copySample, copyTwoPlatformSample } from './sample-copy.js';

/**
 * Registers a `beforeAll` that copies the two-platform sample (`copyTwoPlatformSample`) into a temp folder of the test
 * file's own; `dir` is that folder, read by tests and later hooks (an error before the `beforeAll` has run).
 */
export function useTwoPlatformSample(timeout = 120_000): { readonly dir: string } {
  let dir: string | undefined;
  beforeAll(async () => {
    const made = await tempDir();
    await copyTwoPlatformSample(made);
    dir = made;
  }, timeout);
  return {
    get dir(): string {
      if (dir === undefined) throw new Error('the two-platform sample is used before beforeAll copied it');
      return dir;
    },
  };
}

/** The sample's start as it ships: its launcher (a stand-in binary), since scratch has no /bin/sh for start.sh. */
export const SAMPLE_START_LINE = 'start: ["/opt/local/engine/bin/SampleGame.ServerLauncher"]';
/** The start a test that runs the sample gives it: start.sh, which verifies the four trees, on a base with a shell. */
export const SAMPLE_SCRIPT_START_LINE = 'start: ["/opt/local/engine/start.sh"]';

/** The sample's gamelayer.yaml text on `baseImage` (a base with a shell), started by its start.sh. */
export function sampleYamlOn(yaml: string, baseImage: string): string {
  if (!yaml.includes('baseImage: scratch') || !yaml.includes(SAMPLE_START_LINE)) throw new Error('not the sample\'s gamelayer.yaml');
  return yaml.replace('baseImage: scratch', `baseImage: ${baseImage}`).replace(SAMPLE_START_LINE, SAMPLE_SCRIPT_START_LINE);
}

/** A copy of the sample game in a temp folder of its own (`prefix`), its baseImage `baseImage` (start as it ships). */
export async function sampleOnBase(baseImage: string, prefix?: string): Promise<string> {
  const dir = await tempDir(prefix);
  copySample(dir);
  const file = path.join(dir, 'gamelayer.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace('baseImage: scratch', `baseImage: ${baseImage}`));
  return dir;
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

/**
 * Puts a 2 MiB pak (the sample's own are too small to chunk; deterministic, not compressible to nothing) at
 * `app-media/gamedata.pak` of the sample copy in `dir`, and its sha256 in the engine's checksum list, which the
 * engine verifies every file against at start.
 */
export async function writeChunkablePak(dir: string): Promise<Buffer> {
  const pak = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < pak.length; i += 4) pak.writeUInt32LE(((Math.imul(i, 2654435761) >>> 0) ^ (i >>> 7)) >>> 0, i);
  await writeFile(path.join(dir, 'app-media/gamedata.pak'), pak);
  const list = path.join(dir, 'app/checksums.sha256');
  const sum = createHash('sha256').update(pak).digest('hex');
  await writeFile(list, (await readFile(list, 'utf8')).replace(/^[0-9a-f]{64}  app-media\/gamedata\.pak$/m, `${sum}  app-media/gamedata.pak`));
  return pak;
}
