// Long-run benchmark ("an update every day for years"): a small generated game gets the steady bench's daily edits
// (bench/steady.ts dailyUpdate, plus an engine upgrade every 90 days) for N days; each day the CLI runs
// `build --push` in a child process on the same persistent host (one `.gamelayer/`, one code cache), and after each
// day the bench samples what could grow with the number of builds: every folder of `.gamelayer/` (bytes and files),
// the local OCI store, the build record, the registry's storage, the CLI's code cache, and the build's wall time,
// CPU and peak RSS. Every `gcEvery` days `gamelayer gc --keep 3 --apply` and `gamelayer prune REPO --keep 5 --apply`
// run (and the registry's own garbage collection after prune), so what gc bounds shows as a saw-tooth and what it
// does not as a slope.
//   npm run bench -- long-run [--days 365] [--long-size 250MB] [--gc-every 30] [--chunk app-media]
// (--chunk: files of 1 MiB and more chunked at 64 KiB, so that a small game has chunked files)
import { spawn } from 'node:child_process';
import { cp, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { generateGame } from '../fixtures/generator/generate.js';
import { mutateGame } from '../fixtures/generator/mutate.js';
import { formatBytes } from '../src/report/reporter.js';
import { TREE_NAMES, type TreeName } from '../src/types.js';
import { startRegistry } from '../test/support/registry.js';
import { ageSince } from './compare.js';
import { BENCH_DIR, OUT_DIR, machine, writeReportSection } from './lib.js';
import { dailyUpdate } from './steady.js';

export interface LongRunOptions {
  days: number;
  size: number;
  seed: string;
  gcEvery: number;
  chunk?: TreeName[];
  /** The JSON file the samples go to (rewritten after every day, so an interrupted run keeps its days). */
  out?: string;
}

export interface DirSize {
  bytes: number;
  files: number;
}

export interface LongRunDay {
  day: number;
  /** The game's four trees: what the state could reasonably track. */
  game: DirSize;
  /** The build's child process: wall time, user + system CPU, peak RSS. */
  wallMs: number;
  cpuMs: number;
  maxRssKiB: number;
  /** `.gamelayer/` per folder (cache/* one level down; oci is the store), and the whole of it. */
  state: Record<string, DirSize>;
  stateTotal: DirSize;
  /** `.gamelayer/records/build-last.json`. */
  recordBytes: number;
  registry: DirSize;
  codeCache: DirSize;
  /** Set on the days gc and prune ran (after the day's build): the state and store after them. */
  afterGc?: { state: Record<string, DirSize>; stateTotal: DirSize; registry: DirSize };
}

export interface LongRunData {
  date: string;
  machine: string;
  options: LongRunOptions;
  gameBytes: number;
  days: LongRunDay[];
  totalSeconds: number;
}

const REPO = 'long/game';
const BIN = path.join(BENCH_DIR, '..', 'bin', 'gamelayer.js');

/** Bytes (allocated as apparent size) and regular files under `dir`; zero for a missing folder. */
export async function dirSize(dir: string): Promise<DirSize> {
  const out = { bytes: 0, files: 0 };
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        out.files++;
        out.bytes += (await lstat(p).catch(() => ({ size: 0 }))).size;
      }
    }
  };
  await walk(dir);
  return out;
}

/** `.gamelayer/`'s folders: top-level ones, and cache/'s subfolders one by one. */
async function stateSizes(stateDir: string): Promise<{ state: Record<string, DirSize>; stateTotal: DirSize }> {
  const state: Record<string, DirSize> = {};
  for (const e of await readdir(stateDir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory() && e.name === 'cache') {
      for (const c of await readdir(path.join(stateDir, 'cache'), { withFileTypes: true })) {
        state[`cache/${c.name}`] = c.isDirectory() ? await dirSize(path.join(stateDir, 'cache', c.name)) : { bytes: (await stat(path.join(stateDir, 'cache', c.name))).size, files: 1 };
      }
    } else if (e.isDirectory()) state[e.name] = await dirSize(path.join(stateDir, e.name));
    else if (e.isFile()) state[e.name] = { bytes: (await stat(path.join(stateDir, e.name))).size, files: 1 };
  }
  return { state, stateTotal: await dirSize(stateDir) };
}

async function run(cmd: string, args: string[]): Promise<void> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`);
}

/** Runs the CLI under /usr/bin/time; returns its wall time, CPU and peak RSS. */
async function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ wallMs: number; cpuMs: number; maxRssKiB: number; stdout: string }> {
  const t0 = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-f', '@@time %U %S %M', process.execPath, BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const line = stderr.split('\n').find((l) => l.startsWith('@@time ')) ?? '';
  if (code !== 0) throw new Error(`gamelayer ${args.join(' ')} exited ${code}:\n${stderr.slice(-4000)}`);
  const [u, s, rss] = line.slice(7).split(' ').map(Number);
  return { wallMs, cpuMs: ((u ?? 0) + (s ?? 0)) * 1000, maxRssKiB: rss ?? 0, stdout };
}

export async function longRunBench(opts: LongRunOptions): Promise<LongRunData> {
  const started = Date.now();
  const log = (m: string) => process.stderr.write(`long-run [${((Date.now() - started) / 60_000).toFixed(1)} min]: ${m}\n`);
  const pristine = path.join(OUT_DIR, `long-game-${opts.size}`);
  if (!(await stat(path.join(pristine, 'gamelayer.yaml')).then(() => true, () => false))) {
    log(`generating ${formatBytes(opts.size)} into ${pristine}`);
    await rm(pristine, { recursive: true, force: true });
    await generateGame({ out: pristine, size: opts.size, seed: 'bench-long', game: 'long-game' });
  }
  const dir = path.join(OUT_DIR, `${reportName(opts)}-work-${opts.size}`);
  await rm(dir, { recursive: true, force: true });
  await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
  await ageSince(dir, 0);
  if (opts.chunk?.length) {
    const file = path.join(dir, 'gamelayer.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    for (const t of opts.chunk) doc.setIn(['trees', t, 'chunks'], { minFileSize: 1024 ** 2, avgChunkSize: 64 * 1024 });
    await writeFile(file, doc.toString());
  }
  // The CLI's code cache of this run only, so that its size is this host's.
  const codeCacheHome = path.join(OUT_DIR, `${reportName(opts)}-xdg-cache`);
  await rm(codeCacheHome, { recursive: true, force: true });
  await mkdir(codeCacheHome, { recursive: true });
  const env = { XDG_CACHE_HOME: codeCacheHome, GAMELAYER_LINE: 'main' };
  const registry = await startRegistry();
  const repository = `${registry.host}/${REPO}`;
  const stateDir = path.join(dir, '.gamelayer');
  const out = opts.out ?? path.join(OUT_DIR, `${reportName(opts)}.json`);
  const data: LongRunData = { date: new Date().toISOString().slice(0, 10), machine: machine(), options: opts, gameBytes: (await dirSize(dir)).bytes, days: [], totalSeconds: 0 };
  try {
    for (let day = 0; day <= opts.days; day++) {
      const since = Date.now() - 1000;
      if (day > 0) {
        // dailyUpdate's own engine upgrade falls on day 0.6 × updates: never, with updates this large.
        await dailyUpdate(dir, day, { size: opts.size, updates: Number.MAX_SAFE_INTEGER, seed: opts.seed });
        if (day % 90 === 45) await mutateGame({ dir, seed: `${opts.seed}/engine${day}`, engineUpgrade: true });
      }
      await ageSince(dir, since);
      const tag = `day${String(day).padStart(4, '0')}`;
      const b = await cli(['build', '--tag', tag, '--push', repository], dir, env);
      const record = await stat(path.join(stateDir, 'records', 'build-last.json')).then((s) => s.size, () => 0);
      const trees = await Promise.all(TREE_NAMES.map((t) => dirSize(path.join(dir, t))));
      const d: LongRunDay = {
        day,
        game: { bytes: trees.reduce((n, t) => n + t.bytes, 0), files: trees.reduce((n, t) => n + t.files, 0) },
        wallMs: Math.round(b.wallMs),
        cpuMs: Math.round(b.cpuMs),
        maxRssKiB: b.maxRssKiB,
        ...(await stateSizes(stateDir)),
        recordBytes: record,
        registry: await dirSize(registry.storageDir),
        codeCache: await dirSize(codeCacheHome),
      };
      if (opts.gcEvery > 0 && day > 0 && day % opts.gcEvery === 0) {
        await cli(['gc', '--keep', '3', '--apply'], dir, env);
        await cli(['prune', repository, '--keep', '5', '--apply'], dir, env);
        // prune deletes manifests; the registry frees their blobs in its own garbage collection (distribution's
        // offline `garbage-collect`, ECR's lifecycle expiry): run here between builds, as an operator would schedule it.
        await run('docker-registry', ['garbage-collect', path.join(path.dirname(registry.storageDir), 'config.yml')]);
        d.afterGc = { ...(await stateSizes(stateDir)), registry: await dirSize(registry.storageDir) };
      }
      data.days.push(d);
      data.totalSeconds = (Date.now() - started) / 1000;
      await writeFile(out, `${JSON.stringify(data)}\n`);
      log(
        `day ${day}: ${(b.wallMs / 1000).toFixed(1)} s, cpu ${(b.cpuMs / 1000).toFixed(1)} s, rss ${(b.maxRssKiB / 1024).toFixed(0)} MiB; ` +
          `.gamelayer ${formatBytes(d.stateTotal.bytes)} / ${d.stateTotal.files} files (oci ${formatBytes(d.state.oci?.bytes ?? 0)}), record ${formatBytes(record)}, ` +
          `registry ${formatBytes(d.registry.bytes)}${d.afterGc ? `; after gc .gamelayer ${formatBytes(d.afterGc.stateTotal.bytes)} / ${d.afterGc.stateTotal.files} files` : ''}`,
      );
    }
  } finally {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  }
  await writeFile(path.join(BENCH_DIR, `${reportName(opts)}.json`), `${JSON.stringify(data)}\n`);
  await writeLongRunReport(data);
  return data;
}

/** The data file and README section of a run: a run with chunked trees keeps its own. */
function reportName(opts: Pick<LongRunOptions, 'chunk'>): string {
  return opts.chunk?.length ? 'long-run-chunked' : 'long-run';
}

/** Figures at day 0, 30, 60, …: the README section (from bench/<name>.json when no data is given). */
export async function writeLongRunReport(given?: LongRunData, name = 'long-run'): Promise<void> {
  const data = given ?? (JSON.parse(await readFile(path.join(BENCH_DIR, `${name}.json`), 'utf8')) as LongRunData);
  const cols = [...new Set(data.days.flatMap((d) => Object.keys(d.state)))].sort();
  const pick = data.days.filter((d) => d.day % 30 === 0 || d.day === data.days.at(-1)!.day);
  const mb = (n: number) => (n / 1e6).toFixed(n < 1e7 ? 2 : 0);
  const rows = pick.map((d) => {
    const s = d.afterGc ?? d;
    const cells = cols.map((c) => (s.state[c] ? `${mb(s.state[c]!.bytes)} / ${s.state[c]!.files}` : '–'));
    const window = data.days.filter((x) => x.day > d.day - 30 && x.day <= d.day && x.day > 0);
    const avg = (f: (x: LongRunDay) => number) => (window.length ? window.reduce((n, x) => n + f(x), 0) / window.length : f(d));
    const maxRss = Math.max(...(window.length ? window : [d]).map((x) => x.maxRssKiB));
    return `| ${d.day} | ${d.game ? `${mb(d.game.bytes)} / ${d.game.files}` : '–'} | ${(avg((x) => x.wallMs) / 1000).toFixed(1)} | ${(avg((x) => x.cpuMs) / 1000).toFixed(1)} | ${(maxRss / 1024).toFixed(0)} | ${mb(d.recordBytes)} | ${cells.join(' | ')} | ${mb(s.registry.bytes)} | ${mb(d.codeCache.bytes)} |`;
  });
  const md = [
    `### Long run — ${data.days.length - 1} daily builds of a ${formatBytes(data.gameBytes)} game on one host`,
    '',
    `${data.date}, ${data.machine}; a ${formatBytes(data.gameBytes)} game, ${data.days.length - 1} daily updates (the steady bench's mix, an engine upgrade every 90 days)` +
      `${data.options.chunk?.length ? `, ${data.options.chunk.join(', ')} chunked` : ''}, \`build --push\` each day on one persistent host; ` +
      `\`gc --keep 3 --apply\`, \`prune --keep 5 --apply\` and the registry's \`garbage-collect\` every ${data.options.gcEvery} days (sizes on those days are after them). ${(data.totalSeconds / 60).toFixed(0)} min in all.`,
    '',
    'Per row: build wall time, CPU (user + sys) and peak RSS averaged (RSS: the maximum) over the 30 days up to that day; sizes in MB / files.',
    '',
    `| day | game MB / files | wall s | CPU s | peak RSS MiB | record MB | ${cols.map((c) => `${c} MB / files`).join(' | ')} | registry MB | code cache MB |`,
    `| ---: | ---: | ---: | ---: | ---: | ---: | ${cols.map(() => '---:').join(' | ')} | ---: | ---: |`,
    ...rows,
  ].join('\n');
  await writeReportSection(reportName(data.options), md);
}
