// What earlier runs left in the daemon (a run killed with SIGKILL, a closed terminal, --keep): said before a new run
// creates anything. Their engine still held the `-p` port, and the next run copied every tree before Docker refused
// the engine ("port is already allocated", with a hint to pass --network none, where -p is refused).
import type Docker from 'dockerode';
import { GamelayerError } from '../errors.js';
import { daemonError } from '../docker/daemon.js';

export const RUN_LABEL = 'dev.gamelayer.run-local';
export const GAME_LABEL = 'dev.gamelayer.game';

export function leftoverCommands(runId: string): string {
  return (
    `docker rm -f $(docker ps -aq --filter label=${RUN_LABEL}=${runId}); ` +
    `docker volume rm $(docker volume ls -q --filter label=${RUN_LABEL}=${runId})`
  );
}

/** Every container in the daemon, running or not: listed once for both checks before a run (below). */
export async function daemonContainers(docker: Docker): Promise<Docker.ContainerInfo[]> {
  try {
    return await docker.listContainers({ all: true });
  } catch (e) {
    throw daemonError(e, 'list its containers');
  }
}

/**
 * A note naming the runs of `game` whose containers (of `all`, daemonContainers) or volumes are in the daemon, with
 * how to remove them; or undefined.
 */
export async function earlierRunsNote(docker: Docker, all: readonly Docker.ContainerInfo[], game: string): Promise<string | undefined> {
  const containers = all.filter((c) => c.Labels?.[GAME_LABEL] === game);
  let volumes: Docker.VolumeInspectInfo[];
  try {
    volumes = (await docker.listVolumes({ filters: { label: [`${GAME_LABEL}=${game}`] } })).Volumes ?? [];
  } catch (e) {
    throw daemonError(e, 'list the volumes of earlier runs');
  }
  const runs = new Set([...containers.map((c) => c.Labels?.[RUN_LABEL]), ...volumes.map((v) => v.Labels?.[RUN_LABEL])].filter((r): r is string => !!r));
  if (runs.size === 0) return undefined;
  const running = containers.filter((c) => c.State === 'running').length;
  return (
    `${[...runs].join(', ')}: ${containers.length} container(s) (${running} running) and ${volumes.length} volume(s) of ` +
    `${runs.size === 1 ? 'an earlier run' : 'earlier runs'} of ${game} are in the daemon (a run still going, or one killed before it cleaned up, or --keep); ` +
    `remove them with: ${[...runs].map(leftoverCommands).join('; ')}`
  );
}

/**
 * Refuses `--publish port` before anything is created when a container (of `all`, daemonContainers) already publishes
 * it on the loopback (or on every address), naming that container and, when an earlier run of ours left it, how to
 * remove it.
 */
export function checkPortFree(all: readonly Docker.ContainerInfo[], port: number | undefined, protocol: 'udp' | 'tcp' = 'udp'): void {
  if (port === undefined) return;
  // Every running container, not Docker's `publish` filter: it takes tcp unless told, and the game port is udp.
  const holders = all.filter((c) => c.State === 'running');
  // Docker refuses the same port and protocol on the loopback or on every IPv4 address; 7777/tcp leaves 7777/udp free.
  const clashes = (p: Docker.Port) => p.PublicPort === port && p.Type === protocol && (p.IP === '127.0.0.1' || p.IP === '0.0.0.0' || !p.IP);
  const holder = holders.find((c) => (c.Ports ?? []).some(clashes));
  if (!holder) return;
  const name = (holder.Names?.[0] ?? holder.Id.slice(0, 12)).replace(/^\//, '');
  const run = holder.Labels?.[RUN_LABEL];
  throw new GamelayerError(
    'run.option',
    `--publish ${port}: container ${name} publishes port ${port}/${protocol} already${run ? ` (left by run-local run ${run})` : ''}, so Docker would refuse the engine after the copies`,
    run ? `remove that run with: ${leftoverCommands(run)}; or pass another -p` : `stop that container (docker rm -f ${name}), or pass another -p`,
  );
}
