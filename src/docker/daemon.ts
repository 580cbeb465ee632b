// The Docker daemon through dockerode: where it is, whether it answers, what it can build, and its errors
// turned into GamelayerErrors that name the daemon address.
import Docker from 'dockerode';
import { GamelayerError } from '../errors.js';

export interface DaemonInfo {
  docker: Docker;
  /** `unix:///var/run/docker.sock`, `tcp://host:port`, … as the user would write DOCKER_HOST. */
  address: string;
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
  /**
   * True when the daemon's builder cannot take `# syntax=docker/dockerfile:1.4` / `COPY --link`: Docker before
   * 23 (BuildKit was not its default builder and its built-in Dockerfile frontend predates --link).
   */
  needsCompat: boolean;
}

/** DOCKER_HOST as dockerode reads it, for messages. */
export function daemonAddress(env: NodeJS.ProcessEnv = process.env): string {
  const h = env.DOCKER_HOST;
  if (!h) return 'unix:///var/run/docker.sock';
  return h.includes('//') ? h : `tcp://${h}`;
}

export function connectDocker(env: NodeJS.ProcessEnv = process.env): Docker {
  try {
    return new Docker();
  } catch (e) {
    throw new GamelayerError('docker.host', `DOCKER_HOST=${env.DOCKER_HOST ?? ''}: ${(e as Error).message}`, 'unset DOCKER_HOST to use /var/run/docker.sock');
  }
}

/** A daemon error (HTTP status + JSON message from dockerode) or a connection error as one clear message. */
export function daemonError(e: unknown, what: string, address = daemonAddress()): GamelayerError {
  if (e instanceof GamelayerError) return e;
  const err = e as { code?: string; statusCode?: number; json?: { message?: string }; reason?: string; message?: string };
  const code = err?.code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT' || code === 'ECONNRESET') {
    const why = code === 'EACCES' ? 'permission denied' : code === 'ENOENT' ? 'no such socket' : code;
    return new GamelayerError(
      'docker.unreachable',
      `no Docker daemon reachable at ${address} (${why}) while trying to ${what}`,
      code === 'EACCES'
        ? 'run as a user in the docker group, or point DOCKER_HOST at a daemon you may use'
        : 'start the Docker engine (e.g. `dockerd` or `systemctl start docker`), or set DOCKER_HOST to where it listens; the daemonless `gamelayer build` needs no daemon',
      { cause: e },
    );
  }
  const message = err?.json?.message ?? (typeof err?.json === 'string' ? err.json : undefined) ?? err?.reason ?? err?.message ?? String(e);
  const status = err?.statusCode ? ` (HTTP ${err.statusCode})` : '';
  return new GamelayerError('docker.daemon', `Docker daemon at ${address} failed to ${what}${status}: ${String(message).trim()}`, undefined, { cause: e });
}

export async function daemonInfo(docker: Docker = connectDocker()): Promise<DaemonInfo> {
  const address = daemonAddress();
  let v: Docker.DockerVersion;
  try {
    v = await docker.version();
  } catch (e) {
    throw daemonError(e, 'report its version');
  }
  const major = Number(/^(\d+)/.exec(v.Version)?.[1] ?? 0);
  return {
    docker,
    address,
    version: v.Version,
    apiVersion: v.ApiVersion,
    os: v.Os,
    arch: v.Arch,
    needsCompat: major < 23,
  };
}

/** Reads a daemon JSON-lines progress stream to its end; each message goes to `onMessage`; an error message throws. */
export async function followStream(
  stream: NodeJS.ReadableStream,
  onMessage: (m: DaemonMessage) => void,
  what: string,
  address = daemonAddress(),
): Promise<DaemonMessage[]> {
  const all: DaemonMessage[] = [];
  let rest = '';
  let failure: DaemonMessage | undefined;
  const handle = (line: string) => {
    if (!line.trim()) return;
    let m: DaemonMessage;
    try {
      const parsed: unknown = JSON.parse(line);
      // A message that is no object (`null`, a number) says nothing: reading its fields threw a TypeError that
      // failed the whole build ("Cannot read properties of null").
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
      m = parsed as DaemonMessage;
    } catch {
      m = { stream: `${line}\n` };
    }
    all.push(m);
    if (m.error || m.errorDetail) failure ??= m;
    onMessage(m);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      rest += chunk.toString();
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) handle(l);
    }
    handle(rest);
  } catch (e) {
    throw daemonError(e, what, address);
  }
  if (failure) {
    const msg = (failure.errorDetail?.message ?? failure.error ?? 'unknown error').trim();
    throw new GamelayerError('docker.daemon', `Docker daemon at ${address} failed to ${what}: ${msg}`);
  }
  return all;
}

/**
 * The lines of a message's `stream` text that say something: a message whose `stream` is null, empty or only a
 * line end (the daemon sends `{"stream":"\n"}` between others) has none, and printed it was an empty line.
 */
export function streamLines(m: DaemonMessage): string[] {
  return typeof m.stream === 'string' ? m.stream.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '') : [];
}

export interface DaemonMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { ID?: string; Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}
