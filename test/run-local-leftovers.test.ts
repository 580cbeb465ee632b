// `run-local --remove-leftovers`: which runs it takes as gone (the owner label's host, PID namespace, boot and
// process), that one run the daemon will not clear leaves the others tried and said, and that it takes no run option.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { GAME_LABEL, RUN_LABEL } from '../src/runlocal/leftovers.js';
import { OWNER_LABEL, ownerAliveReason, ownerPlace } from '../src/runlocal/run-owner.js';
import { runCli } from './support/cli-process.js';
import { runLeftovers } from './support/run-local-daemon.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const here = ownerPlace();
/** The pid of a process that has ended. */
const deadPid = spawnSync('true').pid!;
const startOf = (pid: number) => {
  const stat = execFileSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' });
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};
const label = (pid: number, start: string, place = here) => [place.host, pid, start, place.pidNs ?? '', place.bootId ?? ''].join('/');

describe('the owner label: whether its run-local may still be going', () => {
  it('reads its PID namespace and boot id here', () => {
    expect(here.pidNs).toMatch(/^\d+$/);
    expect(here.bootId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gone only when host, PID namespace and boot are ours and the process is not (or a later one has its pid)', () => {
    expect(ownerAliveReason(label(deadPid, '1'))).toBeUndefined();
    expect(ownerAliveReason(label(process.pid, '1'))).toBeUndefined();
    expect(ownerAliveReason(label(process.pid, startOf(process.pid)))).toMatch(/^its run-local is still going \(process \d+ on /);
  });

  // A job container with --network host has the host's name but a PID namespace of its own: its runs' pids mean
  // nothing here, and one of them missing here is no sign that run ended.
  it('kept, with the reason, when the PID namespace or boot differs or cannot be read, or another host wrote it', () => {
    expect(ownerAliveReason(label(deadPid, '1', { ...here, pidNs: '4026531999' }))).toMatch(/^its run-local ran in another PID namespace \(process \d+ on .*: another container with this hostname\)/);
    expect(ownerAliveReason(label(deadPid, '1', { ...here, bootId: '00000000-0000-0000-0000-000000000000' }))).toMatch(/^its run-local ran in another boot/);
    expect(ownerAliveReason(label(deadPid, '1', { ...here, pidNs: undefined }))).toMatch(/^its PID namespace or boot id could not be read/);
    expect(ownerAliveReason(label(deadPid, '1'), { ...here, bootId: undefined })).toMatch(/^its PID namespace or boot id could not be read/);
    expect(ownerAliveReason(`${here.host}/${deadPid}/1`)).toMatch(/^its PID namespace or boot id could not be read/);
    expect(ownerAliveReason(label(deadPid, '1', { ...here, host: 'other-host' }))).toBe(`its run-local ran on another host (process ${deadPid} on other-host), where it cannot be seen from here`);
  });
});

describe('run-local --remove-leftovers', () => {
  const docker = new Docker();
  const game = `leftovers-${process.pid}`;
  const holder = `gl-leftovers-holder-${process.pid}`;
  const image = `gl-leftovers-holder:${process.pid}`;
  afterAll(async () => {
    await docker.getContainer(holder).remove({ force: true }).catch(() => {});
    for (const v of (await docker.listVolumes({ filters: { label: [`${GAME_LABEL}=${game}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => {});
    await docker.getImage(image).remove({ force: true }).catch(() => {});
  });

  async function config(): Promise<string> {
    const dir = await tempDir('gl-leftovers-');
    await writeTinyGame(dir, [`game: ${game}`, 'start: [/opt/local/engine/f.txt]']);
    return path.join(dir, 'gamelayer.yaml');
  }

  it('takes no run option: -p, --keep, --tag, --network are refused (exit 2), as a start command is', async () => {
    const file = await config();
    for (const extra of [['-p', '7777'], ['--keep'], ['--tag', 'v1'], ['--network', 'host'], ['--uid', '0']]) {
      const r = await runCli(['-c', file, 'run-local', '--remove-leftovers', ...extra]);
      expect(r.stderr).toContain(`error[run.option]: --remove-leftovers runs nothing, so it takes no run option (got ${extra[0] === '-p' ? '--publish' : extra[0]})`);
      expect(r.code).toBe(2);
    }
  });

  // The first run that could not be removed threw: the runs after it were never tried, those removed before never said.
  it('a run the daemon will not clear (its volume in use) is said with the others, removed all the same; one error at the end', async () => {
    const file = await config();
    const labels = (run: string) => ({ [RUN_LABEL]: run, [GAME_LABEL]: game, [OWNER_LABEL]: label(deadPid, '1') });
    for (const run of ['stuck', 'free1', 'free2']) await docker.createVolume({ Name: `${game}-${run}`, Labels: labels(run) });
    // A container of no run holds the stuck run's volume: the daemon refuses to remove it while it is there.
    execFileSync('docker', ['import', '-', image], { input: Buffer.alloc(1024) });
    await docker.createContainer({ name: holder, Image: image, Cmd: ['x'], HostConfig: { Binds: [`${game}-stuck:/data`] } });

    const r = await runCli(['-c', file, 'run-local', '--remove-leftovers']);
    expect(r.stderr).toContain('removed run free1: 0 containers, 1 volume');
    expect(r.stderr).toContain('removed run free2: 0 containers, 1 volume');
    expect(r.stderr).toContain(`error[run.cleanup]: run stuck: could not remove volume ${game}-stuck`);
    expect(r.code).toBe(1);
    expect(await runLeftovers(docker, game)).toEqual([`volume ${game}-stuck`]);
  });
});
