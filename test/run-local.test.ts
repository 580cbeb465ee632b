// gamelayer run-local against the real Docker engine: the sample game built on a busybox base (an OCI layout made
// from Debian's busybox), then run as its pod: copy containers, then the engine whose start.sh verifies all four
// trees. Success, a corrupted tree, a failing init container, Ctrl-C, --timeout, image volumes and --keep; after
// every run no container or volume it created is left.
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { loadConfig, type GameConfig } from '../src/config/load.js';
import { GamelayerError } from '../src/errors.js';
import { RUN_LABEL } from '../src/runlocal/execute.js';
import { runLocal } from '../src/runlocal/run-local.js';
import { silentReporter } from '../src/report/reporter.js';
import type { BuildRecord } from '../src/types.js';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { copySample, sampleYamlOn } from './support/sample.js';
import { removeGameImages, runLeftovers } from './support/run-local-daemon.js';
import { tempDir } from './support/tmp.js';

const BIN = fileURLToPath(new URL('../bin/gamelayer.js', import.meta.url));
const GAME = 'run-local-test';
const docker = new Docker();
const TREES = ['engine', 'engine-media', 'app', 'app-media'];

let work: string;
let baseRef: string;

/** A copy of the sample game named GAME on the busybox base, changed by `edit`, then built. */
async function game(name: string, edit: (dir: string) => Promise<void> = async () => {}): Promise<GameConfig> {
  const dir = path.join(work, name);
  copySample(dir);
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(
    yaml,
    sampleYamlOn((await readFile(yaml, 'utf8')).replace('game: sample-game', `game: ${GAME}`), baseRef),
  );
  await edit(dir);
  const config = await loadConfig(yaml);
  await build({ config });
  return config;
}

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  runId?: string;
}

/** The real CLI in a child process; `onStdout` sees the output so far (to send a signal at the right moment). */
function cli(config: GameConfig, args: string[], onStdout?: (all: string, child: ReturnType<typeof spawn>) => void): Promise<CliRun> {
  const child = spawn(process.execPath, [BIN, '-c', config.file, 'run-local', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    onStdout?.(stdout, child);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, runId: /^run (\S+): containers and volumes labelled/m.exec(stderr)?.[1] }));
  });
}

const leftovers = (runId?: string) => runLeftovers(docker, GAME, runId);

let good: GameConfig;
let corrupt: GameConfig;
let badCopy: GameConfig;

beforeAll(async () => {
  work = await tempDir('gl-run-local-');
  baseRef = await writeBusyboxLayout(path.join(work, 'busybox-layout'));
  await removeGameImages(docker, GAME);
  [good, corrupt, badCopy] = await Promise.all([
    game('good'),
    // One file of app-media gone, its line still in app/checksums.sha256: start.sh must refuse.
    game('corrupt', (dir) => rm(path.join(dir, 'app-media/levels/forest/terrain/cover.ctc'))),
    game('bad-copy'),
  ]);
  // The record names the engine image as app-media's: its copy container finds no /opt/local/app-media and
  // fails, after engine-media and app were copied (the guard the seed's YAML lacked).
  const recordFile = path.join(badCopy.stateDir, 'records/build-last.json');
  const record = JSON.parse(await readFile(recordFile, 'utf8')) as BuildRecord;
  const engine = record.images.find((i) => i.name === 'engine')!;
  record.images = record.images.map((i) => (i.name === 'app-media' ? { ...engine, name: 'app-media' } : i));
  await writeFile(recordFile, JSON.stringify(record));
});

afterAll(async () => {
  expect(await leftovers()).toEqual([]);
  await removeGameImages(docker, GAME);
});

// Independent runs (each checks only its own leftovers): concurrent, since most of a run is waiting for the daemon.
describe.concurrent('gamelayer run-local (real Docker engine)', () => {
  it('runs the pod of a fresh build: copies, then the engine verifies all four trees; exit 0, nothing left', async () => {
    const r = await cli(good, ['--network', 'none']);
    expect(r.stderr).toContain('container engine exited with code 0');
    expect(r.code).toBe(0);
    for (const tree of ['engine-media', 'app', 'app-media']) {
      expect(r.stdout).toContain(`[copy-${tree}] gamelayer: ${tree}: copied to /mnt/${tree}\n`);
    }
    expect(r.stdout).toMatch(/^\[engine\] engine: OK \(\d+ files verified\)$/m);
    for (const tree of TREES) expect(r.stdout).toMatch(new RegExp(`^\\[engine\\] ${tree}: OK \\(\\d+ files verified\\)$`, 'm'));
    expect(r.stdout).toContain('[engine] sample-game: all four trees verified under /opt/local; server ready');
    // Init containers ran in the pod's order, each before the engine.
    const order = ['[copy-engine-media]', '[copy-app]', '[copy-app-media]', '[engine]'].map((p) => r.stdout.indexOf(p));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(r.runId).toMatch(/-[0-9a-f]{6}$/);
    expect(await leftovers(r.runId)).toEqual([]);
  });

  it('--volumes none: the server image alone verifies all four trees; no copy, no volume; exit 0, nothing left', async () => {
    const r = await cli(good, ['--network', 'none', '--volumes', 'none']);
    expect(r.stderr).toContain('container engine exited with code 0');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('[copy-');
    for (const tree of TREES) expect(r.stdout).toMatch(new RegExp(`^\\[engine\\] ${tree}: OK \\(\\d+ files verified\\)$`, 'm'));
    expect(r.stderr).toMatch(/^engine started \d+\.\d\d s after the pod \(0 init containers, 0 volumes\)$/m);
    // The server image is loaded here, or was already by a run beside this one (the runs are concurrent).
    expect(r.stderr).toMatch(/^(load 1 image: 1 image, \d+ layers |images of 1\.0\.0 already in the Docker daemon$)/m);
    expect(r.stderr).not.toMatch(/\b1 images\b/);
    expect(await leftovers(r.runId)).toEqual([]);
  });

  it('--volumes image: the CLI process exits by itself once the engine exited 0 and clean-up is done', async () => {
    // It used to stay alive on two open Docker socket connections: this run then never reached 'close'.
    const r = await cli(good, ['--network', 'none', '--volumes', 'image']);
    expect(r.stderr).toContain('container engine exited with code 0');
    expect(r.code).toBe(0);
    expect(r.signal).toBeNull();
    expect(await leftovers(r.runId)).toEqual([]);
  });

  it('the deploy: section of gamelayer.yaml shapes the pod run-local runs: env (valueFrom left out, said so), volumes (library)', async () => {
    const config = await game('deploy-section', async (dir) => {
      const yaml = path.join(dir, 'gamelayer.yaml');
      await writeFile(
        yaml,
        `${await readFile(yaml, 'utf8')}\ndeploy:\n  volumes: none\n  env:\n    - {name: GAME_REGION, value: eu-west-1}\n    - name: POD_NAME\n      valueFrom: {fieldRef: {fieldPath: metadata.name}}\n`,
      );
    });
    const lines: string[] = [];
    const infos: string[] = [];
    const reporter = { ...silentReporter, info: (m: string) => infos.push(m) };
    const r = await runLocal({ config, network: 'none', args: ['sh', '-c', 'echo "region=$GAME_REGION pod=${POD_NAME:-unset}"'], reporter, logs: (c, _s, l) => lines.push(`${c}: ${l}`) });
    expect(r.exitCode).toBe(0);
    expect(r.plan.init).toEqual([]);
    expect(r.plan.volumes).toEqual([]);
    expect(lines).toContain('engine: region=eu-west-1 pod=unset');
    expect(infos).toContain('deploy.env: POD_NAME use valueFrom, which only a cluster resolves: left out here');
    expect(await leftovers(r.runId)).toEqual([]);
  });

  it('images stay in the daemon: a second run of the same build loads nothing (library)', async () => {
    const lines: string[] = [];
    // Load first if the CLI run has not yet (the tests run concurrently), then run again.
    await runLocal({ config: good, network: 'none', logs: () => {} });
    const again = await runLocal({ config: good, network: 'none', logs: (c, _s, l) => lines.push(`${c}: ${l}`) });
    expect(again.imagesLoaded).toBe(0);
    expect(again.exitCode).toBe(0);
    expect(lines).toContain('engine: sample-game: all four trees verified under /opt/local; server ready');
    expect(await leftovers(again.runId)).toEqual([]);
  });

  it('a library run given no log sink prints nothing: the caller owns stdout and stderr (library)', async () => {
    // A studio's service calling runLocal had its stdout (a JSON protocol, say) filled with `[engine] …` lines.
    const written: string[] = [];
    const spy = (stream: NodeJS.WriteStream) => {
      const write = stream.write;
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        written.push(String(chunk));
        return (write as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      }) as typeof stream.write;
      return () => void (stream.write = write);
    };
    const restore = [spy(process.stdout), spy(process.stderr)];
    let r;
    try {
      r = await runLocal({ config: good, network: 'none' });
    } finally {
      for (const undo of restore) undo();
    }
    expect(r.exitCode).toBe(0);
    expect(written.filter((w) => /\[(engine|copy-[a-z-]+)\] /.test(w))).toEqual([]);
    expect(await leftovers(r.runId)).toEqual([]);
  });

  it('a corrupted tree: the engine says which tree failed and why, exit 1, nothing left', async () => {
    const r = await cli(corrupt, ['--network', 'none']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^\[engine\] app-media: FAILED$/m);
    expect(r.stdout).toMatch(/^\[engine\]\s+app-media\/levels\/forest\/terrain\/cover\.ctc: FAILED/m);
    for (const tree of ['engine', 'engine-media', 'app']) expect(r.stdout).toMatch(new RegExp(`^\\[engine\\] ${tree}: OK`, 'm'));
    expect(r.stderr).toContain('[engine] sample-game: not starting; trees that failed: app-media');
    // In the format of every error: code, message with the exit code, then a hint.
    expect(r.stderr).toMatch(/^error\[run\.engine-exit\]: container engine exited with code 1\nhint: its output is above, each line prefixed \[engine\]; --keep keeps the container to inspect\n/m);
    expect(await leftovers(r.runId)).toEqual([]);
  });

  it('a failing init container stops the run: its name, exit code and output; the engine never starts; nothing left', async () => {
    const r = await cli(badCopy, ['--network', 'none']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[copy-engine-media] gamelayer: engine-media: copied');
    expect(r.stdout).toContain('[copy-app] gamelayer: app: copied');
    expect(r.stdout).not.toContain('[engine]');
    expect(r.stderr).toMatch(/^error\[run.init-failed\]: init container copy-app-media failed with exit code [1-9]\d*; the engine was not started; its last output:$/m);
    expect(r.stderr).toMatch(/^\[copy-app-media\] gamelayer: app-media: \/opt\/local\/app-media is missing from this image$/m);
    expect(r.stderr).toMatch(/gamelayer: app-media: \/opt\/local\/app-media is missing from this image\nhint: its output is above, each line prefixed \[copy-app-media\]/m);
    expect(await leftovers(r.runId)).toEqual([]);
  });

  for (const [signal, exit, what] of [['SIGINT', 130, 'Ctrl-C'], ['SIGTERM', 143, 'SIGTERM']] as const) {
    it(`${what} while the engine serves: stops it, removes containers and volumes, exit ${exit}`, async () => {
      let sent = false;
      const r = await cli(good, ['--network', 'none', '--', '/opt/local/engine/start.sh', '--serve'], (out, child) => {
        if (!sent && out.includes('server ready')) {
          sent = true;
          child.kill(signal);
        }
      });
      expect(sent).toBe(true);
      expect(r.code).toBe(exit);
      expect(r.stderr).toContain(`${signal}: stopping the run and removing its containers and volumes`);
      expect(r.stderr).toContain(`error[run.interrupted]: interrupted (${signal}) while container engine was running; stopped the run`);
      expect(await leftovers(r.runId)).toEqual([]);
    });
  }

  it('refuses before touching the daemon: no build yet, a scratch base (library)', async () => {
    const dir = path.join(work, 'scratch');
    copySample(dir);
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const noBuild = await runLocal({ config, logs: () => {} }).catch((e: unknown) => e);
    expect((noBuild as GamelayerError).message).toBe(`${path.join(dir, '.gamelayer/records/build-last.json')}: no build yet, run gamelayer build`);
    await build({ config });
    const scratch = await runLocal({ config, logs: () => {} }).catch((e: unknown) => e);
    expect(scratch).toBeInstanceOf(GamelayerError);
    expect((scratch as GamelayerError).code).toBe('run.scratch');
    expect((scratch as GamelayerError).message).toBe(`${config.file}: baseImage: scratch has no sh or cp, so the copy containers and the start guard cannot run`);
  });

  it('--timeout stops the run wherever it is and cleans up (library)', async () => {
    const lines: string[] = [];
    let runId = '';
    const err = await runLocal({
      config: good,
      network: 'none',
      args: ['/opt/local/engine/start.sh', '--serve'],
      timeoutMs: 1500,
      logs: (c, _s, l) => lines.push(`${c}: ${l}`),
      onPlan: (_p, id) => (runId = id),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GamelayerError);
    expect((err as GamelayerError).code).toBe('run.timeout');
    expect((err as GamelayerError).message).toMatch(/^--timeout 1500ms reached while .+; stopped the run$/);
    expect(runId).not.toBe('');
    expect(await leftovers(runId)).toEqual([]);
  });

  it('--volumes image (emulated) with --keep and --env: read-only tree volumes, the pod security settings, then removed by label', async () => {
    const lines: string[] = [];
    const result = await runLocal({ config: good, network: 'none', k8s: { volumes: 'image' }, keep: true, env: ['GAME_MODE=local test'], logs: (c, _s, l) => lines.push(`${c}: ${l}`) });
    try {
      expect(result.exitCode).toBe(0);
      // app has executables, so it is still copied; the media trees come from image volumes.
      expect(result.plan.init.map((c) => c.name)).toEqual(['copy-app']);
      expect(result.plan.volumes.map((v) => [v.name, v.kind])).toEqual([
        ['tree-engine-media', 'image'],
        ['tree-app', 'emptyDir'],
        ['tree-app-media', 'image'],
      ]);
      for (const tree of TREES) expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^engine: ${tree}: OK`)));
      expect(result.kept?.containers).toHaveLength(2);
      expect(result.kept?.volumes).toHaveLength(3);

      const engine = await docker.getContainer(result.containers.find((c) => c.role === 'engine')!.dockerName).inspect();
      expect(engine.State.ExitCode).toBe(0);
      expect(engine.Config.User).toBe('1000:1000');
      expect(engine.Config.WorkingDir).toBe('/opt/local/engine');
      expect(engine.Config.Entrypoint?.slice(0, 2)).toEqual(['sh', '-c']);
      expect(engine.Config.Cmd).toEqual(['/opt/local/engine/start.sh']);
      expect(engine.Config.Env).toContain('GAME_MODE=local test');
      expect(engine.HostConfig.CapDrop).toEqual(['ALL']);
      expect(engine.HostConfig.SecurityOpt).toEqual(['no-new-privileges']);
      expect(engine.HostConfig.ReadonlyRootfs).toBe(false);
      expect(engine.HostConfig.GroupAdd).toEqual(['1000']);
      expect(engine.HostConfig.Memory).toBe(2 * 2 ** 30);
      const mounts = Object.fromEntries(engine.Mounts.map((m) => [m.Destination, m.RW]));
      expect(mounts).toEqual({ '/opt/local/engine-media': false, '/opt/local/app': true, '/opt/local/app-media': false });

      const copy = await docker.getContainer(result.containers.find((c) => c.name === 'copy-app')!.dockerName).inspect();
      expect(copy.HostConfig.ReadonlyRootfs).toBe(true);
      expect(copy.HostConfig.NetworkMode).toBe('none');
      expect(copy.Config.User).toBe('1000:1000');
      expect(copy.HostConfig.Memory).toBe(128 * 2 ** 20);
    } finally {
      for (const c of await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${result.runId}`] } })) {
        await docker.getContainer(c.Id).remove({ force: true });
      }
      for (const v of (await docker.listVolumes({ filters: { label: [`${RUN_LABEL}=${result.runId}`] } })).Volumes ?? []) {
        await docker.getVolume(v.Name).remove({ force: true });
      }
    }
    expect(await leftovers(result.runId)).toEqual([]);
  });
});
