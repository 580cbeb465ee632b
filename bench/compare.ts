// Compare benchmark (issue 8): the seed's method — `docker build` of the emitted multi-stage Dockerfile and
// `docker push` through the daemon — against gamelayer's daemonless build + push, on the same synthetic game,
// scenario after scenario (cold, no-op, a 50 MB app-media change, an engine upgrade, many small app edits), then
// as the game grows and as the change grows. Every method pushes to a registry of its own, behind a counting proxy
// (bytes are counted where the registry receives them); the docker path runs on a Docker engine of the bench's own.
// The figures go to bench/compare.json; compare-report.ts turns them into the README section and the chart.
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { access, cp, mkdir, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { generateGame } from '../fixtures/generator/generate.js';
import { mutateGame, type MutateResult } from '../fixtures/generator/mutate.js';
import { DEFAULT_GZIP_LEVEL } from '../src/oci/gzip.js';
import { formatBytes } from '../src/report/reporter.js';
import { TREE_NAMES } from '../src/types.js';
import { startRegistry, type TestRegistry } from '../test/support/registry.js';
import {
  changeCurveSize,
  presetFiles,
  writeCompareReport,
  type CompareData,
  type CompareOptions,
  type FreshSample,
  type Method,
  type Preset,
  type Sample,
  type Scenario,
  type Series,
} from './compare-report.js';
import { BENCH_DIR, OUT_DIR, machine, measure } from './lib.js';
import { startPrivateDockerd, type PrivateDockerd } from './private-dockerd.js';
import { imageLayers, pullBytes, type LayerRef } from './pull-cost.js';
import { startCountingProxy, type CountingProxy } from './registry-proxy.js';

const run = promisify(execFile);

export interface CompareBenchOptions extends CompareOptions {
  /** The preset asked for: names the files the figures go to. */
  preset: Preset;
}

const METHODS: Method[] = ['docker', 'gamelayer'];
const WORKER = path.join(BENCH_DIR, 'compare-worker.ts');
const BUILD_WORKER = path.join(BENCH_DIR, 'build-worker.ts');
/**
 * Disk a game size needs at its peak: the kept game and its work copy, docker's data root (context being
 * extracted, stage layers, server layers), the two registries and gamelayer's store — about 8 times the game.
 */
const DISK_PER_GAME_BYTE = 8;
/**
 * Bytes the compression baseline deflates: an even sample of the game's 1 MiB blocks. The rate per CPU-second is
 * what the target needs; deflating all of a 3.1 GB game took 89 s of a run that must stay under 20 minutes.
 */
const BASELINE_SAMPLE = 256 * 2 ** 20;
const gb = (n: number) => `${Number((n / 1e9).toPrecision(3))} GB`;

async function freeBytes(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

const REPO: Record<Method, string> = { docker: 'compare/docker', gamelayer: 'compare/gamelayer' };

interface Target {
  registry: TestRegistry;
  proxy: CountingProxy;
  /** Layers of the last image(s) pushed: what a node running them holds. */
  lastServer?: LayerRef[];
  lastPod?: LayerRef[];
  lastTag?: string;
}

interface Game {
  size: number;
  dir: string;
  configs: Record<Method, string>;
  /** A third project on the same sources whose .gamelayer/ is removed before each build: the fresh host. */
  freshConfig: string;
  files: number;
  bytes: number;
}

export async function compareBench(opts: CompareBenchOptions): Promise<void> {
  const started = Date.now();
  await run('bash', [path.join(BENCH_DIR, '..', 'scripts', 'services.sh')]).catch((e: Error & { stderr?: string }) => {
    throw new Error(`scripts/services.sh failed: ${e.stderr ?? e.message}`);
  });
  const dockerd = await startPrivateDockerd();
  const targets: Partial<Record<Method | 'fresh', Target>> = {};
  const stopTargets = async () => {
    for (const m of [...METHODS, 'fresh'] as const) {
      const t = targets[m];
      delete targets[m];
      await t?.proxy.close();
      await t?.registry.stop();
    }
  };
  const onSignal = () => {
    void stopTargets().finally(() => dockerd.stop().finally(() => process.exit(130)));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const { preset, ...options } = opts;
  const data: CompareData = {
    preset,
    date: new Date().toISOString().slice(0, 10),
    machine: machine(),
    cores: os.availableParallelism(),
    dockerVersion: (await dockerd.docker(['version', '--format', '{{.Server.Version}}'])).trim(),
    options,
    games: [],
    skipped: [],
    samples: [],
    totalSeconds: 0,
  };
  const log = (m: string) => process.stderr.write(`compare [${((Date.now() - started) / 60_000).toFixed(1)} min]: ${m}\n`);

  /** Empty registries and caches for both methods: the cold start. */
  const coldStart = async (game: Game) => {
    await stopTargets();
    for (const m of [...METHODS, 'fresh'] as const) {
      const registry = await startRegistry();
      const [host, port] = registry.host.split(':');
      targets[m] = { registry, proxy: await startCountingProxy({ host: host!, port: Number(port) }) };
      await rm(path.join(path.dirname(m === 'fresh' ? game.freshConfig : game.configs[m]), '.gamelayer'), { recursive: true, force: true });
    }
    await dockerd.docker(['image', 'prune', '-af']);
    await dockerd.docker(['builder', 'prune', '-af']);
  };

  const measureOne = async (
    method: Method,
    game: Game,
    series: Series,
    scenario: Scenario,
    runIndex: number,
    tag: string,
    change: { mb?: number; changedBytes: number; changedCompressed: number },
  ): Promise<Sample> => {
    const t = targets[method]!;
    const before = { counts: t.proxy.counts(), storage: await dirBytes(t.registry.storageDir), daemonCpu: await dockerd.cpuMs(), daemonRss: await dockerd.rssKiB() };
    let daemonRssPeak = before.daemonRss;
    const sampler =
      method === 'docker'
        ? setInterval(() => {
            void dockerd.rssKiB().then((r) => (daemonRssPeak = Math.max(daemonRssPeak, r)));
          }, 250)
        : undefined;
    const repository = `${t.proxy.host}/${REPO[method]}`;
    let m;
    try {
      m = await measure<Record<string, unknown>>(WORKER, [method, game.configs[method], repository, tag], method === 'docker' ? { DOCKER_HOST: dockerd.host } : {});
    } finally {
      if (sampler) clearInterval(sampler);
    }
    const after = { counts: t.proxy.counts(), storage: await dirBytes(t.registry.storageDir), daemonCpu: await dockerd.cpuMs(), daemonRss: await dockerd.rssKiB() };
    daemonRssPeak = Math.max(daemonRssPeak, after.daemonRss);
    const daemonCpuMs = method === 'docker' ? after.daemonCpu - before.daemonCpu : 0;
    const clientCpuMs = m.cpuMs + Number(m.result.childCpuMs ?? 0);

    const server = await imageLayers(t.registry.url, REPO[method], tag);
    const pod = method === 'gamelayer' ? (await Promise.all(TREE_NAMES.map((tree) => imageLayers(t.registry.url, REPO[method], `${tag}-${tree}`)))).flat() : undefined;
    const sample: Sample = {
      series,
      scenario,
      changeMb: change.mb,
      gameSize: game.size,
      run: runIndex,
      method,
      tag,
      wallMs: m.ms,
      cpuMs: clientCpuMs + daemonCpuMs,
      clientCpuMs,
      daemonCpuMs: method === 'docker' ? daemonCpuMs : undefined,
      peakRssMiB: m.maxRssMiB,
      daemonRssGrowthMiB: method === 'docker' ? (daemonRssPeak - before.daemonRss) / 1024 : undefined,
      uploadBytes: after.counts.uploadBytes - before.counts.uploadBytes,
      manifestBytes: after.counts.manifestBytes - before.counts.manifestBytes,
      uploadRequests: after.counts.uploadRequests - before.counts.uploadRequests,
      downloadBytes: after.counts.downloadBytes - before.counts.downloadBytes,
      storageGrowth: after.storage - before.storage,
      pullServer: pullBytes(t.lastServer ?? [], server),
      pullPod: pod ? pullBytes(t.lastPod ?? [], pod) : undefined,
      imageBytes: server.reduce((n, l) => n + l.size, 0),
      changedBytes: change.changedBytes,
      changedCompressed: change.changedCompressed,
      worker: m.result,
    };
    if (method === 'docker' && t.lastTag) {
      // The previous image is no cache for the next build once the new one exists; untag it to bound disk use.
      await dockerd.docker(['rmi', `${repository}:${t.lastTag}`]).catch(() => undefined);
    }
    t.lastServer = server;
    t.lastPod = pod;
    t.lastTag = tag;
    log(
      `${series} ${scenario}${change.mb !== undefined ? ` ${change.mb} MB` : ''} run ${runIndex + 1} ${method}: ${(m.ms / 1000).toFixed(2)} s wall, ` +
        `${(sample.cpuMs / 1000).toFixed(2)} s CPU, ${formatBytes(sample.uploadBytes)} sent, pull ${formatBytes(sample.pullServer)}`,
    );
    data.samples.push(sample);
    return sample;
  };

  /** Both methods on the game as it is now; the order alternates between runs so neither always goes first. */
  const both = async (game: Game, series: Series, scenario: Scenario, runIndex: number, tag: string, change: { mb?: number; changedBytes: number; changedCompressed: number }) => {
    const order = runIndex % 2 === 0 ? METHODS : [...METHODS].reverse();
    for (const method of order) await measureOne(method, game, series, scenario, runIndex, tag, change);
  };

  const mutate = async (game: Game, how: { mb?: number; engineUpgrade?: boolean; smallAppChanges?: number }, seed: string) => {
    const since = Date.now() - 1000;
    const r = await mutateGame({ dir: game.dir, seed, ...how });
    await ageSince(game.dir, since);
    return { mb: how.mb, changedBytes: r.totals.bytesChanged, changedCompressed: await compressedChange(game.dir, r) };
  };
  const noChange = { changedBytes: 0, changedCompressed: 0 };

  /**
   * The fresh host (issue 15), as bench/fresh-host.ts measures it, on the compare bench's game and change: before the
   * change, the warm host's build `previousTag` goes to the fresh host's own registry (not measured: the state a
   * CodeBuild project's repository is in); after the warm host built the change, a host with no .gamelayer/ builds
   * it too, planned on that build's record there. Its registry gets only what it lacks, as the warm one's did.
   */
  const seedFresh = async (game: Game, previousTag: string) => {
    const repo = `${targets.fresh!.proxy.host}/compare/fresh`;
    await run(process.execPath, [path.join(BENCH_DIR, '..', 'bin', 'gamelayer.js'), 'push', `${repo}:${previousTag}`, '-c', game.configs.gamelayer], { maxBuffer: 64 << 20 });
  };
  const measureFresh = async (game: Game, runIndex: number, tag: string, previousTag: string, warm: Sample, changedCompressed: number) => {
    const t = targets.fresh!;
    await rm(path.join(path.dirname(game.freshConfig), '.gamelayer'), { recursive: true, force: true });
    const repo = `${t.proxy.host}/compare/fresh`;
    const before = t.proxy.counts();
    const m = await measure<Record<string, unknown>>(WORKER, ['gamelayer-fresh', game.freshConfig, repo, tag, `${repo}:${previousTag}`]);
    const after = t.proxy.counts();
    const sample: FreshSample = {
      run: runIndex,
      gameSize: game.size,
      wallMs: m.ms,
      uploadBytes: after.uploadBytes - before.uploadBytes,
      downloadBytes: after.downloadBytes - before.downloadBytes,
      built: Number(m.result.built),
      scanMs: Number((m.result.phases as Record<string, number>).scan),
      changedCompressed,
      sameImages: JSON.stringify(m.result.digests) === JSON.stringify(warm.worker.digests),
      plannedOn: String(m.result.previous),
    };
    (data.fresh ??= []).push(sample);
    log(`main change run ${runIndex + 1} fresh host: ${(m.ms / 1000).toFixed(2)} s wall, ${formatBytes(sample.uploadBytes)} sent, ${formatBytes(sample.downloadBytes)} downloaded, same images: ${sample.sameImages}`);
  };

  try {
    const sizes = [opts.main, ...opts.sizes.filter((s) => s !== opts.main)];
    for (const size of sizes) {
      const free = Math.min(await freeBytes(OUT_DIR), await freeBytes(os.tmpdir()));
      if (free < DISK_PER_GAME_BYTE * size) {
        const why = `${gb(free)} free disk, about ${gb(DISK_PER_GAME_BYTE * size)} needed`;
        log(`game of ${gb(size)} skipped: ${why}`);
        data.skipped.push({ size, why });
        continue;
      }
      const game = await prepareGame(size, log);
      data.games.push({ size, files: game.files, bytes: game.bytes });
      const appMedia = await dirBytes(path.join(game.dir, 'app-media'));
      if (size === opts.main) {
        log(`single-core compression baseline on ${formatBytes(game.bytes)}`);
        const d = await measure<{ bytes: number; compressed: number; sampledOf: number }>(BUILD_WORKER, [
          'deflate',
          game.configs.gamelayer,
          String(DEFAULT_GZIP_LEVEL),
          String(BASELINE_SAMPLE),
        ]);
        data.baseline = { bytes: d.result.bytes, compressed: d.result.compressed, cpuMs: d.cpuMs, ms: d.ms, sampledOf: d.result.sampledOf };
        // A small game has fewer small app files than asked for: edit what there is (the report says how many).
        const smallFiles = Math.min(opts.smallFiles, await countSmallFiles(path.join(game.dir, 'app')));
        data.smallFiles = smallFiles;
        for (let i = 0; i < opts.runs; i++) {
          await coldStart(game);
          await both(game, 'main', 'cold', i, `r${i}-cold`, noChange);
          await both(game, 'main', 'noop', i, `r${i}-noop`, noChange);
          await seedFresh(game, `r${i}-noop`);
          const change = await mutate(game, { mb: opts.changeMb }, `compare/r${i}/change`);
          await both(game, 'main', 'change', i, `r${i}-change`, change);
          const warm = [...data.samples].reverse().find((s) => s.method === 'gamelayer' && s.tag === `r${i}-change`)!;
          await measureFresh(game, i, `r${i}-change`, `r${i}-noop`, warm, change.changedCompressed);
          await both(game, 'main', 'engine', i, `r${i}-engine`, await mutate(game, { engineUpgrade: true }, `compare/r${i}/engine`));
          await both(game, 'main', 'small', i, `r${i}-small`, await mutate(game, { smallAppChanges: smallFiles }, `compare/r${i}/small`));
        }
      } else {
        for (let i = 0; i < opts.curveRuns; i++) {
          await coldStart(game);
          await both(game, 'size-curve', 'cold', i, `s${i}-cold`, noChange);
          await both(game, 'size-curve', 'change', i, `s${i}-change`, await mutate(game, { mb: opts.changeMb }, `compare/s${i}/change`));
        }
      }
      // The other change sizes, on top of this game's edits so far (its main change is the curve's middle point).
      if (size === changeCurveSize(opts)) {
        for (const mb of opts.changesMb.filter((c) => c !== opts.changeMb)) {
          if (mb * 1e6 > appMedia) {
            log(`change curve: ${mb} MB skipped, more than all of app-media (${formatBytes(appMedia)})`);
            continue;
          }
          for (let i = 0; i < opts.curveRuns; i++) {
            await both(game, 'change-curve', 'change', i, `c${mb}-r${i}`, await mutate(game, { mb }, `compare/c${mb}/r${i}`));
          }
        }
      }
      await stopTargets();
      await dockerd.docker(['image', 'prune', '-af']);
      await rm(game.dir, { recursive: true, force: true });
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopTargets();
    await dockerd.stop();
  }
  data.totalSeconds = (Date.now() - started) / 1000;
  const json = presetFiles(preset).json;
  await writeFile(json, `${JSON.stringify(data, null, 1)}\n`);
  log(`figures in ${path.relative(process.cwd(), json)}; total ${(data.totalSeconds / 60).toFixed(1)} min`);
  await writeCompareReport(data);
}

/**
 * The game at this size: generated once into bench/out/compare-game-SIZE (kept, never edited), copied to a work
 * folder the scenarios edit, with one gamelayer.yaml per method (so each has its own .gamelayer/ state: no
 * stat cache or layer shared between them).
 */
async function prepareGame(size: number, log: (m: string) => void): Promise<Game> {
  const pristine = path.join(OUT_DIR, `compare-game-${size}`);
  if (!(await exists(path.join(pristine, 'gamelayer.yaml')))) {
    log(`generating ${formatBytes(size)} into ${pristine}`);
    await rm(pristine, { recursive: true, force: true });
    await generateGame({ out: pristine, size, seed: 'bench-compare', game: 'compare-game' });
    await run('find', [pristine, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);
  }
  const dir = path.join(OUT_DIR, `compare-work-${size}`);
  await rm(dir, { recursive: true, force: true });
  log(`copying the game to ${dir}`);
  await cp(pristine, dir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  const configs = {} as Record<Method, string>;
  const project = async (name: string) => {
    const sub = path.join(dir, `bench-${name}`);
    await mkdir(sub, { recursive: true });
    const file = path.join(sub, 'gamelayer.yaml');
    await writeFile(
      file,
      `game: compare-game\nversion: 1.0.0\nbaseImage: scratch\nstart: ["/opt/local/engine/start.sh"]\ntrees:\n` +
        TREE_NAMES.map((t) => `  ${t}:\n    source: ../${t}\n`).join(''),
    );
    return file;
  };
  for (const m of METHODS) configs[m] = await project(m);
  const freshConfig = await project('fresh');
  let files = 0;
  let bytes = 0;
  for (const t of TREE_NAMES) {
    const r = await countFiles(path.join(dir, t));
    files += r.files;
    bytes += r.bytes;
  }
  return { size, dir, configs, freshConfig, files, bytes };
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

export async function countFiles(root: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return { files, bytes };
}

/** Files of at most 64 KiB: what mutateGame's small app edits pick from. */
async function countSmallFiles(root: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && (await stat(path.join(e.parentPath, e.name))).size <= 64 * 1024) n++;
  }
  return n;
}

async function dirBytes(root: string): Promise<number> {
  return (await exists(root)) ? (await countFiles(root)).bytes : 0;
}

/** Files edited since `since` get an mtime an hour back, as a day's edits would have: the stat cache may keep them. */
export async function ageSince(dir: string, since: number): Promise<void> {
  await run('find', [
    ...TREE_NAMES.map((t) => path.join(dir, t)),
    '-newermt', `@${(since / 1000).toFixed(3)}`,
    '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+',
  ]);
}

/**
 * The changed files' new content as a layer would carry it compressed: deflate at the build's level in 1 MiB
 * blocks, a block stored as it is when that is smaller (as gamelayer's gzip does). Removed files count 0.
 */
export async function compressedChange(dir: string, r: MutateResult): Promise<number> {
  let total = 0;
  for (const c of r.changes) {
    if (c.after === null) continue;
    const stream = createReadStream(path.join(dir, c.tree, c.path), { highWaterMark: 1 << 20 });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += Math.min(chunk.length, deflateRawSync(chunk, { level: DEFAULT_GZIP_LEVEL }).length);
    }
  }
  return total;
}
