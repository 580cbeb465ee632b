// Runs a RunPlan on the Docker engine: volumes, init containers one after the other, then the engine; every
// container's output streamed line by line; everything it created (labelled) removed at the end, whatever the end.
import type Docker from 'dockerode';
import * as tar from 'tar-stream';
import { GamelayerError } from '../errors.js';
import { silentReporter, type Reporter } from '../report/reporter.js';
import { daemonError } from '../docker/daemon.js';
import { TREE_SENTINEL } from '../k8s/scripts.js';
import { LineSplitter, LogTail, type LogSink } from './logs.js';
import type { PlannedContainer, RunPlan } from './plan.js';
import { RunStop, stopError } from './stop.js';

import { GAME_LABEL, RUN_LABEL, checkPortFree, daemonContainers, earlierRunsNote, leftoverCommands, removeContainersAndVolumes, removeLeftoversCommand } from './leftovers.js';
import { OWNER_LABEL, runOwner } from './run-owner.js';

/** Every container and volume run-local creates carries RUN_LABEL (the run id), GAME_LABEL and OWNER_LABEL. */
export { GAME_LABEL, RUN_LABEL, leftoverCommands };
export const CONTAINER_LABEL = 'dev.gamelayer.container';

export interface ExecuteOptions {
  docker: Docker;
  plan: RunPlan;
  /** Unique per run; names (`gamelayer-<runId>-<container>`) and labels derive from it. */
  runId: string;
  game: string;
  /** The config file (GameConfig.file) the run was read from: the hints about leftovers name it (default ./gamelayer.yaml). */
  configFile?: string;
  logs: LogSink;
  reporter?: Reporter;
  /** Keep containers and volumes for debugging instead of removing them. */
  keep?: boolean;
  /** Abort (Ctrl-C): stop what runs, clean up, throw run.interrupted. A string reason names the signal. */
  signal?: AbortSignal;
  /** Abort after `signal` (a second Ctrl-C): kill the running container now instead of waiting out its grace. */
  hurry?: AbortSignal;
  /** Deadline for the whole pod (init containers and engine), like activeDeadlineSeconds. */
  timeoutMs?: number;
  /** Seconds between SIGTERM and SIGKILL when a container is stopped early (default 10). */
  stopGraceSeconds?: number;
  /** Publish the engine's first port on 127.0.0.1:<hostPort>. */
  publishPort?: number;
  /** The engine's Docker network: `default` (Docker's bridge, the default), `none`, `host` or a network name. */
  network?: string;
}

export interface ContainerOutcome {
  name: string;
  role: 'init' | 'engine';
  dockerName: string;
  exitCode: number;
  oomKilled: boolean;
}

export interface ExecuteResult {
  runId: string;
  /** The engine's exit code. */
  exitCode: number;
  containers: ContainerOutcome[];
  /** With keep: what was left in the daemon. */
  kept?: { containers: string[]; volumes: string[] };
  /**
   * Milliseconds from the pod's start (its first volume or container; image loading, a cluster's pull, is not
   * counted) until the daemon reported the engine container started: what a pod start costs before the game runs.
   */
  engineStartMs: number;
}

/** Docker publishes no port of a container without a network or on the host's. */
export function checkPublish(publishPort: number | undefined, network: string | undefined): void {
  if (publishPort !== undefined && (network === 'none' || network === 'host')) {
    throw new GamelayerError('run.option', `--publish ${publishPort}: the engine has network ${network}, where Docker publishes no port`);
  }
}

/** Docker's own network modes; any other name must be a network the daemon has. */
const NETWORK_MODES = new Set(['default', 'none', 'host', 'bridge']);

/**
 * A named network the daemon lacks, found before anything is created: the old code ran every copy container first
 * and failed only when the engine's was created (HTTP 404, network not found).
 */
async function checkNetwork(docker: Docker, network: string | undefined): Promise<void> {
  if (network === undefined || NETWORK_MODES.has(network) || network.startsWith('container:')) return;
  try {
    await docker.getNetwork(encodeURIComponent(network)).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) return; // the create call reports any other daemon failure
    throw new GamelayerError('run.option', `--network ${network}: the Docker daemon has no such network`, `docker network ls lists them (docker network create ${network} makes it), or pass --network default`);
  }
}

export async function executePlan(opts: ExecuteOptions): Promise<ExecuteResult> {
  const { docker, plan, runId } = opts;
  checkPublish(opts.publishPort, opts.network);
  await checkNetwork(docker, opts.network);
  const containers = await daemonContainers(docker);
  const removeCommand = removeLeftoversCommand(opts.configFile);
  checkPortFree(containers, opts.publishPort, plan.engine.ports[0]?.protocol ?? 'udp', removeCommand);
  const reporter = opts.reporter ?? silentReporter;
  const earlier = await earlierRunsNote(docker, containers, opts.game, removeCommand);
  if (earlier) reporter.warn(earlier);
  const prefix = `gamelayer-${runId}`;
  const owner = runOwner();
  const labels = (container?: string) => ({ [RUN_LABEL]: runId, [GAME_LABEL]: opts.game, [OWNER_LABEL]: owner, ...(container ? { [CONTAINER_LABEL]: container } : {}) });
  const volumeName = (v: string) => `${prefix}-${v}`;
  const created = { containers: [] as string[], volumes: [] as string[] };
  const stop = new RunStop(opts.signal, opts.timeoutMs);
  const grace = opts.stopGraceSeconds ?? 10;
  const outcomes: ContainerOutcome[] = [];
  const podStarted = performance.now();
  let engineStartMs = NaN;

  const mountsOf = (c: Pick<PlannedContainer, 'mounts'>): Docker.MountSettings[] =>
    c.mounts.map((m) => ({
      Type: 'volume' as const,
      Source: volumeName(m.volume),
      Target: m.target,
      ReadOnly: m.readOnly,
      // A pod volume starts empty: never let Docker copy the image's files at the mount path into it.
      // (@types/dockerode wants Labels and DriverConfig too; the API takes NoCopy alone.)
      VolumeOptions: { NoCopy: true } as Docker.MountSettings['VolumeOptions'],
    }));

  /** Creates a container (remembered for the cleanup) without starting it. */
  const create = async (name: string, body: Docker.ContainerCreateOptions): Promise<Docker.Container> => {
    const dockerName = `${prefix}-${name}`;
    let container: Docker.Container;
    try {
      container = await docker.createContainer({ ...body, name: dockerName, Labels: labels(name) });
    } catch (e) {
      throw daemonError(e, `create container ${name}`);
    }
    created.containers.push(dockerName);
    return container;
  };

  /** Removes a helper container now rather than at the end; a failure is left to the final cleanup. */
  const remove = async (name: string): Promise<void> => {
    const dockerName = `${prefix}-${name}`;
    try {
      await docker.getContainer(dockerName).remove({ force: true, v: true });
      created.containers.splice(created.containers.indexOf(dockerName), 1);
    } catch {
      // cleanup() tries again and reports what stays
    }
  };

  /** Creates a container, streams its output, runs it to its end (or to a stop) and returns its exit code. */
  const run = async (name: string, body: Docker.ContainerCreateOptions, tail: LogTail, during: string): Promise<{ code: number; oom: boolean; dockerName: string }> => {
    stop.check(during);
    return runCreated(await create(name, body), name, body, tail, during);
  };

  const runCreated = async (
    container: Docker.Container,
    name: string,
    body: Docker.ContainerCreateOptions,
    tail: LogTail,
    during: string,
  ): Promise<{ code: number; oom: boolean; dockerName: string }> => {
    const dockerName = `${prefix}-${name}`;
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    } catch (e) {
      throw daemonError(e, `attach to container ${name}`);
    }
    const line = (s: 'stdout' | 'stderr') => new LineSplitter((l) => (tail.push(l), opts.logs(name, s, l)));
    const out = line('stdout');
    const err = line('stderr');
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    container.modem.demuxStream(stream, out, err);
    // The output ends with the container; should the daemon keep the stream open, close it before the splitters
    // end, so no late chunk is written after their end.
    const finish = () => {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      out.end();
      err.end();
    };
    try {
      await container.start();
      if (name === plan.engine.name) engineStartMs = performance.now() - podStarted;
    } catch (e) {
      const err = daemonError(e, `start container ${name}`);
      if (body.HostConfig?.NetworkMode !== 'none' && /network|endpoint|bridge/i.test(err.message)) {
        throw new GamelayerError(err.code, err.message, 'the daemon could not connect the container to its network; pass --network none to run without one', { cause: e });
      }
      throw err;
    }
    const waited = (container.wait() as Promise<{ StatusCode: number }>).catch((e: unknown) => {
      throw daemonError(e, `wait for container ${name}`);
    });
    const first = await Promise.race([waited, stop.stopped]);
    if ('kind' in first) {
      reporter.info(`stopping ${name} (${first.kind === 'timeout' ? 'timeout' : first.name})`);
      // A second signal cuts the grace short, but the run still removes what it made: timeout(1) signals the
      // process and then its group, npm forwards the Ctrl-C the terminal also sent, and each such second
      // signal used to quit at once, leaving the engine running and every volume in the daemon.
      const stopping = container.stop({ t: grace }).catch(() => {});
      if (opts.hurry && !(await raceAbort(stopping, opts.hurry))) {
        reporter.info(`killing ${name} (${String(opts.hurry.reason)} again)`);
        await container.kill().catch(() => {});
      }
      await within(waited, (grace + 5) * 1000);
      await within(ended, 1000);
      finish();
      throw stopError(first, during);
    }
    await within(ended, 2000);
    finish();
    const state = (await container.inspect().catch(() => undefined))?.State;
    return { code: first.StatusCode, oom: Boolean(state?.OOMKilled), dockerName };
  };

  const securityOf = (c: PlannedContainer) => [
    ...(c.noNewPrivileges ? ['no-new-privileges'] : []),
    ...(c.seccompUnconfined ? ['seccomp=unconfined'] : []),
  ];

  const createBody = (c: PlannedContainer): Docker.ContainerCreateOptions => {
    const port = c.ports[0];
    const portKey = port ? `${port.port}/${port.protocol}` : undefined;
    return {
      Image: c.image,
      ...(c.entrypoint.length > 0 ? { Entrypoint: c.entrypoint, Cmd: c.cmd } : c.cmd.length > 0 ? { Cmd: c.cmd } : {}),
      ...(c.workingDir ? { WorkingDir: c.workingDir } : {}),
      Env: c.env,
      ...(c.user ? { User: c.user } : {}),
      ...(c.role === 'engine' ? { Hostname: plan.podName } : {}),
      ...(portKey ? { ExposedPorts: Object.fromEntries(c.ports.map((p) => [`${p.port}/${p.protocol}`, {}])) } : {}),
      HostConfig: {
        Mounts: mountsOf(c),
        ReadonlyRootfs: c.readOnlyRootfs,
        Privileged: c.privileged,
        CapDrop: c.capDrop,
        CapAdd: c.capAdd,
        SecurityOpt: securityOf(c),
        GroupAdd: c.groupAdd,
        ...(c.memoryBytes !== undefined ? { Memory: c.memoryBytes } : {}),
        ...(c.nanoCpus !== undefined ? { NanoCpus: c.nanoCpus } : {}),
        // The copies need no network; the engine gets Docker's default bridge, as a pod gets the cluster network.
        NetworkMode: c.role === 'init' ? 'none' : (opts.network ?? 'default'),
        ...(c.role === 'engine' && portKey && opts.publishPort !== undefined
          ? { PortBindings: { [portKey]: [{ HostIp: '127.0.0.1', HostPort: String(opts.publishPort) }] } }
          : {}),
      },
    };
  };

  let failure: unknown;
  try {
    for (const v of plan.volumes) {
      stop.check('while creating volumes');
      const name = volumeName(v.name);
      try {
        await docker.createVolume({ Name: name, Labels: labels() });
      } catch (e) {
        throw daemonError(e, `create volume ${name}`);
      }
      created.volumes.push(name);
    }

    // An emptyDir is world-writable (mode 0777); a fresh Docker volume is root's 0755, which a non-root copy
    // container cannot write. Set the mode through the archive API on a container that is created, never started:
    // no command runs, so the base image needs no chmod.
    const empty = plan.volumes.filter((v) => v.kind === 'emptyDir');
    if (empty.length > 0) {
      stop.check('while preparing the emptyDir volumes');
      const mounts = empty.map((v) => ({ volume: v.name, target: `${HELPER_ROOT}/${v.name}`, readOnly: false }));
      const helper = await create('volumes', {
        Image: plan.engine.image,
        Entrypoint: ['/gamelayer-never-started'],
        Cmd: [],
        HostConfig: { Mounts: mountsOf({ mounts }), NetworkMode: 'none' },
      });
      try {
        await helper.putArchive(directoryModes(empty.map((v) => v.name), 0o777), { path: HELPER_ROOT });
      } catch (e) {
        throw daemonError(e, 'make the emptyDir volumes writable');
      }
      await remove('volumes');
    }

    // Image volumes, emulated: Docker fills an empty volume from the image's files at the mount path when a
    // container mounting it there is created (Docker 20.10 does it on create; should a daemon wait for the start,
    // the container is started too). The engine's guard checks the tree sentinel either way.
    for (const v of plan.volumes) {
      if (v.kind !== 'image') continue;
      stop.check(`while filling image volume ${v.name}`);
      const body: Docker.ContainerCreateOptions = {
        Image: v.image,
        Entrypoint: ['sh', '-c', ':'],
        Cmd: [],
        ...(plan.engine.user ? { User: plan.engine.user } : {}),
        HostConfig: {
          Mounts: [{ Type: 'volume', Source: volumeName(v.name), Target: v.path, ReadOnly: false }],
          ReadonlyRootfs: true,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          NetworkMode: 'none',
        },
      };
      const fill = await create(`fill-${v.name}`, body);
      if (!(await hasPath(fill, `${v.path}/${TREE_SENTINEL}`))) {
        const tail = new LogTail();
        const r = await runCreated(fill, `fill-${v.name}`, body, tail, `while filling image volume ${v.name}`);
        if (r.code !== 0) {
          throw new GamelayerError('run.image-volume', `could not fill image volume ${v.name} from ${v.podImage} (exit ${r.code})${tailText(tail)}`);
        }
      }
      await remove(`fill-${v.name}`);
    }

    for (const c of plan.init) {
      const tail = new LogTail();
      reporter.info(`init container ${c.name}`);
      const r = await run(c.name, createBody(c), tail, `while init container ${c.name} was running`);
      outcomes.push({ name: c.name, role: 'init', dockerName: r.dockerName, exitCode: r.code, oomKilled: r.oom });
      if (r.code !== 0) {
        throw new GamelayerError(
          'run.init-failed',
          `init container ${c.name} failed with exit code ${r.code}${r.oom ? ' (killed: out of memory)' : ''}; the engine was not started${tailText(tail)}`,
          `its output is above, each line prefixed [${c.name}]; rerun with --keep to inspect the container`,
        );
      }
    }

    const tail = new LogTail();
    reporter.info(`container ${plan.engine.name}`);
    const r = await run(plan.engine.name, createBody(plan.engine), tail, `while container ${plan.engine.name} was running`);
    outcomes.push({ name: plan.engine.name, role: 'engine', dockerName: r.dockerName, exitCode: r.code, oomKilled: r.oom });
    if (r.oom) reporter.warn(`container ${plan.engine.name} was killed: out of memory (limit ${plan.engine.memoryBytes} bytes)`);
    return { runId, exitCode: r.code, containers: outcomes, engineStartMs, ...(opts.keep ? { kept: { ...created } } : {}) };
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    stop.dispose();
    if (opts.keep) {
      if (created.containers.length + created.volumes.length > 0) {
        reporter.info(`kept containers ${created.containers.join(', ') || 'none'} and volumes ${created.volumes.join(', ') || 'none'}; remove them with: ${removeCommand}`);
      }
    } else {
      const left = await removeContainersAndVolumes(docker, created);
      if (left.length > 0) {
        const msg = `could not remove ${left.join(', ')}; remove them with: ${leftoverCommands(runId)}`;
        if (failure === undefined) throw new GamelayerError('run.cleanup', msg);
        reporter.warn(msg);
      }
    }
  }
}

const HELPER_ROOT = '/gamelayer-volumes';

/** A tar holding only directory entries `<name>/` with `mode`: extracting it sets the mode of existing dirs. */
function directoryModes(names: string[], mode: number): NodeJS.ReadableStream {
  const pack = tar.pack();
  for (const name of names) pack.entry({ name: `${name}/`, type: 'directory', mode, uid: 0, gid: 0, mtime: new Date() });
  pack.finalize();
  return pack as unknown as NodeJS.ReadableStream;
}

async function hasPath(container: Docker.Container, file: string): Promise<boolean> {
  try {
    // dockerode hands back the HEAD response as a stream; left unread, its socket stays open and keeps the
    // process alive after the run (one per image volume). Nothing in it is needed: close it.
    const res = (await container.infoArchive({ path: file })) as NodeJS.ReadableStream & { destroy?: () => void };
    res.destroy?.();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw daemonError(e, `look for ${file} in container ${container.id.slice(0, 12)}`);
  }
}

function tailText(tail: LogTail): string {
  const t = tail.text();
  return t ? `; its last output:\n${t}` : '; it printed nothing';
}

/** Waits for `p` or for `signal` to abort, whichever is first; true when `p` settled first. */
async function raceAbort(p: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  let onAbort!: () => void;
  const aborted = new Promise<false>((resolve) => signal.addEventListener('abort', (onAbort = () => resolve(false)), { once: true }));
  try {
    return await Promise.race([p.then(() => true as const, () => true as const), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Waits for `p`, but at most `ms`; the timer never outlives the wait (it would hold the process open). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p.then(() => {}, () => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
