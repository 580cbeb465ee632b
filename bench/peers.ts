// Peers benchmark (issue 17): gamelayer's `build --push` against the builders a user would pick instead, on the same
// generated game, scenario after scenario, all measured in the same run:
//   - docker BuildKit (Debian's /usr/bin/docker 20.10 client, DOCKER_BUILDKIT=1) building the seed's Dockerfile shape:
//     one COPY per tree in the order engine, engine-media, app, app-media; then `docker push`;
//   - BuildKit building gamelayer's emitted multi-stage Dockerfile (its Docker 20.10 variant, context streamed by
//     `buildWithDocker`, server image only); then `docker push`;
//   - buildah (`bud --layers`, Debian's package) building the seed's Dockerfile; then `buildah push`.
// Every method pushes to a docker-registry of its own behind a counting proxy ("sent": request bodies of
// PATCH/PUT/POST to /v2/); docker runs on an engine of the bench's own (bench/private-dockerd.ts), buildah on a
// storage root of its own. Wall time is the whole command, process start included, as a user sees it.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { cp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os, { loadavg } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generateGame } from '../fixtures/generator/generate.js';
import { Keystream } from '../fixtures/generator/random.js';
import { mutateGame } from '../fixtures/generator/mutate.js';
import { formatBytes } from '../src/report/reporter.js';
import { TREE_NAMES } from '../src/types.js';
import { startRegistry, type TestRegistry } from '../test/support/registry.js';
import { BENCH_DIR, OUT_DIR, machine, median, writeReportSection } from './lib.js';
import { startPrivateDockerd, type PrivateDockerd } from './private-dockerd.js';
import { startCountingProxy, type CountingProxy } from './registry-proxy.js';

const run = promisify(execFile);
const ROOT = path.dirname(BENCH_DIR);
/** The installed command (it runs the CLI bundle, dist/cli-bundle/), as a user runs it. */
export const CLI = path.join(ROOT, 'bin/gamelayer.js');
/** The 20.10 client: a newer docker on PATH demands buildx for BuildKit builds. */
const DOCKER = '/usr/bin/docker';

export interface PeersBenchOptions {
  size: number;
  runs: number;
  /** MB of app-media changed in the "assets" scenario. */
  changeMb: number;
}

export const PEER_METHODS = ['gamelayer', 'buildkit-seed', 'buildkit-emitted', 'buildah-seed'] as const;
export type PeerMethod = (typeof PEER_METHODS)[number];
const LABEL: Record<PeerMethod, string> = {
  gamelayer: 'gamelayer `build --push`',
  'buildkit-seed': 'BuildKit, seed Dockerfile (one COPY per tree) + `docker push`',
  'buildkit-emitted': "BuildKit, gamelayer's emitted multi-stage Dockerfile + `docker push`",
  'buildah-seed': 'buildah `bud --layers`, seed Dockerfile + `buildah push`',
};

export const PEER_SCENARIOS = ['cold', 'noop', 'assets', 'partial', 'small'] as const;
export type PeerScenario = (typeof PEER_SCENARIOS)[number];

export interface Change {
  files: number;
  /** Bytes of new content written into the trees. */
  written: number;
  what: string;
}

export interface PeerSample {
  scenario: PeerScenario;
  run: number;
  method: PeerMethod;
  wallMs: number;
  sent: number;
  change: Change;
  error?: string;
}

interface Target {
  registry: TestRegistry;
  proxy: CountingProxy;
}

/** Runs a command; wall time of the whole process. */
async function timedRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env }, cwd });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const SEED_DOCKERFILE = `FROM scratch\n${TREE_NAMES.map((t) => `COPY ${t} /opt/local/${t}`).join('\n')}\nENTRYPOINT ["/opt/local/engine/start.sh"]\n`;

/**
 * Services up, the compiled CLI current (the bench runs gamelayer as a user does, not through tsx) and the pristine
 * generated game of `size` (made once, its times an hour old): the folder every scenario copies from.
 */
export async function peersGame(size: number, log: (m: string) => void): Promise<string> {
  await run('bash', [path.join(ROOT, 'scripts', 'services.sh')]);
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-dist.mjs'), '--if-changed'], { stdio: 'inherit' });
  const pristine = path.join(OUT_DIR, `peers-game-${size}`);
  if (!(await exists(path.join(pristine, 'gamelayer.yaml')))) {
    log(`generating ${formatBytes(size)} into ${pristine}`);
    await rm(pristine, { recursive: true, force: true });
    await generateGame({ out: pristine, size, seed: 'bench-peers', game: 'peers-game' });
    await run('find', [pristine, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);
  }
  return pristine;
}

export async function peersBench(opts: PeersBenchOptions): Promise<void> {
  const started = Date.now();
  const log = (m: string) => process.stderr.write(`peers [${((Date.now() - started) / 60_000).toFixed(1)} min]: ${m}\n`);
  const pristine = await peersGame(opts.size, log);
  const dir = path.join(OUT_DIR, `peers-work-${opts.size}`);
  const buildahRoot = path.join(OUT_DIR, `peers-buildah-${opts.size}`);
  const dockerd = await startPrivateDockerd();
  const targets = new Map<PeerMethod, Target>();
  const stopTargets = async () => {
    for (const t of targets.values()) {
      await t.proxy.close();
      await t.registry.stop();
    }
    targets.clear();
  };
  const samples: PeerSample[] = [];
  const loads: number[] = [];
  let files = 0;
  let bytes = 0;
  try {
    for (let runIndex = 0; runIndex < opts.runs; runIndex++) {
      // Each run starts from the pristine game, empty registries and empty caches: the cold start.
      await rm(dir, { recursive: true, force: true });
      await cp(pristine, dir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      await writeFile(path.join(dir, 'seed.Dockerfile'), SEED_DOCKERFILE);
      await writeFile(path.join(dir, '.dockerignore'), '.gamelayer\nseed.Dockerfile\ngamelayer.yaml\n');
      ({ files, bytes } = await treeTotals(dir));
      await stopTargets();
      for (const m of PEER_METHODS) {
        const registry = await startRegistry();
        const [host, port] = registry.host.split(':');
        targets.set(m, { registry, proxy: await startCountingProxy({ host: host!, port: Number(port) }) });
      }
      await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true });
      await dockerd.docker(['image', 'prune', '-af']);
      await dockerd.docker(['builder', 'prune', '-af']);
      await rm(buildahRoot, { recursive: true, force: true });

      const scenario = async (name: PeerScenario, change: Change) => {
        loads.push(loadavg()[0]!);
        const order = runIndex % 2 === 0 ? [...PEER_METHODS] : [...PEER_METHODS].reverse();
        for (const method of order) {
          const t = targets.get(method)!;
          const before = t.proxy.counts().uploadBytes;
          // A no-op is the same command again: same tag as the cold build before it.
          const tag = `r${runIndex}-${name === 'noop' ? 'cold' : name}`;
          let wallMs = Number.NaN;
          let error: string | undefined;
          try {
            wallMs = await buildAndPush(method, { dir, tag, repository: `${t.proxy.host}/peers/${method}`, dockerd, buildahRoot });
          } catch (e) {
            error = (e as Error).message.slice(0, 600);
            log(`${name} ${method}: failed: ${error}`);
          }
          const sent = t.proxy.counts().uploadBytes - before;
          samples.push({ scenario: name, run: runIndex, method, wallMs, sent, change, ...(error ? { error } : {}) });
          if (!error) log(`${name} run ${runIndex + 1} ${method}: ${(wallMs / 1000).toFixed(2)} s, ${formatBytes(sent)} sent`);
        }
      };
      const none: Change = { files: 0, written: 0, what: 'nothing' };
      await scenario('cold', none);
      await scenario('noop', none);
      await scenario('assets', await edit(dir, () => mutateGame({ dir, seed: `peers/r${runIndex}/assets`, mb: opts.changeMb }).then(fromMutate(`${opts.changeMb} MB of app-media assets`))));
      await scenario('partial', await edit(dir, () => rewriteBigFiles(dir, `peers/r${runIndex}/partial`)));
      const smallFiles = Math.min(20, await countSmallFiles(path.join(dir, 'app')));
      await scenario('small', await edit(dir, () => mutateGame({ dir, seed: `peers/r${runIndex}/small`, smallAppChanges: smallFiles }).then(fromMutate('small app files edited'))));
    }
  } finally {
    await stopTargets();
    await dockerd.stop();
  }
  const data = { date: new Date().toISOString().slice(0, 10), machine: machine(), cores: os.availableParallelism(), size: opts.size, files, bytes, runs: opts.runs, loads, samples, totalSeconds: (Date.now() - started) / 1000 };
  await writeFile(path.join(BENCH_DIR, 'peers.json'), `${JSON.stringify(data, null, 1)}\n`);
  const md = peersReport(data);
  process.stdout.write(md);
  await writeReportSection('peers', md);
  await writeReportSection('peers-summary', readmePeersTable(data), README);
}

const README = path.join(ROOT, 'README.md');

/** `npm run bench -- peers-report`: both peers sections (bench/README.md, README.md) again from bench/peers.json. */
export async function writePeersReport(): Promise<void> {
  const data = JSON.parse(await readFile(path.join(BENCH_DIR, 'peers.json'), 'utf8')) as PeersData;
  await writeReportSection('peers', peersReport(data));
  await writeReportSection('peers-summary', readmePeersTable(data), README);
}

async function buildAndPush(method: PeerMethod, o: { dir: string; tag: string; repository: string; dockerd: PrivateDockerd; buildahRoot: string }): Promise<number> {
  const ref = `${o.repository}:${o.tag}`;
  const dockerEnv = { DOCKER_HOST: o.dockerd.host, DOCKER_BUILDKIT: '1' };
  switch (method) {
    case 'gamelayer':
      return timedRun(process.execPath, [CLI, 'build', '-c', path.join(o.dir, 'gamelayer.yaml'), '--tag', o.tag, '--push', o.repository], { GAMELAYER_LINE: 'bench' });
    case 'buildkit-seed': {
      const b = await timedRun(DOCKER, ['build', '-q', '-f', path.join(o.dir, 'seed.Dockerfile'), '-t', ref, o.dir], dockerEnv);
      return b + (await timedRun(DOCKER, ['push', ref], dockerEnv));
    }
    case 'buildkit-emitted': {
      // gamelayer's own Docker path (buildWithDocker, compiled) with BuildKit: the emitted Dockerfile and its context.
      const script = [
        `import { loadConfig } from ${JSON.stringify(path.join(ROOT, 'dist/config/load.js'))};`,
        `import { buildWithDocker } from ${JSON.stringify(path.join(ROOT, 'dist/docker/daemon-build.js'))};`,
        `const config = await loadConfig(${JSON.stringify(path.join(o.dir, 'gamelayer.yaml'))});`,
        `await buildWithDocker({ config, tag: ${JSON.stringify(o.tag)}, repository: ${JSON.stringify(o.repository)}, compat: true, buildkit: true, trees: false });`,
      ].join('\n');
      const b = await timedRun(process.execPath, ['--input-type=module', '-e', script], dockerEnv);
      return b + (await timedRun(DOCKER, ['push', ref], dockerEnv));
    }
    case 'buildah-seed': {
      const root = ['--root', path.join(o.buildahRoot, 'root'), '--runroot', path.join(o.buildahRoot, 'run')];
      const b = await timedRun('buildah', [...root, 'bud', '--layers', '-q', '-f', path.join(o.dir, 'seed.Dockerfile'), '-t', ref, o.dir]);
      return b + (await timedRun('buildah', [...root, 'push', '-q', '--tls-verify=false', ref, `docker://${ref}`]));
    }
  }
}

/** Options of `npm run bench -- peers-noop`: the no-op scenario alone, many interleaved runs, CLIs side by side. */
export interface PeersNoopOptions {
  size: number;
  runs: number;
  /** Other builds of the gamelayer CLI (their `bin/gamelayer.js`) measured beside this checkout's, for an A/B. */
  others: string[];
  /** Each registry answer held back this long by the proxies (a registry across a network), for every method. */
  delayMs?: number;
  /** This checkout once more with GAMELAYER_NO_FAST_NOOP=1 (the full path on every run), on a game of its own. */
  fullPath?: boolean;
}

interface NoopSample {
  method: string;
  run: number;
  wallMs: number;
  cpuMs: number;
  sent: number;
  load: number;
}

/**
 * The no-op scenario alone (issue 17 item 3): one cold build and push per method, a warm-up no-op each (code cache,
 * local state), then `runs` rounds of the same no-op command, the methods in alternating order within each round.
 * Each gamelayer CLI (this checkout's, and `--noop-cli` others for an A/B) builds its own copy of the game and pushes
 * to a repository of its own (two versions sharing state or records would rewrite each other's: no run a no-op);
 * BuildKit (seed Dockerfile + `docker push`) to its own registry. A row times `node -e 0`: Node's start, which no
 * Node CLI can go below. CPU time is the command's own (user + system, with its
 * children) from /usr/bin/time. Prints a table; writes nothing into the READMEs.
 */
export async function peersNoopBench(opts: PeersNoopOptions): Promise<void> {
  const log = (m: string) => process.stderr.write(`peers-noop: ${m}\n`);
  const pristine = await peersGame(opts.size, log);
  const dir = path.join(OUT_DIR, `peers-noop-work-${opts.size}`);
  await rm(dir, { recursive: true, force: true });
  await cp(pristine, dir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  await writeFile(path.join(dir, 'seed.Dockerfile'), SEED_DOCKERFILE);
  await writeFile(path.join(dir, '.dockerignore'), '.gamelayer\nseed.Dockerfile\ngamelayer.yaml\n');
  const dockerd = await startPrivateDockerd();
  const targets: Target[] = [];
  const target = async () => {
    const registry = await startRegistry();
    const [host, port] = registry.host.split(':');
    const t = { registry, proxy: await startCountingProxy({ host: host!, port: Number(port) }, { delayMs: opts.delayMs }) };
    targets.push(t);
    return t;
  };
  const clis = [CLI, ...opts.others.map((o) => path.resolve(o)), ...(opts.fullPath ? [CLI] : [])];
  const fullPathIndex = opts.fullPath ? clis.length - 1 : -1;
  // Each CLI's code cache (src/cli/code-cache.ts) in a fresh folder of its own, first written by the same no-op
  // warm-up: an entry holds the bytecode of what its first run compiled, so a CLI whose first run was the cold build
  // would carry more (measured: up to 10 ms of CPU per run between two installs of the same build).
  const codeCache = (i: number) => path.join(OUT_DIR, `peers-noop-code-cache-${i}`);
  for (let i = 0; i < clis.length; i++) await rm(codeCache(i), { recursive: true, force: true });
  const samples: NoopSample[] = [];
  try {
    await dockerd.docker(['image', 'prune', '-af']);
    await dockerd.docker(['builder', 'prune', '-af']);
    const ours = await target();
    const theirs = await target();
    // Each CLI its own copy of the game (its own .gamelayer state) and its own repository: two versions sharing
    // either rewrite each other's state or records, and neither run would be a no-op.
    const gameOf = async (i: number) => {
      if (i === 0) return dir;
      const own = `${dir}-cli${i}`;
      await rm(own, { recursive: true, force: true });
      await cp(pristine, own, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      return own;
    };
    const games = await Promise.all(clis.map((_, i) => gameOf(i)));
    const repositoryOf = (i: number) => `${ours.proxy.host}/peers/gamelayer${i === 0 ? '' : `-cli${i}`}`;
    const ref = `${theirs.proxy.host}/peers/buildkit-seed:noop`;
    const dockerEnv = { DOCKER_HOST: dockerd.host, DOCKER_BUILDKIT: '1' };
    const methods: { name: string; t: Target; cmd: (cache?: string) => Promise<{ wallMs: number; cpuMs: number }> }[] = [
      ...clis.map((cli, i) => ({
        name: i === 0 ? 'gamelayer (this checkout)' : i === fullPathIndex ? 'gamelayer (this checkout, GAMELAYER_NO_FAST_NOOP=1)' : `gamelayer (${opts.others[i - 1]})`,
        t: ours,
        cmd: (cache = codeCache(i)) =>
          timedCpu(process.execPath, [cli, 'build', '-c', path.join(games[i]!, 'gamelayer.yaml'), '--tag', 'noop', '--push', repositoryOf(i)], {
            GAMELAYER_LINE: 'bench',
            GAMELAYER_CODE_CACHE: cache,
            ...(i === fullPathIndex ? { GAMELAYER_NO_FAST_NOOP: '1' } : {}),
          }),
      })),
      {
        // Not a build: the wall time of any Node command on this machine, however little it does.
        name: "Node's start alone (`node -e 0`): the floor of any Node CLI",
        t: ours,
        cmd: () => timedCpu(process.execPath, ['-e', '0']),
      },
      {
        name: 'BuildKit, seed Dockerfile + `docker push`',
        t: theirs,
        cmd: async () => {
          const b = await timedCpu(DOCKER, ['build', '-q', '-f', path.join(dir, 'seed.Dockerfile'), '-t', ref, dir], dockerEnv);
          const p = await timedCpu(DOCKER, ['push', ref], dockerEnv);
          return { wallMs: b.wallMs + p.wallMs, cpuMs: b.cpuMs + p.cpuMs };
        },
      },
    ];
    // Every CLI's cold build (without a code cache) into its own repository, BuildKit's cold build, then two warm-up
    // no-ops of every method, the second when the first one's cache entries are older than the code cache's SETTLED_MS.
    log('cold builds and warm-up');
    for (const m of methods.slice(0, -1)) await m.cmd('off');
    await methods[methods.length - 1]!.cmd();
    for (const m of methods) await m.cmd();
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    for (const m of methods) await m.cmd();
    for (let r = 0; r < opts.runs; r++) {
      const order = r % 2 === 0 ? methods : [...methods].reverse();
      for (const m of order) {
        const load = loadavg()[0]!;
        const before = m.t.proxy.counts().uploadBytes;
        const { wallMs, cpuMs } = await m.cmd();
        samples.push({ method: m.name, run: r, wallMs, cpuMs, sent: m.t.proxy.counts().uploadBytes - before, load });
      }
      log(`round ${r + 1}/${opts.runs}: ${samples.slice(-methods.length).map((s) => `${s.method.split(' ')[0]} ${(s.wallMs / 1000).toFixed(3)} s`).join(', ')}`);
    }
    const rows = methods.map((m) => {
      const xs = samples.filter((s) => s.method === m.name);
      const wall = xs.map((s) => s.wallMs);
      return `| ${m.name} | ${(median(wall) / 1000).toFixed(3)} s (${(Math.min(...wall) / 1000).toFixed(3)}–${(Math.max(...wall) / 1000).toFixed(3)}) | ${(median(xs.map((s) => s.cpuMs)) / 1000).toFixed(3)} s | ${formatBytes(median(xs.map((s) => s.sent)))} |`;
    });
    const loads = samples.map((s) => s.load);
    const peer = median(samples.filter((s) => s.method === methods[methods.length - 1]!.name).map((s) => s.wallMs));
    const ratios = methods.slice(0, -1).map((m) => `${m.name}: ${(median(samples.filter((s) => s.method === m.name).map((s) => s.wallMs)) / peer).toFixed(2)}×`);
    const floor = median(samples.filter((s) => s.method === methods[methods.length - 2]!.name).map((s) => s.wallMs));
    const overFloor = methods.slice(0, -2).map((m) => `${m.name}: ${((median(samples.filter((s) => s.method === m.name).map((s) => s.wallMs)) - floor) / 1000).toFixed(3)} s`);
    // Each other CLI against this checkout's, round by round (the same minute's load): the median difference.
    const wallOf = (name: string, r: number) => samples.find((s) => s.method === name && s.run === r)!.wallMs;
    const paired = methods.slice(1, -2).map((m) => {
      const diffs = Array.from({ length: opts.runs }, (_, r) => wallOf(methods[0]!.name, r) - wallOf(m.name, r));
      return `this checkout − ${m.name}: median ${median(diffs).toFixed(0)} ms per round, faster in ${diffs.filter((d) => d < 0).length} of ${opts.runs}`;
    });
    process.stdout.write(
      [
        `No-op build + push, ${opts.runs} interleaved rounds${opts.delayMs ? `, each registry answer delayed ${opts.delayMs} ms` : ''}, ${new Date().toISOString().slice(0, 16)}Z, ${machine()}, 1-minute load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
        '',
        '| method | wall, median (min–max) | CPU (user + system), median | sent |',
        '| --- | --- | --- | --- |',
        ...rows,
        '',
        `to BuildKit (medians): ${ratios.join('; ')}`,
        `above Node's start (medians): ${overFloor.join('; ')}`,
        ...(paired.length ? ['', `paired: ${paired.join('; ')}`] : []),
        '',
      ].join('\n'),
    );
    await writeFile(path.join(OUT_DIR, 'peers-noop.json'), `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), size: opts.size, delayMs: opts.delayMs ?? 0, samples }, null, 1)}\n`);
  } finally {
    for (const t of targets) {
      await t.proxy.close();
      await t.registry.stop();
    }
    await dockerd.stop();
  }
}

/** Wall time of a command and its CPU time (user + system, its children included) from /usr/bin/time. */
export async function timedCpu(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ wallMs: number; cpuMs: number }> {
  const out = path.join(OUT_DIR, `time-${process.pid}.txt`);
  const wallMs = await timedRun('/usr/bin/time', ['-f', '%U %S', '-o', out, cmd, ...args], env);
  const [user, sys] = (await readFile(out, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
  return { wallMs, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000 };
}

export function fromMutate(what: string) {
  return (r: Awaited<ReturnType<typeof mutateGame>>): Change => ({ files: r.changes.length, written: r.totals.bytesWritten, what });
}

/** Runs an edit, then gives the edited files an mtime an hour back (as a day's edits would have). */
export async function edit(dir: string, fn: () => Promise<Change>): Promise<Change> {
  const since = Date.now() - 1000;
  const c = await fn();
  await run('find', [...TREE_NAMES.map((t) => path.join(dir, t)), '-newermt', `@${(since / 1000).toFixed(3)}`, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);
  return c;
}

/** The common asset update: 2 % of each of app-media's three biggest files overwritten in place (a pak patcher). */
async function rewriteBigFiles(dir: string, seed: string): Promise<Change> {
  const root = path.join(dir, 'app-media');
  const all: { file: string; size: number }[] = [];
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) all.push({ file: path.join(e.parentPath, e.name), size: (await stat(path.join(e.parentPath, e.name))).size });
  }
  const big = all.sort((a, b) => b.size - a.size || (a.file < b.file ? -1 : 1)).slice(0, 3);
  let written = 0;
  for (const f of big) {
    const part = Math.max(4096, Math.round(f.size * 0.02));
    const offset = Math.floor(f.size / 3);
    const ks = new Keystream(seed, f.file);
    const fh = await open(f.file, 'r+');
    try {
      for (let done = 0; done < part; ) {
        const n = Math.min(1 << 20, part - done);
        await fh.write(ks.next(n), 0, n, offset + done);
        done += n;
      }
    } finally {
      await fh.close();
    }
    written += part;
  }
  return { files: big.length, written, what: `2 % of app-media's ${big.length} biggest files (${formatBytes(big.reduce((n, f) => n + f.size, 0))}) rewritten in place` };
}

/** Files of at most 64 KiB: what mutateGame's small app edits pick from. */
async function countSmallFiles(root: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && (await stat(path.join(e.parentPath, e.name))).size <= 64 * 1024) n++;
  }
  return n;
}

async function treeTotals(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const t of TREE_NAMES) {
    for (const e of await readdir(path.join(dir, t), { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      files++;
      bytes += (await stat(path.join(e.parentPath, e.name))).size;
    }
  }
  return { files, bytes };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}


interface PeersData {
  date: string;
  machine: string;
  cores: number;
  size: number;
  files: number;
  bytes: number;
  runs: number;
  loads: number[];
  samples: PeerSample[];
  totalSeconds: number;
}

export function peersReport(d: PeersData): string {
  const s = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'failed');
  const rows: string[] = [];
  const summary: string[] = [];
  for (const sc of PEER_SCENARIOS) {
    const of = (m: PeerMethod) => d.samples.filter((x) => x.scenario === sc && x.method === m && !x.error);
    const wall = (m: PeerMethod) => (of(m).length ? median(of(m).map((x) => x.wallMs)) : Number.NaN);
    const sent = (m: PeerMethod) => (of(m).length ? median(of(m).map((x) => x.sent)) : Number.NaN);
    const change = d.samples.find((x) => x.scenario === sc)?.change;
    const changeText = change && change.files ? `${change.what}: ${change.files} changed files, ${formatBytes(change.written)} written` : 'no change';
    PEER_METHODS.forEach((m, i) => {
      const xs = of(m);
      const range = xs.length > 1 ? ` (${s(Math.min(...xs.map((x) => x.wallMs)))}–${s(Math.max(...xs.map((x) => x.wallMs)))})` : '';
      rows.push(`| ${i === 0 ? `${sc}: ${changeText}` : ''} | ${LABEL[m]} | ${s(wall(m))}${range} | ${Number.isFinite(sent(m)) ? formatBytes(sent(m)) : ''} |`);
    });
    const peers = PEER_METHODS.filter((m) => m !== 'gamelayer' && Number.isFinite(wall(m)));
    if (!peers.length) continue;
    const fastest = peers.reduce((a, b) => (wall(b) < wall(a) ? b : a));
    const ratio = wall('gamelayer') / wall(fastest);
    summary.push(
      `| ${sc} | ${LABEL[fastest]} | ${s(wall(fastest))} | ${s(wall('gamelayer'))} | **${ratio.toFixed(2)}×** | ${formatBytes(sent(fastest))} | ${formatBytes(sent('gamelayer'))} |`,
    );
  }
  return `
### Peers (issue 17) — gamelayer against BuildKit and buildah, game of ${formatBytes(d.bytes)} in ${d.files.toLocaleString('en-US')} files, ${d.runs} run${d.runs > 1 ? 's' : ''}, medians (min–max)

Measured ${d.date} on ${d.machine}, ${d.cores} cores shared with other work (1-minute load average before each
scenario: ${d.loads.map((l) => l.toFixed(1)).join(', ')}); the whole bench took ${(d.totalSeconds / 60).toFixed(1)} min. Every method in the same run, on the
same game, after the same edit, in alternating order; each pushes to a docker-registry 2.8 of its own behind a
counting proxy ("sent": request bodies that reached the registry). Wall time is the whole command as a user runs
it (process start included; for the Docker paths build, then push). Docker: an engine of the bench's own, Debian's
\`/usr/bin/docker\` 20.10 client with \`DOCKER_BUILDKIT=1\`. \`npm run bench -- peers [--peers-size 200MB] [--runs N] [--change-mb 20]\`.

Fastest peer per scenario, and gamelayer's ratio to it (wall time; below 1: gamelayer is faster):

| scenario | fastest peer | its wall time | gamelayer | gamelayer / fastest peer | peer sent | gamelayer sent |
| --- | --- | --- | --- | --- | --- | --- |
${summary.join('\n')}

Every method:

| scenario | method | wall time | sent to registry |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
}

/**
 * README.md's comparison with the strongest peer: per scenario the fastest other method of the same run (medians),
 * its bytes sent beside gamelayer's, with the run's date, game size and load.
 */
export function readmePeersTable(d: PeersData): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const rows: string[] = [];
  for (const sc of PEER_SCENARIOS) {
    const of = (m: PeerMethod) => d.samples.filter((x) => x.scenario === sc && x.method === m && !x.error);
    const wall = (m: PeerMethod) => (of(m).length ? median(of(m).map((x) => x.wallMs)) : Number.NaN);
    const sent = (m: PeerMethod) => median(of(m).map((x) => x.sent));
    const peers = PEER_METHODS.filter((m) => m !== 'gamelayer' && Number.isFinite(wall(m)));
    if (!peers.length || !Number.isFinite(wall('gamelayer'))) continue;
    const fastest = peers.reduce((a, b) => (wall(b) < wall(a) ? b : a));
    const change = d.samples.find((x) => x.scenario === sc)?.change;
    const what = change && change.files ? `${change.what} (${change.files} files, ${formatBytes(change.written)} written)` : sc === 'cold' ? 'cold (empty registry, empty caches)' : 'no-op rebuild';
    rows.push(
      `| ${what} | ${LABEL[fastest]}: ${s(wall(fastest))}, ${formatBytes(sent(fastest))} sent | ${s(wall('gamelayer'))}, ${formatBytes(sent('gamelayer'))} sent | ${(wall('gamelayer') / wall(fastest)).toFixed(2)}× |`,
    );
  }
  const load = `${Math.min(...d.loads).toFixed(1)}–${Math.max(...d.loads).toFixed(1)}`;
  return `Against the strongest peer, measured by \`npm run bench -- peers\` on ${d.date}: every method in the same run, on a
generated game of ${formatBytes(d.bytes)} in ${d.files.toLocaleString('en-US')} files, ${d.runs} run${d.runs > 1 ? 's' : ''} (medians), ${d.cores} cores shared with other work (1-minute load
average ${load}: read the ratios, every method measured side by side, rather than the seconds). Peers: docker BuildKit (Debian's
20.10 client, \`DOCKER_BUILDKIT=1\`) with the seed's Dockerfile (one COPY per tree) and with gamelayer's emitted
Dockerfile, and buildah (\`bud --layers\`); each row names the fastest of them in that scenario. Whole commands as a
user runs them, process start included; bytes counted at the registry.

| scenario | fastest peer (+ push) | gamelayer \`build --push\` | gamelayer / peer |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
}
