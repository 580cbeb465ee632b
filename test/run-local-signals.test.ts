// run-local stopped by signals the way schedulers and wrappers send them (real CLI, real Docker 20.10): a second
// SIGTERM while the engine takes its grace (timeout(1) signals the process and then its group; npm forwards the
// Ctrl-C the terminal also sent), a SIGTERM while a copy container runs, and the CLI run under timeout(1). Every
// run must leave no container or volume behind. The second signal used to quit at once, leaving all of them.
import { execFileSync, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { loadConfig, type GameConfig } from '../src/config/load.js';
import { GAME_LABEL, RUN_LABEL } from '../src/runlocal/execute.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { CLI, runCli } from './support/cli-process.js';
import { freePort } from './support/registry.js';
import { copySample, sampleYamlOn } from './support/sample.js';
import { removeGameImages, runLeftovers } from './support/run-local-daemon.js';
import { tempDir } from './support/tmp.js';

const GAME = 'run-local-signals';
const docker = new Docker();
/** An engine that ignores SIGTERM (a server saving its world): docker stop waits out the whole grace. */
const STUBBORN = ['--', 'sh', '-c', 'trap "" TERM; echo "server ready"; while :; do sleep 1; done'];

let config: GameConfig;

interface Run {
  code: number | null;
  stderr: string;
  runId?: string;
}

/** The CLI (behind `prefix`, such as timeout; without a network unless it publishes a port); `onOutput` sees its output so far and may signal the CLI's process. */
function run(args: string[], onOutput?: (all: string, kill: (s: NodeJS.Signals) => void) => void, prefix: string[] = []): Promise<Run> {
  const argv = [...prefix, process.execPath, CLI, '-c', config.file, 'run-local', ...(args.includes('-p') ? [] : ['--network', 'none']), ...args];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let both = '';
  const seen = (d: Buffer, isErr: boolean) => {
    if (isErr) stderr += d.toString();
    both += d.toString();
    onOutput?.(both, (s) => child.kill(s));
  };
  child.stdout.on('data', (d: Buffer) => seen(d, false));
  child.stderr.on('data', (d: Buffer) => seen(d, true));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, runId: /^run (\S+): containers and volumes labelled/m.exec(stderr)?.[1] }));
  });
}

const leftovers = (runId?: string) => runLeftovers(docker, GAME, runId);

/** The CLI, sent `signal` once its output shows `seen`; `sent` says whether it was. */
async function signalledWhen(args: string[], seen: string, signal: NodeJS.Signals): Promise<Run & { sent: boolean }> {
  let sent = false;
  const r = await run(args, (out, kill) => {
    if (!sent && out.includes(seen)) {
      sent = true;
      kill(signal);
    }
  });
  return { ...r, sent };
}

beforeAll(async () => {
  const work = await tempDir('gl-run-local-signals-');
  const dir = path.join(work, 'game');
  copySample(dir);
  const yaml = path.join(dir, 'gamelayer.yaml');
  const base = await writeBusyboxLayout(path.join(work, 'busybox-layout'));
  await writeFile(yaml, sampleYamlOn((await readFile(yaml, 'utf8')).replace('game: sample-game', `game: ${GAME}`), base));
  config = await loadConfig(yaml);
  await build({ config });
}, 120_000);

afterAll(async () => {
  const left = await leftovers();
  // Whatever a failed case left must not stay in the daemon for the next run.
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${GAME_LABEL}=${GAME}`] } })) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [`${GAME_LABEL}=${GAME}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => {});
  await removeGameImages(docker, GAME);
  expect(left).toEqual([]);
});

describe('run-local stopped by signals (real CLI, real Docker engine)', () => {
  // The first three run side by side (most of each is waiting on the daemon and on graces): each checks only its own
  // run's leftovers (by run id). The rest run alone: timeout(1)'s 5 s must leave the run time to start, and the last
  // two look at every run of the game in the daemon.
  it.concurrent('a second SIGTERM while the engine takes its grace kills it and still removes everything; exit 143', async () => {
    let sent = 0;
    const r = await run(STUBBORN, (err, kill) => {
      if (sent === 0 && err.includes('[engine] server ready')) {
        sent = 1;
        kill('SIGTERM');
      } else if (sent === 1 && err.includes('stopping engine (SIGTERM)')) {
        sent = 2;
        kill('SIGTERM');
      }
    });
    expect(sent).toBe(2);
    expect(r.runId).toBeDefined();
    expect(await leftovers(r.runId)).toEqual([]);
    expect(r.stderr).toContain("SIGTERM again: killing the running container now, then removing the run's containers and volumes");
    expect(r.stderr).not.toContain('quitting without cleaning up');
    expect(r.code).toBe(143);
  }, 60_000);

  it.concurrent('SIGHUP (the terminal closed, an ssh session dropped) stops and removes everything like Ctrl-C; exit 129', async () => {
    const r = await signalledWhen(['--', '/opt/local/engine/start.sh', '--serve'], '[engine] sample-game: all four trees verified', 'SIGHUP');
    expect(r.sent).toBe(true);
    expect(r.runId).toBeDefined();
    expect(await leftovers(r.runId)).toEqual([]);
    expect(r.stderr).toContain('error[run.interrupted]: interrupted (SIGHUP) while container engine was running; stopped the run');
    expect(r.code).toBe(129);
  }, 60_000);

  it.concurrent('SIGTERM while a copy container runs: the copy is stopped, the engine never starts, nothing is left; exit 143', async () => {
    const r = await signalledWhen(STUBBORN, 'init container copy-app\n', 'SIGTERM');
    expect(r.sent).toBe(true);
    expect(r.stderr).toMatch(/^error\[run\.interrupted\]: interrupted \(SIGTERM\) while (init container copy-app was running|creating|preparing)/m);
    expect(r.stderr).not.toContain('container engine\n');
    expect(r.code).toBe(143);
    expect(await leftovers(r.runId)).toEqual([]);
  }, 60_000);

  it('run under timeout(1), which signals the CLI and then its process group: nothing is left; exit 124', async () => {
    const r = await run(['--', '/opt/local/engine/start.sh', '--serve'], undefined, ['timeout', '-s', 'TERM', '5']);
    expect(r.stderr).toContain('SIGTERM: stopping the run');
    expect(r.stderr).not.toContain('quitting without cleaning up');
    expect(r.code).toBe(124);
    expect(r.runId).toBeDefined();
    expect(await leftovers(r.runId)).toEqual([]);
  }, 60_000);

  it('a run killed with SIGKILL left its engine on the -p port: the next run is refused before any copy, naming it and how to remove it', async () => {
    const port = await freePort();
    const dead = await signalledWhen(['-p', String(port), ...STUBBORN], '[engine] server ready', 'SIGKILL');
    expect(dead.sent).toBe(true);
    expect(dead.runId).toBeDefined();
    expect((await leftovers(dead.runId)).length).toBeGreaterThan(0);

    const next = await run(['-p', String(port), ...STUBBORN]);
    const commands = `docker rm -f $(docker ps -aq --filter label=${RUN_LABEL}=${dead.runId}); docker volume rm $(docker volume ls -q --filter label=${RUN_LABEL}=${dead.runId})`;
    expect(next.stderr).toContain(`error[run.option]: --publish ${port}: container gamelayer-${dead.runId}-engine publishes port ${port}/udp already (left by run-local run ${dead.runId})`);
    // The config was given with -c: the command names it (without it, it would clean up another game's runs).
    expect(next.stderr).toContain(`hint: remove that run with: gamelayer -c ${config.file} run-local --remove-leftovers; or pass another -p`);
    expect(next.stderr).not.toContain('init container');
    expect(next.code).toBe(2);

    // Without -p the run goes on, and says what the killed run left and how to remove it.
    const plain = await run(['--', 'true']);
    expect(plain.stderr).toContain(`${dead.runId}: 4 container(s) (1 running) and 3 volume(s) of an earlier run of ${GAME} are in the daemon`);
    expect(plain.code).toBe(0);
    expect(await leftovers(plain.runId)).toEqual([]);
    execFileSync('sh', ['-c', commands], { stdio: 'ignore' });
    expect(await leftovers()).toEqual([]);
  }, 60_000);

  // A SIGKILLed run's containers and volumes stayed until the user typed the two docker commands the note gave, run
  // id by run id; there was no command of ours to remove them.
  it('--remove-leftovers removes what a SIGKILLed run and a --keep run left, and keeps a run still going', async () => {
    // The two runs that leave things behind, side by side.
    const [dead, kept] = await Promise.all([signalledWhen(STUBBORN, '[engine] server ready', 'SIGKILL'), run(['--keep', '--', 'true'])]);
    expect(dead.sent).toBe(true);
    expect((await leftovers(dead.runId)).length).toBeGreaterThan(0);
    expect(kept.code, kept.stderr).toBe(0);
    expect((await leftovers(kept.runId)).length).toBeGreaterThan(0);

    let liveReady!: () => void;
    const ready = new Promise<void>((r) => (liveReady = r));
    let stopLive!: (s: NodeJS.Signals) => void;
    // The live run's engine stops on SIGTERM (the sample's server): a stubborn one would only add the 10 s grace.
    const live = run(['--', '/opt/local/engine/start.sh', '--serve'], (out, kill) => {
      stopLive = kill;
      if (out.includes('[engine] sample-game: all four trees verified')) liveReady();
    });
    await ready;
    const clean = await runCli(['-c', config.file, 'run-local', '--remove-leftovers']);
    stopLive('SIGTERM');
    const liveRun = await live;
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stderr).toContain(`removed run ${dead.runId}: 4 containers, 3 volumes`);
    expect(clean.stderr).toContain(`removed run ${kept.runId}: 4 containers, 3 volumes`);
    expect(clean.stderr).toMatch(new RegExp(`^kept run ${liveRun.runId}: its run-local is still going \\(process \\d+ on `, 'm'));
    expect(await leftovers(dead.runId)).toEqual([]);
    expect(await leftovers(kept.runId)).toEqual([]);
    // The live run saw the leftovers when it started and named the command; it then removed its own as ever.
    expect(liveRun.stderr).toContain(`are in the daemon (a run still going, or one killed before it cleaned up, or --keep); remove those no run-local is running with: gamelayer -c ${config.file} run-local --remove-leftovers`);
    expect(liveRun.code).toBe(143);
    expect(await leftovers()).toEqual([]);

    const none = await runCli(['-c', config.file, 'run-local', '--remove-leftovers']);
    expect(none.stderr).toContain(`no containers or volumes of earlier runs of ${GAME} in the daemon`);
    expect(none.code).toBe(0);
  }, 90_000);
});
