// A generated game big enough that a build takes a second or two and writes many layers, for tests that
// interrupt or disturb a build part-way. Projects share its trees: each gets its own gamelayer.yaml (and so
// its own `.gamelayer/`) whose sources point at the one generated copy.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateGame } from '../../fixtures/generator/index.js';

export interface BigGame {
  dir: string;
  /** Absolute source per tree; the engine is a tar.gz (archive path), the others directories. */
  sources: Record<'engine' | 'engine-media' | 'app' | 'app-media', string>;
  bytes: number;
}

export async function makeBigGame(dir: string, size = 40e6, files = 300): Promise<BigGame> {
  const gen = path.join(dir, 'game');
  const r = await generateGame({ out: gen, size, files, seed: 'reliability' });
  // A build-only game on scratch: its start is a stand-in launcher, as the trees fixture's, not the generated start.sh,
  // whose #!/bin/sh no layer holds (the build warns of that, and these tests expect a clean stderr).
  await mkdir(path.join(gen, 'engine', 'bin'), { recursive: true });
  await writeFile(path.join(gen, 'engine', 'bin', 'server'), Buffer.from('\x7fELF\x02\x01\x01\x00', 'latin1'), { mode: 0o755 });
  const tarball = path.join(dir, 'engine.tar.gz');
  execFileSync('tar', ['-C', path.join(gen, 'engine'), '-czf', tarball, '.']);
  return {
    dir: gen,
    sources: {
      engine: tarball,
      'engine-media': path.join(gen, 'engine-media'),
      app: path.join(gen, 'app'),
      'app-media': path.join(gen, 'app-media'),
    },
    bytes: r.bytes,
  };
}

/** A project folder (gamelayer.yaml + its own state) building `game` with small layers. */
export async function makeProject(dir: string, game: BigGame, extraYaml = ''): Promise<string> {
  await mkdir(dir, { recursive: true });
  const s = game.sources;
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    `game: big-game\nversion: 1.0.0\nstart: /opt/local/engine/bin/server\nlayers:\n  targetSize: 1MB\n` +
      `trees:\n  engine: {source: ${s.engine}}\n  engine-media: {source: ${s['engine-media']}}\n` +
      `  app: {source: ${s.app}}\n  app-media: {source: ${s['app-media']}}\n${extraYaml}`,
  );
  return dir;
}
