// A small game for kill tests whose second build is a compaction update: app media is 60 files of 60 kB (several
// layers at a 1 MB target); day 2 rewrites 25 of them in place, so one old layer is mostly dead and is rewritten
// (docs/compaction.md) beside the day's patch. Contents are seeded: every copy is byte for byte the same.
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { prng } from './prng.js';

const MEDIA_FILES = 60;
const MEDIA_SIZE = 60_000;
/** Files of app media day 2 rewrites. */
export const REWRITTEN = 25;

const media = (i: number) => `app-media/f${String(i).padStart(2, '0')}.dat`;

/** gamelayer.yaml and day 1's sources at `dir`. */
export async function writeKillGame(dir: string): Promise<void> {
  for (const t of ['engine', 'engine-media', 'app', 'app-media']) await mkdir(path.join(dir, 'src', t), { recursive: true });
  await writeFile(path.join(dir, 'src/engine/start.sh'), '#!/bin/sh\nexec sleep infinity\n');
  await chmod(path.join(dir, 'src/engine/start.sh'), 0o755);
  await writeFile(path.join(dir, 'src/engine-media/shaders.pak'), prng('shaders', 300_000));
  await writeFile(path.join(dir, 'src/app/game.cfg'), 'players=16\n');
  await writeFile(path.join(dir, 'src/app/game.so'), prng('game.so', 50_000));
  for (let i = 0; i < MEDIA_FILES; i++) await writeFile(path.join(dir, 'src', media(i)), prng(`${media(i)}:1`, MEDIA_SIZE));
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    'game: kill-game\nversion: 1.0.0\nstart: /opt/local/engine/start.sh\nlayers:\n  targetSize: 1MB\ntrees:\n' +
      '  engine: {source: ./src/engine}\n  engine-media: {source: ./src/engine-media}\n  app: {source: ./src/app}\n  app-media: {source: ./src/app-media}\n',
  );
}

/**
 * The sources of `day` (2 or later): day 2 rewrites the first REWRITTEN media files (the compaction update); each
 * later day adds one file. Day 1 again (`day` 1) puts the first files back as they were.
 */
export async function changeKillGame(dir: string, day: number): Promise<void> {
  const version = day === 1 ? 1 : 2;
  for (let i = 0; i < REWRITTEN; i++) await writeFile(path.join(dir, 'src', media(i)), prng(`${media(i)}:${version}`, MEDIA_SIZE));
  if (day > 2) await writeFile(path.join(dir, 'src', `app-media/day${day}.dat`), prng(`day${day}`, MEDIA_SIZE));
}
