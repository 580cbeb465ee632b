// A game that `gamelayer run-local` runs on the real Docker engine in a test: its containers, volumes and images
// (found by the game label and the game's image names) are removed before the file's tests and after them.
import Docker from 'dockerode';
import { afterAll, beforeAll } from 'vitest';
import { GAME_LABEL } from '../../src/runlocal/leftovers.js';
import { removeGameImages } from './run-local-daemon.js';
import { tempDir } from './tmp.js';

/** Removes every container, volume and image of `game` from the daemon. */
export async function removeRunLocalGame(docker: Docker, game: string): Promise<void> {
  const label = [`${GAME_LABEL}=${game}`];
  for (const c of await docker.listContainers({ all: true, filters: { label } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
  await removeGameImages(docker, game);
}

/** Registers the clean-up of `game` around the file's tests; `work()` is a temp folder made for them. */
export function useRunLocalGame(game: string, prefix: string): { docker: Docker; work: () => string } {
  const docker = new Docker();
  let work: string | undefined;
  beforeAll(async () => {
    work = await tempDir(prefix);
    await removeRunLocalGame(docker, game);
  }, 120_000);
  afterAll(async () => {
    await removeRunLocalGame(docker, game);
  }, 120_000);
  return { docker, work: () => work! };
}
