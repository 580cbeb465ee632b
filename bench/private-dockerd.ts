// A Docker engine of the bench's own (its own data root, socket and managed containerd), started from the
// installed dockerd. Its CPU time and memory are then the docker path's alone, not those of whatever else
// uses the machine's daemon, and "cold" can empty its caches without deleting anybody else's images.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PrivateDockerd {
  /** DOCKER_HOST for clients. */
  host: string;
  pid: number;
  logFile: string;
  /** CPU time (user + system, children that ended included) of dockerd and every process under it, in ms. */
  cpuMs(): Promise<number>;
  /** Resident memory of dockerd and every process under it now, in KiB. */
  rssKiB(): Promise<number>;
  /** Runs the docker CLI against this daemon. */
  docker(args: string[]): Promise<string>;
  stop(): Promise<void>;
}

let clockTicks = 100;

export async function startPrivateDockerd(): Promise<PrivateDockerd> {
  if (process.getuid?.() !== 0) throw new Error('the compare bench starts a Docker engine of its own: run it as root');
  clockTicks = Number((await run('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  // Short paths: containerd's socket lives under the exec root and unix socket paths are limited to 108 bytes.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glb-dockerd-'));
  const sock = path.join(dir, 'docker.sock');
  const logFile = path.join(dir, 'dockerd.log');
  const ns = `glbench${process.pid}`;
  // A bridge of its own: with `--bridge none` an engine deletes the host's docker0 as it starts, breaking the system
  // engine's containers. The builds here run no containers on a network; the bridge only has to exist.
  const bridge = `glb${process.pid}`.slice(0, 15);
  await run('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root', path.join(dir, 'data'),
      '--exec-root', path.join(dir, 'exec'),
      '--pidfile', path.join(dir, 'dockerd.pid'),
      '-H', `unix://${sock}`,
      '--bridge', bridge,
      '--iptables=false',
      '--ip-masq=false',
      '--containerd-namespace', ns,
      '--containerd-plugins-namespace', `${ns}-plugins`,
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const host = `unix://${sock}`;
  const docker = async (args: string[]) =>
    (await run('docker', args, { env: { ...process.env, DOCKER_HOST: host }, maxBuffer: 64 << 20 })).stdout;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dockerd exited ${child.exitCode}; see ${logFile}`);
    try {
      await docker(['version', '--format', '{{.Server.Version}}']);
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`dockerd did not answer on ${host} within 60 s; see ${logFile}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const pid = child.pid!;
  return {
    host,
    pid,
    logFile,
    cpuMs: async () => (await treeStats(pid)).cpuMs,
    rssKiB: async () => (await treeStats(pid)).rssKiB,
    docker,
    async stop() {
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          child.kill('SIGTERM');
        });
      }
      await run('ip', ['link', 'delete', bridge]).catch((e: Error) => process.stderr.write(`compare: could not delete the bridge ${bridge}: ${e.message}\n`));
      // dockerd unmounts its overlays on a clean exit; whatever is still mounted keeps its files (rm fails there).
      await rm(dir, { recursive: true, force: true }).catch((e: Error) => process.stderr.write(`compare: could not remove ${dir}: ${e.message}\n`));
    },
  };
}

interface ProcStat {
  pid: number;
  ppid: number;
  ticks: number;
}

/** Fields after the command name of /proc/PID/stat (the name may hold blanks and parentheses). */
function parseStat(pid: number, text: string): ProcStat | undefined {
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
  if (f.length < 15) return undefined;
  const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  return { pid, ppid: Number(f[1]), ticks };
}

async function treeStats(root: number): Promise<{ cpuMs: number; rssKiB: number }> {
  const all: ProcStat[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = await readFile(`/proc/${name}/stat`, 'utf8').then((t) => parseStat(Number(name), t), () => undefined);
    if (s) all.push(s);
  }
  const inTree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of all) if (!inTree.has(s.pid) && inTree.has(s.ppid)) (inTree.add(s.pid), (grew = true));
  }
  let ticks = 0;
  let rssKiB = 0;
  for (const s of all) {
    if (!inTree.has(s.pid)) continue;
    ticks += s.ticks;
    const status = await readFile(`/proc/${s.pid}/status`, 'utf8').catch(() => '');
    rssKiB += Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  return { cpuMs: (ticks * 1000) / clockTicks, rssKiB };
}
