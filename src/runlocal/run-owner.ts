// Which process a run belongs to, written on its containers and volumes: `--remove-leftovers` removes a run only
// when that process is gone (SIGKILLed, or a --keep run that ended), never the containers of a run still going.
// A pid means something only in the PID namespace and boot it was read in: the hostname alone did not tell (a job
// container with --network host shares the host's name, not its processes), so the label names both, and a run
// whose namespace or boot differs from ours, or cannot be read, counts as alive.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export const OWNER_LABEL = 'dev.gamelayer.run-local.owner';

/** Where a process runs, as far as a pid is concerned; undefined where /proc cannot say. */
export interface OwnerPlace {
  host: string;
  /** The inode of /proc/self/ns/pid (`pid:[4026531836]` → `4026531836`). */
  pidNs: string | undefined;
  /** /proc/sys/kernel/random/boot_id: new at every boot. */
  bootId: string | undefined;
}

export function ownerPlace(): OwnerPlace {
  return { host: hostname(), pidNs: read(() => /^pid:\[(\d+)\]$/.exec(readlinkSync('/proc/self/ns/pid'))?.[1]), bootId: read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined) };
}

/** `<host>/<pid>/<start>/<pid namespace>/<boot id>`: the start (clock ticks after boot) tells a live process from a later one of the same pid. */
export function runOwner(): string {
  const here = ownerPlace();
  return [here.host, process.pid, startTicks(process.pid) ?? '', here.pidNs ?? '', here.bootId ?? ''].join('/');
}

/**
 * Why the run-local an owner label names may still be going (so its run is kept), or undefined when it is gone.
 * Gone only when the label names this host, PID namespace and boot, all read on both sides, and that pid is not
 * running or runs a later process (another start time).
 */
export function ownerAliveReason(owner: string, here: OwnerPlace = ownerPlace()): string | undefined {
  const [host, pidText, start, pidNs, bootId] = owner.split('/');
  const pid = Number(pidText);
  const who = ownerText(owner);
  if (host !== here.host) return `its run-local ran on another host (${who}), where it cannot be seen from here`;
  if (!pidNs || !bootId || !here.pidNs || !here.bootId) return `its PID namespace or boot id could not be read (${who}), so whether it is still going cannot be told`;
  if (pidNs !== here.pidNs) return `its run-local ran in another PID namespace (${who}: another container with this hostname), where its process cannot be seen`;
  if (bootId !== here.bootId) return `its run-local ran in another boot (${who}: boot ${bootId}), so its process cannot be told from ours`;
  if (!Number.isInteger(pid) || pid <= 0) return `its owner label ${JSON.stringify(owner)} names no process`;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  const now = startTicks(pid);
  return !start || now === undefined || now === start ? `its run-local is still going (${who})` : undefined;
}

/** Field 22 of /proc/<pid>/stat (after the command name, which may hold spaces and parentheses); undefined off Linux. */
function startTicks(pid: number): string | undefined {
  return read(() => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  });
}

function read(f: () => string | undefined): string | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** `process 1234 on host-a`, as messages name an owner. */
export function ownerText(owner: string): string {
  const [host, pid] = owner.split('/');
  return `process ${pid} on ${host}`;
}
