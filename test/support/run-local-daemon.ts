// What run-local tests read back from the real Docker daemon: the containers and volumes a run (or every run of a
// game) left, by their labels; and the game's images, removed after the file.
import Docker from 'dockerode';
import { GAME_LABEL, RUN_LABEL } from '../../src/runlocal/leftovers.js';
import { removeImagesAfterRun } from './docker-cleanup.js';

/** Containers and volumes of one run (or of every run of `game`) still in the daemon, as `container /name` and `volume name`. */
export async function runLeftovers(docker: Docker, game: string, runId?: string): Promise<string[]> {
  const label = runId ? [`${RUN_LABEL}=${runId}`] : [`${GAME_LABEL}=${game}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  const volumes = (await docker.listVolumes({ filters: { label } })).Volumes ?? [];
  return [...containers.map((c) => `container ${c.Names[0]}`), ...volumes.map((v) => `volume ${v.Name}`)];
}

/** Removes every image `game:*` run-local loaded into the daemon (podman-style `localhost/` names too). */
export async function removeGameImages(docker: Docker, game: string): Promise<void> {
  removeImagesAfterRun((await docker.listImages({ filters: { reference: [`${game}:*`, `localhost/${game}:*`] } })).flatMap((img) => img.RepoTags ?? []));
}
