// What earlier runs left in the daemon (a run killed with SIGKILL, a closed terminal, --keep): said before a new run
// creates anything. Their engine still held the `-p` port, and the next run copied every tree before Docker refused
// the engine ("port is already allocated", with a hint to pass --network none, where -p is refused). And removing
// them: `run-local --remove-leftovers` takes the runs whose run-local process is gone, the way a run removes its own.
import path from 'node:path';
import type Docker from 'dockerode';
import { CONFIG_FILE, STDIN_CONFIG, STDIN_CONFIG_NAME } from '../config/load.js';
import { GamelayerError } from '../errors.js';
import { daemonError } from '../docker/daemon.js';
import { shellWord } from '../util/shell-word.js';
import { OWNER_LABEL, ownerAliveReason } from './run-owner.js';

export const RUN_LABEL = 'dev.gamelayer.run-local';
export const GAME_LABEL = 'dev.gamelayer.game';
/**
 * What the messages about leftovers tell the user to run, for the config `file` (GameConfig.file) of this run: with
 * `-c FILE` unless it is ./gamelayer.yaml (the game of another config has other runs).
 */
export function removeLeftoversCommand(file: string | undefined): string {
  if (file === undefined) return 'gamelayer run-local --remove-leftovers';
  if (file === STDIN_CONFIG_NAME) return `gamelayer -c ${STDIN_CONFIG} run-local --remove-leftovers (with the config on stdin)`;
  if (file === path.resolve(CONFIG_FILE)) return removeLeftoversCommand(undefined);
  const relative = path.relative(process.cwd(), file);
  return `gamelayer -c ${shellWord(relative.startsWith('..') ? file : relative)} run-local --remove-leftovers`;
}

export function leftoverCommands(runId: string): string {
  return (
    `docker rm -f $(docker ps -aq --filter label=${RUN_LABEL}=${runId}); ` +
    `docker volume rm $(docker volume ls -q --filter label=${RUN_LABEL}=${runId})`
  );
}

/** Every container and volume labelled with `game`, of any run. */
async function gameLeftovers(docker: Docker, game: string): Promise<{ containers: Docker.ContainerInfo[]; volumes: Docker.VolumeInspectInfo[] }> {
  const containers = (await daemonContainers(docker)).filter((c) => c.Labels?.[GAME_LABEL] === game);
  return { containers, volumes: await gameVolumes(docker, game) };
}

async function gameVolumes(docker: Docker, game: string): Promise<Docker.VolumeInspectInfo[]> {
  try {
    return (await docker.listVolumes({ filters: { label: [`${GAME_LABEL}=${game}`] } })).Volumes ?? [];
  } catch (e) {
    throw daemonError(e, 'list the volumes of earlier runs');
  }
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
export async function earlierRunsNote(docker: Docker, all: readonly Docker.ContainerInfo[], game: string, removeCommand: string): Promise<string | undefined> {
  const containers = all.filter((c) => c.Labels?.[GAME_LABEL] === game);
  const volumes = await gameVolumes(docker, game);
  const runs = new Set([...containers.map((c) => c.Labels?.[RUN_LABEL]), ...volumes.map((v) => v.Labels?.[RUN_LABEL])].filter((r): r is string => !!r));
  if (runs.size === 0) return undefined;
  const running = containers.filter((c) => c.State === 'running').length;
  return (
    `${[...runs].join(', ')}: ${containers.length} container(s) (${running} running) and ${volumes.length} volume(s) of ` +
    `${runs.size === 1 ? 'an earlier run' : 'earlier runs'} of ${game} are in the daemon (a run still going, or one killed before it cleaned up, or --keep); ` +
    `remove those no run-local is running with: ${removeCommand}`
  );
}

export interface LeftoverRemoval {
  removed: { run: string; containers: string[]; volumes: string[] }[];
  /** Runs left alone, and why (their run-local is still going, or may be). */
  kept: { run: string; why: string }[];
  /** Runs tried whose containers or volumes the daemon would not remove, with what is left of each. */
  failed: { run: string; left: string[] }[];
}

/**
 * Removes the containers and volumes of `game`'s runs whose run-local process is gone (killed before it cleaned up,
 * or ended with --keep); a run whose process is alive, or that cannot be told (another host; an earlier release's run,
 * which has no owner label, with a container still running) is kept and said.
 */
export async function removeLeftovers(docker: Docker, game: string): Promise<LeftoverRemoval> {
  const { containers, volumes } = await gameLeftovers(docker, game);
  const runs = new Map<string, { containers: Docker.ContainerInfo[]; volumes: Docker.VolumeInspectInfo[] }>();
  const of = (run: string) => runs.get(run) ?? runs.set(run, { containers: [], volumes: [] }).get(run)!;
  for (const c of containers) if (c.Labels?.[RUN_LABEL]) of(c.Labels[RUN_LABEL]).containers.push(c);
  for (const v of volumes) if (v.Labels?.[RUN_LABEL]) of(v.Labels[RUN_LABEL]).volumes.push(v);
  const result: LeftoverRemoval = { removed: [], kept: [], failed: [] };
  for (const [run, held] of runs) {
    const owner = [...held.containers.map((c) => c.Labels?.[OWNER_LABEL]), ...held.volumes.map((v) => v.Labels?.[OWNER_LABEL])].find((o) => o);
    const running = held.containers.filter((c) => c.State === 'running').length;
    const why = owner
      ? ownerAliveReason(owner)
      : running > 0 && `a run of an earlier release (no owner label) with ${running} container(s) running; if it is not going any more: ${leftoverCommands(run)}`;
    if (why) {
      result.kept.push({ run, why });
      continue;
    }
    const names = { containers: held.containers.map((c) => (c.Names?.[0] ?? c.Id).replace(/^\//, '')), volumes: held.volumes.map((v) => v.Name) };
    // One run the daemon will not clear does not stop the others: every run is tried, the caller says all.
    const left = await removeContainersAndVolumes(docker, names);
    if (left.length > 0) result.failed.push({ run, left });
    else result.removed.push({ run, ...names });
  }
  return result;
}

/** The error for the runs removeLeftovers could not clear, after the caller said what it did; undefined when none. */
export function leftoverFailure(r: LeftoverRemoval): GamelayerError | undefined {
  if (r.failed.length === 0) return undefined;
  return new GamelayerError(
    'run.cleanup',
    r.failed.map((f) => `run ${f.run}: could not remove ${f.left.join(', ')}`).join('; '),
    `remove them with: ${r.failed.map((f) => leftoverCommands(f.run)).join('; ')}`,
  );
}

/** Removes containers (with their anonymous volumes), then volumes; returns what could not be removed. */
export async function removeContainersAndVolumes(docker: Docker, created: { containers: string[]; volumes: string[] }): Promise<string[]> {
  const left: string[] = [];
  for (const name of [...created.containers].reverse()) {
    await docker
      .getContainer(name)
      .remove({ force: true, v: true })
      .catch((e: { statusCode?: number }) => e.statusCode === 404 || left.push(`container ${name}`));
  }
  for (const name of created.volumes) {
    await docker
      .getVolume(name)
      .remove({ force: true })
      .catch((e: { statusCode?: number }) => e.statusCode === 404 || left.push(`volume ${name}`));
  }
  return left;
}

/**
 * Refuses `--publish port` before anything is created when a container (of `all`, daemonContainers) already publishes
 * it on the loopback (or on every address), naming that container and, when an earlier run of ours left it, how to
 * remove it.
 */
export function checkPortFree(all: readonly Docker.ContainerInfo[], port: number | undefined, protocol: 'udp' | 'tcp', removeCommand: string): void {
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
    run ? portHolderHint(run, holder.Labels?.[OWNER_LABEL], removeCommand) : `stop that container (docker rm -f ${name}), or pass another -p`,
  );
}

function portHolderHint(run: string, owner: string | undefined, removeCommand: string): string {
  const alive = owner && ownerAliveReason(owner);
  if (alive) return `that run is kept: ${alive}; stop it, or pass another -p`;
  return `remove that run with: ${owner ? removeCommand : leftoverCommands(run)}; or pass another -p`;
}
