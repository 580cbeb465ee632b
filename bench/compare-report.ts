// The compare bench's report: from the figures in bench/compare.json to the `compare` section of bench/README.md
// and the chart bench/compare.svg. Every sentence about a target is computed from the figures of the run.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes } from '../src/report/reporter.js';
import { BENCH_DIR, median, writeReportSection } from './lib.js';
import { hostTable } from './fresh-host.js';
import { chartSvg, type ChartSeries, type Panel, type Point } from './svg-chart.js';

/**
 * `default`: what `npm run bench -- compare` runs, under 20 minutes on a 2-core machine: the scenarios with medians
 * on a 1 GB game, the seed's 3.1 GB game as a point of the size curve. `full`: the scenarios with medians on the
 * seed's 3.1 GB game itself (about 40 minutes here, most of it the docker path).
 */
export type Preset = 'default' | 'full';

export interface CompareOptions {
  /** Game sizes of the size curve (bytes). */
  sizes: number[];
  /** The size every scenario and the change curve run at; one of `sizes`. */
  main: number;
  /** The change of the main scenario (MB of app-media). */
  changeMb: number;
  /** Change sizes of the change curve (MB). */
  changesMb: number[];
  /** The game size the change curve runs on (default: main): a 500 MB change needs a game whose app-media is larger. */
  changesAt?: number;
  smallFiles: number;
  /** Runs of every scenario at the main size. */
  runs: number;
  /** Runs of each point of the curves (other game sizes, other change sizes). */
  curveRuns: number;
}

const SEED_SIZE = 3.1e9;
export const PRESETS: Record<Preset, CompareOptions> = {
  default: { sizes: [0.5e9, 1e9], main: 0.5e9, changeMb: 50, changesMb: [1, 50, 500], changesAt: 1e9, smallFiles: 200, runs: 3, curveRuns: 1 },
  full: { sizes: [0.5e9, 1e9, SEED_SIZE], main: SEED_SIZE, changeMb: 50, changesMb: [1, 50, 500], smallFiles: 200, runs: 3, curveRuns: 1 },
};

/** Where a preset's figures, chart and README section go (the two presets' reports live side by side). */
export function presetFiles(preset: Preset): { json: string; svg: string; section: string } {
  const name = preset === 'default' ? 'compare' : 'compare-full';
  return { json: path.join(BENCH_DIR, `${name}.json`), svg: path.join(BENCH_DIR, `${name}.svg`), section: name };
}

export type Method = 'docker' | 'gamelayer';
export type Scenario = 'cold' | 'noop' | 'change' | 'engine' | 'small';
export type Series = 'main' | 'change-curve' | 'size-curve';

export interface Sample {
  series: Series;
  scenario: Scenario;
  changeMb?: number;
  gameSize: number;
  run: number;
  method: Method;
  tag: string;
  wallMs: number;
  /** Client process, plus the Docker engine's (dockerd and containerd) for docker. */
  cpuMs: number;
  clientCpuMs: number;
  daemonCpuMs?: number;
  /** Peak RSS of the client process (gamelayer, or the node process driving docker). */
  peakRssMiB: number;
  /** Docker engine: highest resident memory seen (sampled every 250 ms) minus before the build. */
  daemonRssGrowthMiB?: number;
  /** Request bodies of PATCH/PUT/POST to /v2/ as the registry's proxy counted them. */
  uploadBytes: number;
  manifestBytes: number;
  uploadRequests: number;
  /** Growth of the registry's blob storage. */
  storageGrowth: number;
  /** Compressed bytes a node that runs the previous image(s) pulls to run these. */
  pullServer: number;
  pullPod?: number;
  /** Compressed size of the server image's layers. */
  imageBytes: number;
  changedBytes: number;
  changedCompressed: number;
  /** Answers to GET /v2/ as the registry's proxy counted them (manifests, records, blobs). */
  downloadBytes?: number;
  worker: Record<string, unknown>;
}

export interface CompareData {
  /** The preset the run was asked for (flags may have changed its options: then the report says so). */
  preset: Preset;
  date: string;
  machine: string;
  cores: number;
  dockerVersion: string;
  options: CompareOptions;
  games: { size: number; files: number; bytes: number }[];
  /** Game sizes not measured, and why (not enough disk). */
  skipped: { size: number; why: string }[];
  /** Small app files edited in the small scenario (fewer than asked when the app tree has fewer). */
  smallFiles?: number;
  /** The single-core compression limit: deflate of `bytes`, an even sample of the game's `sampledOf` bytes. */
  baseline?: { bytes: number; compressed: number; cpuMs: number; ms: number; sampledOf?: number };
  samples: Sample[];
  /**
   * The main change built again on a fresh host (no .gamelayer/), planned on the previous build's record in a
   * registry of its own holding that build, as a new CodeBuild host would: one per run, beside the warm sample.
   */
  fresh?: FreshSample[];
  totalSeconds: number;
}

export interface FreshSample {
  run: number;
  gameSize: number;
  wallMs: number;
  uploadBytes: number;
  downloadBytes: number;
  built: number;
  /** The fresh host's scan phase (every file hashed: no stat cache). */
  scanMs: number;
  changedCompressed: number;
  /** The fresh host built the same image digests as the warm one. */
  sameImages: boolean;
  plannedOn: string;
}

/** True when the run's options fall short of its preset's (fewer runs, another main size, missing sizes). */
function reducedFrom(data: CompareData): boolean {
  const o = data.options;
  const p = PRESETS[data.preset];
  return (
    o.runs < p.runs ||
    o.main !== p.main ||
    changeCurveSize(o) !== changeCurveSize(p) ||
    p.sizes.some((s) => !o.sizes.includes(s)) ||
    p.changesMb.some((c) => !o.changesMb.includes(c))
  );
}

interface Stat {
  med: number;
  min: number;
  max: number;
  n: number;
}

function stat(xs: number[]): Stat {
  if (xs.length === 0) return { med: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return { med: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

const secs = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s` : '–');
const bytes = (n: number) => (Number.isFinite(n) ? formatBytes(Math.round(n)) : '–');
const gb = (n: number) => `${Number((n / 1e9).toPrecision(3))} GB`;
const ratio = (r: number) => (!Number.isFinite(r) ? '–' : r >= 10 ? `${r.toFixed(0)}×` : `${r.toFixed(r >= 1 ? 1 : 2)}×`);
const range = (s: Stat, f: (v: number) => string) => (s.n > 1 ? `${f(s.med)} (${f(s.min)}–${f(s.max)})` : f(s.med));

/** The game size the change curve ran on. */
export const changeCurveSize = (o: CompareOptions): number => o.changesAt ?? o.main;

/** The samples of a change-curve point: the main change where it ran on the curve's game, else the curve's own. */
export function changePoint(data: CompareData, mb: number, m: Method): Sample[] {
  const o = data.options;
  const at = changeCurveSize(o);
  if (mb !== o.changeMb) return select(data, { series: 'change-curve', changeMb: mb, method: m });
  return at === o.main
    ? select(data, { series: 'main', scenario: 'change', method: m })
    : select(data, { series: 'size-curve', gameSize: at, scenario: 'change', method: m });
}

export function select(data: CompareData, q: Partial<Pick<Sample, 'series' | 'scenario' | 'method' | 'gameSize' | 'changeMb'>>): Sample[] {
  return data.samples.filter((s) => Object.entries(q).every(([k, v]) => v === undefined || s[k as keyof Sample] === v));
}

const SCENARIO_LABEL: Record<Scenario, string> = {
  cold: 'cold (empty registry, empty caches)',
  noop: 'no-op rebuild',
  change: 'app-media change',
  engine: 'engine upgrade',
  small: 'small app edits',
};

function scenarioLabel(data: CompareData, sc: Scenario, samples: Sample[]): string {
  const changed = stat(samples.map((s) => s.changedBytes));
  const comp = stat(samples.map((s) => s.changedCompressed));
  if (sc === 'change') return `${data.options.changeMb} MB app-media change (${bytes(changed.med)} changed, ${bytes(comp.med)} compressed)`;
  if (sc === 'engine') return `engine upgrade (${bytes(changed.med)} changed, ${bytes(comp.med)} compressed)`;
  if (sc === 'small') return `${data.smallFiles ?? data.options.smallFiles} small app files edited (${bytes(comp.med)} of changed files, compressed)`;
  return SCENARIO_LABEL[sc];
}

function phaseMs(s: Sample, name: string): number {
  const p = (s.worker.phases ?? {}) as Record<string, number>;
  return p[name] ?? Number.NaN;
}

export function compareMarkdown(data: CompareData): string {
  const o = data.options;
  const main = (sc: Scenario, m: Method) => select(data, { series: 'main', scenario: sc, method: m });
  const med = (xs: Sample[], f: (s: Sample) => number) => stat(xs.map(f)).med;
  const game = data.games.find((g) => g.size === o.main);
  const smoke = reducedFrom(data);
  const lines: string[] = [];
  lines.push(
    `### Compare (issue 8${data.preset === 'full' ? ', `--full`' : ''}) — gamelayer against \`docker build && docker push\`, game of ${game ? `${bytes(game.bytes)} in ${game.files.toLocaleString('en-US')} files` : gb(o.main)}, ${o.runs} run${o.runs > 1 ? 's' : ''} (curves: ${o.curveRuns}), medians (min–max)`,
    '',
  );
  if (smoke) {
    lines.push(
      `**Smoke run at reduced settings (game sizes ${o.sizes.map(gb).join(', ')}, scenarios at ${gb(o.main)}, ${o.runs} run${o.runs > 1 ? 's' : ''}): it shows the harness works, its figures are not the benchmark's.** The benchmark's figures come from the commands below on a quiet machine.`,
      '',
    );
  }
  lines.push(
    `Measured ${data.date} on ${data.machine}, ${data.cores} cores; the whole bench took ${(data.totalSeconds / 60).toFixed(1)} min. ` +
      `Docker ${data.dockerVersion} (an engine started by the bench for itself, with its own data root, so its CPU and memory are the docker path's alone; the emitted Dockerfile in its \`--docker-compat\` variant built by the legacy builder through \`buildWithDocker\`, server image only, then \`docker push\`) ` +
      `against gamelayer's daemonless build and push of the server image and the four tree images. Each method pushes to its own docker-registry 2.8 on loopback behind a counting proxy: ` +
      `"sent" is the request bodies of PATCH/PUT/POST to /v2/ that reached the registry. Base image \`scratch\`; the game was read just before each run, but this VM's page cache does not keep all of it, so reads are partly from disk; the scenarios run in sequence on one game, both methods after each edit, alternating which goes first.`,
    '',
    'Run it as root (it starts its own Docker engine) on a quiet machine, with about 25 GB of free disk; the generated games are kept in `bench/out/` and reused (generating them is not part of the figures, but is part of the whole run time above when `bench/out/` is empty):',
    '',
    '```sh',
    'npm run bench -- compare                  # under 20 min: scenarios on a 0.5 GB game, 3 runs; a 1 GB game (cold, then changes of 50, 1 and 500 MB), 1 run per point',
    'npm run bench -- compare --full           # the seed\'s case: scenarios on a 3.1 GB game, 3 runs; games of 0.5 and 1 GB; changes of 1 and 500 MB on the 3.1 GB game (about 40 min): the section "compare-full"',
    'npm run bench -- compare --compare-large  # adds a 10 GB game to the size curve (about 80 GB of free disk)',
    'npm run bench -- compare-report           # re-renders both sections and charts from bench/compare.json and bench/compare-full.json',
    '```',
    '',
    'Other flags: `--runs N` (scenarios), `--curve-runs N`, `--compare-sizes 0.5GB,1GB,3.1GB`, `--compare-main SIZE`, `--change-mb 50`, `--compare-changes 1,50,500`, `--compare-small-files 200`.',
    '',
  );

  // Scenario table.
  lines.push('| scenario | method | wall time | CPU time | peak RSS | sent to registry | pull: server image | pull: pod (4 tree images) |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const scenarios: Scenario[] = ['cold', 'noop', 'change', 'engine', 'small'];
  for (const sc of scenarios) {
    for (const m of ['docker', 'gamelayer'] as Method[]) {
      const xs = main(sc, m);
      if (!xs.length) continue;
      const cpu =
        m === 'docker'
          ? `${secs(med(xs, (s) => s.cpuMs))} (client ${secs(med(xs, (s) => s.clientCpuMs))} + engine ${secs(med(xs, (s) => s.daemonCpuMs ?? 0))})`
          : secs(med(xs, (s) => s.cpuMs));
      const rss =
        m === 'docker'
          ? `client ${Math.max(...xs.map((s) => s.peakRssMiB)).toFixed(0)} MiB; engine +${Math.max(...xs.map((s) => s.daemonRssGrowthMiB ?? 0)).toFixed(0)} MiB`
          : `${Math.max(...xs.map((s) => s.peakRssMiB)).toFixed(0)} MiB`;
      lines.push(
        `| ${m === 'docker' ? scenarioLabel(data, sc, xs) : ''} | ${m} | ${range(stat(xs.map((s) => s.wallMs)), secs)} | ${cpu} | ${rss} | ${range(stat(xs.map((s) => s.uploadBytes)), bytes)} | ${bytes(med(xs, (s) => s.pullServer))} | ${m === 'gamelayer' ? bytes(med(xs, (s) => s.pullPod ?? Number.NaN)) : ''} |`,
      );
    }
  }
  lines.push('');
  lines.push('Ratios gamelayer / docker (medians; below 1 means gamelayer costs less):', '');
  lines.push('| scenario | wall time | CPU time | sent to registry | pull: server image |');
  lines.push('| --- | --- | --- | --- | --- |');
  for (const sc of scenarios) {
    const d = main(sc, 'docker');
    const g = main(sc, 'gamelayer');
    if (!d.length || !g.length) continue;
    const r = (f: (s: Sample) => number) => {
      const a = med(g, f);
      const b = med(d, f);
      return b > 0 ? ratio(a / b) : a === 0 ? '0 / 0' : '–';
    };
    lines.push(`| ${SCENARIO_LABEL[sc]} | ${r((s) => s.wallMs)} | ${r((s) => s.cpuMs)} | ${r((s) => s.uploadBytes)} | ${r((s) => s.pullServer)} |`);
  }
  lines.push('');

  lines.push(...freshHostText(data));
  lines.push(...seedCaseText(data));

  // Where the time goes, for the main change.
  const gc = main('change', 'gamelayer');
  const dc = main('change', 'docker');
  if (gc.length && dc.length) {
    const p = (xs: Sample[], n: string) => secs(med(xs, (s) => phaseMs(s, n)));
    lines.push(
      `Where the time goes in the ${o.changeMb} MB change (medians, from the tools' own progress tasks):`,
      '',
      `- gamelayer ${secs(med(gc, (s) => s.wallMs))}: scan (walk, stat, xxh64 of what the stat cache misses) ${p(gc, 'scan')}, of which hashing ${p(gc, 'hash')}; ` +
        `layers (tar, gzip, write to the store) ${p(gc, 'layers')}; images and build record ${p(gc, 'images')}; push ${p(gc, 'push')}, of which blob uploads ${p(gc, 'upload')}. ` +
        `Tar and gzip run in one stream per layer and are not timed apart.`,
      `- docker ${secs(med(dc, (s) => s.wallMs))}: scan and context plan ${p(dc, 'scan')}; docker build (the whole context streamed to the daemon, which hashes it for its cache, copies the changed stages and commits layers) ${p(dc, 'build')}; ` +
        `docker push (the daemon tars and gzips each new layer while uploading it) ${p(dc, 'push')}.`,
      '',
    );
  }

  // Scaling.
  const sizes = [...o.sizes].sort((a, b) => a - b);
  const atSize = (size: number, sc: Scenario, m: Method) =>
    select(data, { gameSize: size, scenario: sc, method: m }).filter((s) => s.series === (size === o.main ? 'main' : 'size-curve'));
  lines.push(`As the game grows (${o.changeMb} MB app-media change after a cold build; sent = bytes that reached the registry):`, '');
  for (const k of data.skipped ?? []) lines.push(`The game of ${gb(k.size)} was skipped: ${k.why}.`, '');
  lines.push('| game | docker cold | gamelayer cold | docker change | gamelayer change | change: wall ratio | change sent: docker | change sent: gamelayer |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const size of sizes) {
    const w = (sc: Scenario, m: Method) => med(atSize(size, sc, m), (s) => s.wallMs);
    const sent = (m: Method) => med(atSize(size, 'change', m), (s) => s.uploadBytes);
    lines.push(
      `| ${gb(size)} | ${secs(w('cold', 'docker'))} | ${secs(w('cold', 'gamelayer'))} | ${secs(w('change', 'docker'))} | ${secs(w('change', 'gamelayer'))} | ${ratio(w('change', 'gamelayer') / w('change', 'docker'))} | ${bytes(sent('docker'))} | ${bytes(sent('gamelayer'))} |`,
    );
  }
  lines.push('');
  const changes = [...new Set([o.changeMb, ...o.changesMb])].sort((a, b) => a - b);
  const atChange = (mb: number, m: Method) => changePoint(data, mb, m);
  lines.push(`As the change grows (game of ${gb(changeCurveSize(o))}; each change on top of the previous ones):`, '');
  lines.push('| change | changed files, compressed | docker wall | gamelayer wall | wall ratio | sent: docker | sent: gamelayer | gamelayer sent / changed compressed |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const mb of changes) {
    const d = atChange(mb, 'docker');
    const g = atChange(mb, 'gamelayer');
    if (!d.length && !g.length) {
      lines.push(`| ${mb} MB | skipped: more than all of app-media | | | | | | |`);
      continue;
    }
    const comp = med(g, (s) => s.changedCompressed);
    lines.push(
      `| ${mb} MB | ${bytes(comp)} | ${secs(med(d, (s) => s.wallMs))} | ${secs(med(g, (s) => s.wallMs))} | ${ratio(med(g, (s) => s.wallMs) / med(d, (s) => s.wallMs))} | ${bytes(med(d, (s) => s.uploadBytes))} | ${bytes(med(g, (s) => s.uploadBytes))} | ${ratio(med(g, (s) => s.uploadBytes / s.changedCompressed))} |`,
    );
  }
  lines.push('', '![Wall time and bytes sent, gamelayer against docker build && docker push, as the game and the change grow](compare.svg)', '');

  lines.push(...targetsText(data));
  return lines.join('\n');
}

/**
 * The seed's own case (a 50 MB app-media change on a 3.1 GB game) when the scenarios ran at another size: its
 * figures from the size curve, with the two targets that are about it.
 */
function seedCaseText(data: CompareData): string[] {
  const o = data.options;
  if (o.main === SEED_SIZE) return [];
  const at = (m: Method) => select(data, { series: 'size-curve', gameSize: SEED_SIZE, scenario: 'change', method: m });
  const d = at('docker');
  const g = at('gamelayer');
  if (!d.length || !g.length) return [];
  const med = (xs: Sample[], f: (s: Sample) => number) => stat(xs.map(f)).med;
  const dw = med(d, (s) => s.wallMs);
  const gw = med(g, (s) => s.wallMs);
  const r = med(g, (s) => s.uploadBytes / s.changedCompressed);
  return [
    `The seed's case, a ${o.changeMb} MB app-media change on the ${gb(SEED_SIZE)} game (${g.length} run${g.length > 1 ? 's' : ''}, after a cold build; \`--full\` runs every scenario there with medians): ` +
      `docker ${secs(dw)} and ${bytes(med(d, (s) => s.uploadBytes))} sent; gamelayer ${secs(gw)} and ${bytes(med(g, (s) => s.uploadBytes))} sent ` +
      `for ${bytes(med(g, (s) => s.changedCompressed))} of changed files compressed (${r.toFixed(2)}×, target ≤ 1.2×): ${(dw / gw).toFixed(1)}× less wall time (target ≥ 20×).`,
    '',
  ];
}

/** The targets, each with the figure against it and, where it falls short, what the figures say about why. */
function targetsText(data: CompareData): string[] {
  const o = data.options;
  const main = (sc: Scenario, m: Method) => select(data, { series: 'main', scenario: sc, method: m });
  const med = (xs: Sample[], f: (s: Sample) => number) => stat(xs.map(f)).med;
  const out: string[] = ['Targets (reported, not asserted):', ''];
  const gc = main('change', 'gamelayer');
  const dc = main('change', 'docker');

  // 1. Bytes sent for the main change.
  if (gc.length) {
    const sent = med(gc, (s) => s.uploadBytes);
    const comp = med(gc, (s) => s.changedCompressed);
    const r = med(gc, (s) => s.uploadBytes / s.changedCompressed);
    const manifests = med(gc, (s) => s.manifestBytes);
    let line = `- **Bytes sent ≤ 1.2 × the changed bytes, compressed (${o.changeMb} MB change, ${gb(o.main)} game): ${r <= 1.2 ? 'met' : 'not met'}** — ${bytes(sent)} sent for ${bytes(comp)} of changed files compressed, ${r.toFixed(2)}×.`;
    if (r > 1.2) {
      const rebased = rebasedText(gc);
      line += ` The excess is ${bytes(sent - comp)}, of which manifests ${bytes(manifests)}`;
      line += rebased
        ? `; the build rebased ${rebased}, which re-sends the tree's layers whole. Keeping patch layers longer (a higher rebase threshold, or rebasing off the update path) would close it.`
        : `; the rest is layer data beyond the changed files' compressed size (tar headers, whiteouts, and gzip in 1 MiB blocks against a whole-file deflate).`;
    }
    out.push(line);
  }

  // 2. Wall time against docker for the main change.
  if (gc.length && dc.length) {
    const gw = med(gc, (s) => s.wallMs);
    const dw = med(dc, (s) => s.wallMs);
    let line = `- **≥ 20× less wall time than the docker path (${o.changeMb} MB change, ${gb(o.main)} game): ${dw / gw >= 20 ? 'met' : 'not met'}** — docker ${secs(dw)}, gamelayer ${secs(gw)}: ${(dw / gw).toFixed(1)}× less.`;
    if (dw / gw < 20) {
      line += ` ${largestPhase(gc, gw)}`;
      // The docker path's time grows with the game, gamelayer's with the change: say what the larger games showed.
      const larger = o.sizes
        .filter((size) => size > o.main)
        .map((size) => {
          const at = (m: Method) => med(select(data, { series: 'size-curve', gameSize: size, scenario: 'change', method: m }), (s) => s.wallMs);
          return { size, r: at('docker') / at('gamelayer') };
        })
        .filter((x) => Number.isFinite(x.r));
      if (larger.length) line += ` On the larger games of the size curve (1 run each): ${larger.map((x) => `${gb(x.size)} ${x.r.toFixed(1)}× less`).join(', ')}.`;
    }
    out.push(line);
  }

  // 3. No-op.
  const gn = main('noop', 'gamelayer');
  if (gn.length) {
    const w = med(gn, (s) => s.wallMs);
    let line = `- **No-op rebuild and push under 1 s: ${w < 1000 ? 'met' : 'not met'}** — ${secs(w)} (${med(gn, (s) => s.uploadBytes) === 0 ? 'nothing sent' : `${bytes(med(gn, (s) => s.uploadBytes))} sent`}; in-process time, node start and module loading excluded).`;
    if (w >= 1000) line += ` ${largestPhase(gn, w)}`;
    out.push(line);
  }

  // 4. Cold build throughput per core against the single-core compression limit.
  const gcold = main('cold', 'gamelayer');
  if (gcold.length && data.baseline) {
    const b = data.baseline;
    const limit = b.bytes / (b.cpuMs / 1000);
    const content = med(gcold, (s) => Number(s.worker.contentBytes));
    const buildCpu = med(gcold, (s) => Number(s.worker.buildCpuMs));
    const buildMs = med(gcold, (s) => Number(s.worker.buildMs));
    const perCore = content / (buildCpu / 1000);
    const share = perCore / limit;
    let line =
      `- **Cold build ≥ 80 % of the single-core compression limit per core used: ${share >= 0.8 ? 'met' : 'not met'}** — the limit (node's zlib raw deflate at the build's level, one thread, over ${b.sampledOf && b.sampledOf > b.bytes ? `an even sample of ${bytes(b.bytes)} of the game's 1 MiB blocks` : 'every file'}) is ` +
      `${(limit / 1e6).toFixed(0)} MB per CPU-second; the cold build (scan, tar, gzip, store; push excluded) did ${(perCore / 1e6).toFixed(0)} MB per CPU-second ` +
      `with ${(buildCpu / buildMs).toFixed(2)} cores busy on average: ${(share * 100).toFixed(0)} %.` +
      (share > 1 ? ' Above the limit because gamelayer stores blocks that look random instead of deflating them, while the baseline deflates every byte.' : '');
    if (share < 0.8) {
      const g = gcold[0]!;
      const scan = med(gcold, (s) => phaseMs(s, 'scan'));
      line += ` Scanning (xxh64 of every byte, before any layer starts) took ${secs(scan)} of the ${secs(buildMs)} build, in ${String(g.worker.layers)} layers; hashing in the same pass as tar and gzip, which read the same bytes, would save that read.`;
    }
    out.push(line);
  }
  const rebases = [
    ...(['change', 'engine', 'small'] as Scenario[]).map((sc) => ({ what: SCENARIO_LABEL[sc], text: rebasedText(select(data, { series: 'main', scenario: sc, method: 'gamelayer' })) })),
    ...o.changesMb.map((mb) => ({ what: `${mb} MB change of the change curve`, text: rebasedText(select(data, { series: 'change-curve', changeMb: mb, method: 'gamelayer' })) })),
  ].filter((x) => x.text);
  if (rebases.length) {
    out.push(
      '',
      `gamelayer rebased trees (planned afresh instead of a patch layer, which re-sends the tree's layers whole): ${rebases.map((x) => `${x.what}: ${x.text}`).join('; ')}.`,
    );
  }
  return out;
}

interface TreeDecision {
  tree: string;
  decision: string;
  reason?: string;
}

const treesOf = (s: Sample) => (s.worker.trees ?? []) as TreeDecision[];

/** "app-media in 2 of 3 runs (reason; reason)" for every tree rebased in these samples. */
function rebasedText(xs: Sample[]): string {
  const by = new Map<string, { runs: number; reasons: Set<string> }>();
  for (const s of xs) {
    for (const t of treesOf(s).filter((d) => d.decision === 'rebased')) {
      const e = by.get(t.tree) ?? { runs: 0, reasons: new Set<string>() };
      e.runs++;
      if (t.reason) e.reasons.add(t.reason);
      by.set(t.tree, e);
    }
  }
  return [...by].map(([tree, e]) => `${tree} in ${e.runs} of ${xs.length} run${xs.length > 1 ? 's' : ''}${e.reasons.size ? ` (${[...e.reasons].join('; ')})` : ''}`).join(', ');
}

/** The largest phase of gamelayer's time, what the figures say it spent the time on, and what would shorten it. */
function largestPhase(xs: Sample[], wall: number): string {
  const names = ['scan', 'layers', 'images', 'push'];
  const figures = names.map((n) => ({ n, ms: stat(xs.map((s) => phaseMs(s, n))).med })).filter((p) => Number.isFinite(p.ms));
  if (!figures.length) return '';
  figures.sort((a, b) => b.ms - a.ms);
  const top = figures[0]!;
  const med = (f: (s: Sample) => number) => stat(xs.map(f)).med;
  const all = `${figures.map((f) => `${f.n} ${secs(f.ms)}`).join(', ')}`;
  let why: string;
  if (top.n === 'layers') {
    const built = med((s) => Number(s.worker.contentBuilt));
    const changed = med((s) => s.changedBytes);
    const rebased = rebasedText(xs);
    why =
      built > 2 * changed
        ? `${bytes(built)} of content went into new layers for ${bytes(changed)} changed${rebased ? `, because the build rebased ${rebased}` : ''}: layers holding only the changed files would cut it`
        : `${bytes(built)} of content went into new layers at ${(built / 1e6 / (top.ms / 1000)).toFixed(0)} MB/s: the compressor's speed is the limit (more threads, or zstd)`;
  } else if (top.n === 'push') {
    const upload = med((s) => phaseMs(s, 'upload'));
    const sent = med((s) => s.uploadBytes);
    why =
      upload > top.ms / 2
        ? `blob uploads took ${secs(upload)} for ${bytes(sent)} (${(sent / 1e6 / (upload / 1000)).toFixed(0)} MB/s to a registry on loopback)`
        : `blob uploads took only ${secs(upload)} of it; the rest is the round trips of five images and the build record pushed one after the other (blob checks, manifests), which pushing the images in parallel would overlap`;
  } else if (top.n === 'scan') {
    const hash = med((s) => phaseMs(s, 'hash'));
    why =
      hash > top.ms / 2
        ? `hashing the files the stat cache missed took ${secs(hash)} of it`
        : `hashing took ${secs(hash)} of it; the rest is walking and stat-ing every file of the four trees, which a change journal (a watcher, or folder mtimes) would skip`;
  } else {
    why = 'writing the image configs, manifests, index and build record to the store';
  }
  return `The largest part is ${top.n}: ${secs(top.ms)} of ${secs(wall)} (${all}); ${why}.`;
}

export function compareChart(data: CompareData): string {
  const o = data.options;
  const pt = (xs: Sample[], x: number, f: (s: Sample) => number): Point[] => {
    const v = xs.map(f).filter((n) => Number.isFinite(n));
    if (!v.length) return [];
    const s = stat(v);
    return [{ x, y: s.med, min: s.min, max: s.max }];
  };
  const sizeSeries = (sc: Scenario, m: Method, f: (s: Sample) => number): Point[] =>
    o.sizes.flatMap((size) => pt(select(data, { gameSize: size, scenario: sc, method: m }).filter((s) => s.series === (size === o.main ? 'main' : 'size-curve')), size, f));
  const changes = [...new Set([o.changeMb, ...o.changesMb])];
  const changeSeries = (m: Method, f: (s: Sample) => number): Point[] => changes.flatMap((mb) => pt(changePoint(data, mb, m), mb * 1e6, f));
  const DOCKER = '#d9534f';
  const GL = '#2b6cb0';
  const wall = (s: Sample) => s.wallMs / 1000;
  const sent = (s: Sample) => s.uploadBytes;
  const bySize = (f: (s: Sample) => number): ChartSeries[] => [
    { name: 'docker: cold', color: DOCKER, dashed: true, hollow: true, points: sizeSeries('cold', 'docker', f) },
    { name: 'gamelayer: cold', color: GL, dashed: true, hollow: true, points: sizeSeries('cold', 'gamelayer', f) },
    { name: `docker: ${o.changeMb} MB change`, color: DOCKER, points: sizeSeries('change', 'docker', f) },
    { name: `gamelayer: ${o.changeMb} MB change`, color: GL, points: sizeSeries('change', 'gamelayer', f) },
  ];
  const fmtSecs = (v: number) => (v >= 1 ? `${v} s` : `${v * 1000} ms`);
  const fmtBytes = (v: number) => (v >= 1e9 ? `${v / 1e9} GB` : v >= 1e6 ? `${v / 1e6} MB` : v >= 1e3 ? `${v / 1e3} kB` : `${v} B`);
  const panels: Panel[] = [
    { title: 'Wall time as the game grows', xLabel: 'game size', yLabel: 'wall time', formatX: fmtBytes, formatY: fmtSecs, series: bySize(wall) },
    { title: 'Bytes sent to the registry as the game grows', xLabel: 'game size', yLabel: 'bytes sent', formatX: fmtBytes, formatY: fmtBytes, series: bySize(sent) },
    {
      title: `Wall time as the change grows (${gb(changeCurveSize(o))} game)`,
      xLabel: 'app-media change',
      yLabel: 'wall time',
      formatX: fmtBytes,
      formatY: fmtSecs,
      series: [
        { name: 'docker', color: DOCKER, points: changeSeries('docker', wall) },
        { name: 'gamelayer', color: GL, points: changeSeries('gamelayer', wall) },
      ],
    },
    {
      title: `Bytes sent as the change grows (${gb(changeCurveSize(o))} game)`,
      xLabel: 'app-media change',
      yLabel: 'bytes sent',
      formatX: fmtBytes,
      formatY: fmtBytes,
      series: [
        { name: 'docker', color: DOCKER, points: changeSeries('docker', sent) },
        { name: 'gamelayer', color: GL, points: changeSeries('gamelayer', sent) },
        { name: 'changed files, compressed', color: '#777', dashed: true, hollow: true, points: changeSeries('gamelayer', (s) => s.changedCompressed) },
      ],
    },
  ];
  return chartSvg(
    `gamelayer vs docker build && docker push (${data.date}; medians of ${o.runs} run${o.runs > 1 ? 's' : ''} per scenario, ${o.curveRuns} per curve point; min–max bars)`,
    panels,
  );
}

/** Writes a run's section of bench/README.md and its chart; without data, re-renders from the preset's JSON. */
export async function writeCompareReport(data?: CompareData, preset: Preset = data?.preset ?? 'default'): Promise<void> {
  const files = presetFiles(preset);
  const d = data ?? (JSON.parse(await readFile(files.json, 'utf8')) as CompareData);
  const md = compareMarkdown(d).replace(/\(compare\.svg\)/, `(${path.basename(files.svg)})`);
  process.stdout.write(`${md}\n`);
  await writeFile(files.svg, compareChart(d));
  await writeReportSection(files.section, md);
}

/** The fresh host beside the warm one, on the main change (issue 15): medians of the runs, and the targets. */
function freshHostText(data: CompareData): string[] {
  const fresh = data.fresh ?? [];
  const warm = select(data, { series: 'main', scenario: 'change', method: 'gamelayer' });
  const cold = select(data, { series: 'main', scenario: 'cold', method: 'gamelayer' });
  if (!fresh.length || !warm.length) return [];
  const f = (g: (s: FreshSample) => number) => median(fresh.map(g));
  const w = (g: (s: Sample) => number) => median(warm.map(g));
  const changed = f((s) => s.changedCompressed);
  const hashMs = cold.length ? median(cold.map((s) => phaseMs(s, 'hash'))) : Number.NaN;
  const sentRatio = f((s) => s.uploadBytes) / changed;
  const down = f((s) => s.downloadBytes);
  const same = fresh.every((s) => s.sameImages);
  return [
    `Fresh host (issue 15): the ${data.options.changeMb} MB change built again by a host with no \`.gamelayer/\` (a new CodeBuild host), planned on the previous build's record in a registry of its own that holds that build (\`build --push REPO --from REPO:<previous tag>\`), beside the warm host's build of the same change (medians of ${fresh.length} run${fresh.length > 1 ? 's' : ''}; downloads counted at the proxy: manifests, the record, blobs):`,
    '',
    ...hostTable([
      { name: 'warm host (.gamelayer/ kept)', sent: w((s) => s.uploadBytes), downloaded: w((s) => s.downloadBytes ?? Number.NaN), wallMs: w((s) => s.wallMs), built: w((s) => Number(s.worker.built ?? Number.NaN)), plannedOn: 'its local last build' },
      { name: 'fresh host (no .gamelayer/)', sent: f((s) => s.uploadBytes), downloaded: down, wallMs: f((s) => s.wallMs), built: f((s) => s.built), plannedOn: fresh[0]!.plannedOn.replace(/^[^/]+\//, '') },
    ]),
    '',
    `Targets: sent ${ratio(sentRatio)} the changed files compressed (≤ 1.2×: ${sentRatio <= 1.2 ? 'met' : 'missed'}); downloaded ${bytes(down)} (≤ 2 MiB + the record: ${down <= 2 * 2 ** 20 ? 'met' : 'see the record size'}); wall time ${secs(f((s) => s.wallMs))} against the cold build's hashing ${secs(hashMs)} + 20 % = ${secs(1.2 * hashMs)} (${f((s) => s.wallMs) <= 1.2 * hashMs ? 'met' : 'missed'}; the fresh host's own scan took ${secs(f((s) => s.scanMs))}). Same image digests as the warm host: ${same ? 'yes' : 'NO'}.`,
    '',
  ];
}
