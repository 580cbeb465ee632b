// Which process a run belongs to, written on its containers and volumes: `--remove-leftovers` removes a run only
// when that process is gone (SIGKILLed, or a --keep run that ended), never the containers of a run still going.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const OWNER_LABEL = 'dev.gamelayer.run-local.owner';

/** `<host>/<pid>/<start>`: the start (clock ticks after boot, Linux) tells a live process from a later one of the same pid. */
export function runOwner(): string {
  return `${hostname()}/${process.pid}/${startTicks(process.pid) ?? ''}`;
}

/**
 * Whether the process an owner label names is still running: false when it names this host and the process is gone
 * (or another process has its pid now); true when it is there, or the label names another host (it cannot be told).
 */
export function ownerAlive(owner: string): boolean {
  const [host, pidText, start] = owner.split('/');
  const pid = Number(pidText);
  if (host !== hostname()) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTicks(pid);
  return !start || now === undefined || now === start;
}

/** Field 22 of /proc/<pid>/stat (after the command name, which may hold spaces and parentheses); undefined off Linux. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** `process 1234 on host-a`, as messages name an owner. */
export function ownerText(owner: string): string {
  const [host, pid] = owner.split('/');
  return `process ${pid} on ${host}`;
}
