// The steady bench's README section and chart, from bench/steady.json (written by steady.ts).
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes } from '../src/report/reporter.js';
import { DEFAULT_AVG_CHUNK_SIZE, DEFAULT_CHUNK_MIN_FILE_SIZE } from '../src/config/schema.js';
import type { TreeName } from '../src/types.js';
import { BENCH_DIR, median, writeReportSection } from './lib.js';
import { chartSvg, type Panel } from './svg-chart.js';

export interface SteadyUpdate {
  day: number;
  what: string[];
  changedFiles: number;
  /** The changed files' new content, deflated at the build's level in 1 MiB blocks (removed files count 0). */
  changedCompressed: number;
  /** The bytes actually written to the changed files, compressed (each file's compressed size × its written share). */
  writtenCompressed?: number;
  /** Chunked trees: bytes of the chunks this update's build added (what its patch layers carry, uncompressed). */
  newChunkBytes?: number;
  /** Request bodies of PATCH/PUT/POST to /v2/ that reached the registry. */
  sent: number;
  manifestBytes: number;
  /** A node running the previous update's server image: layers it lacks, and layers it unpacks again. */
  download: number;
  unpack: number;
  /** The same for a node running the four tree images (init containers / image volumes). */
  podDownload: number;
  podUnpack: number;
  /** Compressed bytes of the server image's layers: what a fresh node pulls. */
  imageBytes: number;
  /** Uncompressed content of the server image's layers (dead copies included), and of the game itself. */
  layerContent: number;
  content: number;
  layers: number;
  /** Per tree image: its compressed layers (what a fresh node pulls for it) and the tree's content (newer runs). */
  treeImageBytes?: Record<TreeName, number>;
  treeContent?: Record<TreeName, number>;
  ms: number;
  decisions: Record<TreeName, string>;
}

export interface SteadyData {
  date: string;
  machine: string;
  options: { size: number; updates: number; seed: string; chunk?: string[]; chunkMin?: number; chunkAvg?: number; scenario?: string; chunkReport?: boolean };
  updates: SteadyUpdate[];
  /** Set once the month is done (the figures are written after every update, so an interrupted run still has them). */
  noop?: { sent: number };
  retag?: { sent: number; manifests: number };
  totalSeconds: number;
}

interface DockerCost {
  perScenario: Record<'change' | 'small' | 'engine', number>;
  source: string;
}

/** The docker method's bytes per update, from the compare bench's measurements (median of its runs). */
async function dockerCost(size: number): Promise<DockerCost | undefined> {
  const found: { size: number; file: string; scenario: string; bytes: number }[] = [];
  for (const file of ['compare.json', 'compare-full.json']) {
    const p = path.join(BENCH_DIR, file);
    if (!existsSync(p)) continue;
    const d = JSON.parse(await readFile(p, 'utf8')) as { samples: { series: string; scenario: string; method: string; gameSize: number; uploadBytes: number }[] };
    for (const s of d.samples) {
      if (s.method === 'docker' && s.series === 'main' && ['change', 'small', 'engine'].includes(s.scenario)) found.push({ size: s.gameSize, file, scenario: s.scenario, bytes: s.uploadBytes });
    }
  }
  if (!found.length) return undefined;
  const sizes = [...new Set(found.map((f) => f.size))];
  const nearest = sizes.sort((a, b) => Math.abs(Math.log(a / size)) - Math.abs(Math.log(b / size)))[0]!;
  const at = found.filter((f) => f.size === nearest);
  const scale = size / nearest;
  const med = (sc: string) => median(at.filter((f) => f.scenario === sc).map((f) => f.bytes)) * scale;
  const source =
    `${at[0]!.file}: docker build + docker push on the ${formatBytes(nearest)} game, median of ${at.filter((f) => f.scenario === 'change').length} runs per scenario` +
    (scale !== 1 ? `, scaled by ${scale.toFixed(2)} to this game's size` : '');
  return { perScenario: { change: med('change'), small: med('small'), engine: med('engine') }, source };
}

/** Docker's cost of one update: it re-sends the whole layer of every tree the update touched. */
function dockerUpdate(u: SteadyUpdate, d: DockerCost): number {
  if (u.day === 0) return 0;
  let n = d.perScenario.change + d.perScenario.small; // every day changes assets and app files
  if (u.what.includes('engine upgrade')) n += d.perScenario.engine;
  return n;
}

/** A size as a bench flag gives it (16MiB). */
const flagBytes = (n: number) => (n % 2 ** 20 === 0 ? `${n / 2 ** 20}MiB` : n % 1024 === 0 ? `${n / 1024}KiB` : String(n));
const mb = (n: number) => `${(n / 1e6).toFixed(1)}`;
const x = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '–');

/**
 * Where a month is reported: the whole-file reference month (section "steady", steady.json), or the month with
 * chunked trees (section "steady-chunked", steady-chunked.json), which also gives issue 20's figures against the
 * bytes written and a fresh node's pull per tree.
 */
export type SteadyKind = 'whole' | 'chunked';
const KIND_FILES: Record<SteadyKind, { json: string; section: string; svg: string }> = {
  whole: { json: 'steady.json', section: 'steady', svg: 'steady.svg' },
  chunked: { json: 'steady-chunked.json', section: 'steady-chunked', svg: 'steady-chunked.svg' },
};

/** The chunked month to render when steady-chunked.json is not there yet: the biggest daily chunked run of steady-chunks.json. */
async function chunkedMonth(): Promise<SteadyData> {
  const own = path.join(BENCH_DIR, KIND_FILES.chunked.json);
  if (existsSync(own)) return JSON.parse(await readFile(own, 'utf8')) as SteadyData;
  const all = Object.values(JSON.parse(await readFile(path.join(BENCH_DIR, 'steady-chunks.json'), 'utf8')) as Record<string, SteadyData>);
  const months = all.filter((v) => (v.options.scenario ?? 'daily') === 'daily' && v.options.chunk?.length).sort((a, b) => b.options.size - a.options.size);
  if (!months.length) throw new Error('no daily chunked run in bench/steady-chunks.json: run `npm run bench -- steady --chunk app-media` first');
  return months[0]!;
}

export async function writeSteadyReport(data?: SteadyData, quiet = false, kind: SteadyKind = 'whole'): Promise<void> {
  const files = KIND_FILES[kind];
  const d = data ?? (kind === 'chunked' ? await chunkedMonth() : (JSON.parse(await readFile(path.join(BENCH_DIR, files.json), 'utf8')) as SteadyData));
  const docker = await dockerCost(d.options.size);
  const days = d.updates.filter((u) => u.day > 0);
  const sum = (f: (u: SteadyUpdate) => number) => days.reduce((n, u) => n + f(u), 0);
  const changed = sum((u) => u.changedCompressed);
  const sent = sum((u) => u.sent);
  const worst = days.reduce((w, u) => (u.sent / Math.max(u.changedCompressed, 1) > w.sent / Math.max(w.changedCompressed, 1) ? u : w), days[0]!);
  const maxImage = Math.max(...d.updates.map((u) => u.imageBytes / u.content));
  const maxDead = Math.max(...d.updates.map((u) => u.layerContent / u.content));
  const maxLayers = Math.max(...d.updates.map((u) => u.layers));
  const download = sum((u) => u.download);
  const unpack = sum((u) => u.unpack);
  const worstUnpack = days.reduce((w, u) => (u.unpack / Math.max(u.changedCompressed, 1) > w.unpack / Math.max(w.changedCompressed, 1) ? u : w), days[0]!);
  const last = d.updates.at(-1)!;
  const cold = d.updates[0]!;
  const dockerTotal = docker ? days.reduce((n, u) => n + dockerUpdate(u, docker), 0) : undefined;
  const ok = (b: boolean) => (b ? 'met' : '**missed**');
  // Issue 20's reference: the bytes actually written to the changed files, compressed (runs that recorded it).
  const hasWritten = days.length > 0 && days.every((u) => u.writtenCompressed !== undefined);
  const written = sum((u) => u.writtenCompressed ?? 0);
  const worstWritten = days.reduce((w, u) => (u.sent / Math.max(u.writtenCompressed ?? 0, 1) > w.sent / Math.max(w.writtenCompressed ?? 0, 1) ? u : w), days[0]!);
  const chunked = d.options.chunk ?? [];
  const writtenRows = hasWritten
    ? `| bytes sent / bytes written to the changed files (compressed) over ${days.length} updates | ${formatBytes(sent)} / ${formatBytes(written)} = **${x(sent, written)}** | ${chunked.length ? `≤ 1.3× (issue 20): ${ok(sent <= 1.3 * written)}` : ''} |
| worst single update against its written bytes | day ${worstWritten.day}: ${formatBytes(worstWritten.sent)} for ${formatBytes(worstWritten.writtenCompressed ?? 0)} written = ${x(worstWritten.sent, worstWritten.writtenCompressed ?? 0)} | |
| node running N to N+1 against the written bytes | ${x(download, written)} downloaded, ${x(unpack, written)} unpacked | |
`
    : '';
  // A fresh node per tree image (issue 20: at most 1.15× the tree's content), on the last update.
  const treeRows =
    last.treeImageBytes && last.treeContent
      ? (Object.keys(last.treeImageBytes) as TreeName[])
          .map((t) => {
            const r = last.treeImageBytes![t] / Math.max(last.treeContent![t], 1);
            return `| fresh node at day ${last.day}, tree image ${t}${chunked.includes(t) ? ' (chunked)' : ''} | ${formatBytes(last.treeImageBytes![t])} for ${formatBytes(last.treeContent![t])} of content = ${r.toFixed(3)}× | ${chunked.includes(t) ? `≤ 1.15× (issue 20): ${ok(r <= 1.15)}` : ''} |`;
          })
          .join('\n') + '\n'
      : '';

  const rows = d.updates.map(
    (u) =>
      `| ${u.day} | ${u.what.join('; ')} | ${mb(u.changedCompressed)} | ${hasWritten ? `${mb(u.writtenCompressed ?? 0)} | ` : ''}${mb(u.sent)} | ${u.day ? x(u.sent, u.changedCompressed) : ''} | ${mb(u.download)} / ${mb(u.unpack)} | ${mb(u.podDownload)} / ${mb(u.podUnpack)} | ` +
      `${(u.imageBytes / u.content).toFixed(3)} / ${(u.layerContent / u.content).toFixed(3)} | ${u.layers} | ${(u.ms / 1000).toFixed(1)} | ${compactions(u)} |`,
  );
  const title = chunked.length
    ? `Steady state with chunked trees (issues 16 and 20) — ${days.length === d.options.updates ? '' : `${days.length} of `}${d.options.updates} daily updates of a generated game of ${formatBytes(cold.content)}, ${chunked.join(', ')} chunked (files ≥ ${formatBytes(d.options.chunkMin ?? 0)}, chunks of ~${formatBytes(d.options.chunkAvg ?? 0)}), build + push after each`
    : `Steady state (issue 16) — ${days.length === d.options.updates ? '' : `${days.length} of `}${d.options.updates} daily updates of a generated game of ${formatBytes(cold.content)}, build + push after each`;
  // The bench's default since stop 49: what `gamelayer init` writes for this game (app media, `chunks: {}`).
  const initChoice = chunked.join() === 'app-media' && d.options.chunkMin === DEFAULT_CHUNK_MIN_FILE_SIZE && d.options.chunkAvg === DEFAULT_AVG_CHUNK_SIZE;
  const chunkFlags = `--chunk ${chunked.join(' --chunk ')} --chunk-min ${flagBytes(d.options.chunkMin ?? 0)} --chunk-avg ${flagBytes(d.options.chunkAvg ?? 0)}`;
  const chunkNote = chunked.length
    ? `\nThe month of the section "Steady state" (same edits for the same seed and size) with ${initChoice ? `app media chunked as \`gamelayer init\` writes it for this game (\`chunks: {}\`: its app media holds files ≥ ${DEFAULT_CHUNK_MIN_FILE_SIZE / 2 ** 20} MiB), the bench's default (\`${chunkFlags}\` said in full; \`--whole-files\` measures the section "Steady state")` : `\`${chunkFlags}\``}
(docs/chunks.md): big files are content-defined chunks, so a partial rewrite of a pak sends the chunks it touched.
"Written": the bytes actually written to the changed files, compressed (each changed file's compressed size × the
share of it written: a partial pak rewrite counts its rewritten part, any other change its whole file). The figures
are re-rendered from \`${files.json}\` by \`npm run bench -- steady-chunked-report\`.\n`
    : '';
  const md = `
### ${title}

Measured ${d.date} on ${d.machine}, 2 cores shared with other work; the whole bench took ${(d.totalSeconds / 60).toFixed(1)} min.
\`npm run bench -- steady${chunked.length ? '' : ' --whole-files'} [--steady-size 3.1GB] [--updates 30] [--steady-seed S]\`: a game generated by
\`fixtures/generate.ts\`, then each day (seeded): about ${(50 * d.options.size / 3.1e9).toFixed(1)} MB of app-media assets changed (modify, resize, add,
delete; log-normal day to day), 1–6 small app files edited, with probability 0.2 a big pak rewritten in part (1–5 % of
it, in place), with probability 0.3 the app binary touched (about ${(d.options.size / 3.1e9).toFixed(2)} MB of it), and one engine upgrade
at day ${Math.round(0.6 * d.options.updates)}. After each day \`build\` and a push of the five images and the record to a docker-registry 2.8 on
loopback behind a counting proxy ("sent": request bodies of PATCH/PUT/POST to /v2/ that reached the registry).
"Changed" is the reference: the changed files' new content deflated at the build's level (whole files: OCI's unit).
A node running day N−1 downloads the layers it lacks and unpacks every layer from the first one that differs in the
server image's stack (containerd keys unpacked layers by the chain below them); "pod" is the same for a node running
the four tree images. Image / content: compressed server image over the game's bytes, then the layers' uncompressed
content over the game's bytes (dead copies of overwritten files).
${chunkNote}
| measure | result | target |
| --- | --- | --- |
| bytes sent / changed files compressed over ${days.length} updates | ${formatBytes(sent)} / ${formatBytes(changed)} = **${x(sent, changed)}** | ≤ 1.2×: ${ok(sent <= 1.2 * changed)} |
| worst single update (sent / its changed files) | day ${worst.day}: ${formatBytes(worst.sent)} for ${formatBytes(worst.changedCompressed)} = **${x(worst.sent, worst.changedCompressed)}** | ≤ 2×: ${ok(worst.sent <= 2 * worst.changedCompressed)} |
| image size / content size, worst update | ${maxImage.toFixed(3)} compressed; layers' content ${maxDead.toFixed(3)} | ≤ 1.15 compressed (the planner's limit, docs/compaction.md): ${ok(maxImage <= 1.15)} |
| layers in the server image, most | ${maxLayers} | ≤ 60: ${ok(maxLayers <= 60)} |
| node running N pulls to run N+1, over the month | ${formatBytes(download)} downloaded = **${x(download, changed)}**, ${formatBytes(unpack)} unpacked = **${x(unpack, changed)}** the changed files | ≤ 1.3×: ${ok(download <= 1.3 * changed && unpack <= 1.3 * changed)} |
| worst single update unpacked | day ${worstUnpack.day}: ${formatBytes(worstUnpack.unpack)} for ${formatBytes(worstUnpack.changedCompressed)} changed | |
| pod (four tree images), over the month | ${formatBytes(sum((u) => u.podDownload))} downloaded, ${formatBytes(sum((u) => u.podUnpack))} unpacked | |
${writtenRows}| fresh node at day ${last.day} | ${formatBytes(last.imageBytes)} = ${(last.imageBytes / cold.imageBytes).toFixed(2)}× the cold image, ${(last.imageBytes / last.content).toFixed(3)}× the content | |
${treeRows}| no-op build + push | ${d.noop ? `${d.noop.sent} B sent` : 'not reached'} | 0: ${d.noop ? ok(d.noop.sent === 0) : '–'} |
| same content under a new tag | ${d.retag ? `${d.retag.sent} B sent, of which ${d.retag.manifests} B manifests` : 'not reached'} | manifests only: ${d.retag ? ok(d.retag.sent === d.retag.manifests) : '–'} |
${docker && dockerTotal !== undefined ? `| the docker method (stated, not run here) | ${formatBytes(docker.perScenario.change + docker.perScenario.small)} per ordinary update, ${formatBytes(dockerTotal)} over the month = ${x(dockerTotal, changed)} the changed files (${docker.source}; an update that touches assets and app files re-sends both layers, an engine upgrade the engine's too) | |\n` : ''}
Per update (MB = 10^6 bytes; compactions name what each tree's plan rewrote, dropped or merged):

| day | what changed | changed MB | ${hasWritten ? 'written MB | ' : ''}sent MB | sent / changed | node down / unpack MB | pod down / unpack MB | image / content | layers | s | compaction |
| --- | --- | --- | ${hasWritten ? '--- | ' : ''}--- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

![steady chart](${files.svg})
`;
  if (!quiet) process.stdout.write(md);
  await writeFile(path.join(BENCH_DIR, files.json), `${JSON.stringify(d, null, 1)}\n`);
  await writeReportSection(files.section, md);
  await writeFile(path.join(BENCH_DIR, files.svg), chart(d, docker));
}

function compactions(u: SteadyUpdate): string {
  return Object.entries(u.decisions)
    .filter(([, v]) => v.startsWith('compacted') || v.startsWith('rebased'))
    .map(([t, v]) => `${t}: ${v.replace(/^compacted: /, '')}`)
    .join('; ')
    .replace(/\|/g, '/');
}

function chart(d: SteadyData, docker: DockerCost | undefined): string {
  const days = d.updates.filter((u) => u.day > 0);
  const fmt = (v: number) => formatBytes(v).replace(' ', ' ');
  let cs = 0;
  let cc = 0;
  let cd = 0;
  let cu = 0;
  let ck = 0;
  const cumulative = days.map((u) => {
    cs += u.sent;
    cc += u.changedCompressed;
    cd += u.download;
    cu += u.unpack;
    ck += docker ? dockerUpdate(u, docker) : 0;
    return { day: u.day, cs, cc, cd, cu, ck };
  });
  const panels: Panel[] = [
    {
      title: 'bytes per update',
      xLabel: 'update',
      yLabel: 'bytes',
      formatX: (v) => String(v),
      formatY: fmt,
      linearX: true,
      series: [
        { name: 'sent to the registry', color: '#1f77b4', points: days.map((u) => ({ x: u.day, y: u.sent })) },
        { name: 'changed files, compressed', color: '#2ca02c', dashed: true, points: days.map((u) => ({ x: u.day, y: u.changedCompressed })) },
        ...(d.options.chunk?.length ? [{ name: 'bytes written, compressed', color: '#8c564b', dashed: true, points: days.map((u) => ({ x: u.day, y: u.writtenCompressed ?? 0 })) }] : []),
        { name: 'node: unpacked', color: '#d62728', hollow: true, points: days.map((u) => ({ x: u.day, y: u.unpack })) },
      ],
    },
    {
      title: 'cumulative bytes',
      xLabel: 'update',
      yLabel: 'bytes',
      formatX: (v) => String(v),
      formatY: fmt,
      linearX: true,
      series: [
        { name: 'sent (gamelayer)', color: '#1f77b4', points: cumulative.map((c) => ({ x: c.day, y: c.cs })) },
        { name: 'changed files, compressed', color: '#2ca02c', dashed: true, points: cumulative.map((c) => ({ x: c.day, y: c.cc })) },
        { name: 'node: downloaded', color: '#9467bd', points: cumulative.map((c) => ({ x: c.day, y: c.cd })) },
        { name: 'node: unpacked', color: '#d62728', hollow: true, points: cumulative.map((c) => ({ x: c.day, y: c.cu })) },
        ...(docker ? [{ name: 'docker method (stated)', color: '#ff7f0e', dashed: true, points: cumulative.map((c) => ({ x: c.day, y: c.ck })) }] : []),
      ],
    },
    {
      title: 'layers in the server image',
      xLabel: 'update',
      yLabel: 'layers',
      formatX: (v) => String(v),
      formatY: (v) => String(v),
      linearX: true,
      linearY: true,
      series: [{ name: 'layers', color: '#1f77b4', points: d.updates.map((u) => ({ x: u.day, y: u.layers })) }],
    },
    {
      title: 'image size / content size',
      xLabel: 'update',
      yLabel: 'ratio',
      formatX: (v) => String(v),
      formatY: (v) => v.toFixed(2),
      linearX: true,
      linearY: true,
      series: [
        { name: 'layers\' content / game', color: '#1f77b4', points: d.updates.map((u) => ({ x: u.day, y: u.layerContent / u.content })) },
        { name: 'compressed image / game', color: '#9467bd', hollow: true, points: d.updates.map((u) => ({ x: u.day, y: u.imageBytes / u.content })) },
        { name: 'limit 1.15', color: '#d62728', dashed: true, points: d.updates.map((u) => ({ x: u.day, y: 1.15 })) },
      ],
    },
  ];
  return chartSvg(`gamelayer: ${d.options.updates} daily updates of a ${formatBytes(d.updates[0]!.content)} game${d.options.chunk?.length ? `, ${d.options.chunk.join(', ')} chunked` : ''}`, panels);
}

/** `--steady-seed` when not given. */
export const STEADY_SEED = 'steady';

/**
 * The key of a chunk / scenario run in steady-chunks.json: every option that changes its figures, so runs that differ
 * in one keep a row each (runs at other --chunk-min values replaced each other). A row written without chunkMin or
 * chunkAvg was run at the defaults (`npm run bench` has always passed --chunk-min 64MiB and --chunk-avg 256KiB
 * unless told otherwise), and is keyed as such.
 */
export function variantKey(o: SteadyData['options']): string {
  // The game's size is part of the key: runs at the seed's size do not replace the small game's rows.
  const at = o.size >= 1e9 ? `${(o.size / 1e9).toFixed(1)} GB game` : `${Math.round(o.size / 1e6)} MB game`;
  const scenario = o.scenario ?? 'daily';
  const min = formatBytes(o.chunkMin ?? DEFAULT_CHUNK_MIN_FILE_SIZE);
  // --chunk-min also picks the paks the insert / rewrite scenarios change; the daily mix does not read it unchunked.
  const trees = o.chunk?.length
    ? `${o.chunk.join('+')} chunked (files ≥ ${min}, ~${formatBytes(o.chunkAvg ?? DEFAULT_AVG_CHUNK_SIZE)} chunks)`
    : `whole files${scenario === 'daily' ? '' : ` (paks ≥ ${min})`}`;
  return [scenario, trees, at, `${o.updates} updates`, ...(o.seed === STEADY_SEED ? [] : [`seed ${o.seed}`])].join(', ');
}

/**
 * steady-chunks.json's runs with `run` added: keyed anew by their options (older files carry other key texts), in
 * the order of their settings: scenario, trees chunked (whole files last), then chunk-min, chunk-avg, game size,
 * updates by number (the keys' text put "files ≥ 8.00 MiB" after "files ≥ 64.0 MiB"), and seed.
 */
export function mergeChunkRuns(file: Record<string, SteadyData>, run?: SteadyData): Record<string, SteadyData> {
  const all = new Map(Object.values(file).map((v) => [variantKey(v.options), v]));
  if (run) all.set(variantKey(run.options), run);
  return Object.fromEntries([...all].sort(([, a], [, b]) => compareSettings(a.options, b.options)));
}

function compareSettings(a: SteadyData['options'], b: SteadyData['options']): number {
  const text = (o: SteadyData['options']) => [o.scenario ?? 'daily', o.chunk?.length ? o.chunk.join('+') : '\uffff', o.seed];
  const numbers = (o: SteadyData['options']) => [o.chunkMin ?? DEFAULT_CHUNK_MIN_FILE_SIZE, o.chunkAvg ?? DEFAULT_AVG_CHUNK_SIZE, o.size, o.updates];
  const [ta, tb, na, nb] = [text(a), text(b), numbers(a), numbers(b)];
  for (const i of [0, 1]) if (ta[i] !== tb[i]) return ta[i]! < tb[i]! ? -1 : 1;
  for (const [i, n] of na.entries()) if (n !== nb[i]) return n - nb[i]!;
  return ta[2]! < tb[2]! ? -1 : ta[2]! > tb[2]! ? 1 : 0;
}

/** Chunk and scenario runs of the steady bench: merged into steady-chunks.json, one README row each. */
export async function writeChunkReport(d?: SteadyData): Promise<void> {
  const file = path.join(BENCH_DIR, 'steady-chunks.json');
  const raw: Record<string, SteadyData> = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Record<string, SteadyData>) : {};
  const all = mergeChunkRuns(raw, d);
  await writeFile(file, `${JSON.stringify(all, null, 1)}\n`);
  const rows = Object.entries(all).map(([key, v]) => {
      const days = v.updates.filter((u) => u.day > 0);
      const sum = (f: (u: SteadyUpdate) => number) => days.reduce((n, u) => n + f(u), 0);
      const sent = sum((u) => u.sent);
      const written = sum((u) => u.writtenCompressed ?? 0);
      const changed = sum((u) => u.changedCompressed);
      const last = v.updates.at(-1)!;
      const o = v.options;
      const chunkBytes = days.some((u) => u.newChunkBytes !== undefined) ? formatBytes(sum((u) => u.newChunkBytes ?? 0)) : o.chunk?.length ? 'not recorded' : '–';
      // The key names the settings; a run stopped early has fewer updates than it names.
      return `| ${key} | ${formatBytes(v.updates[0]!.content)}, ${days.length} updates | ${formatBytes(written)} | ${formatBytes(changed)} | ${chunkBytes} | ${formatBytes(sent)} | **${(sent / written).toFixed(2)}×** | ${formatBytes(sum((u) => u.podDownload))} | ${(last.imageBytes / last.content).toFixed(3)} | ${v.date} |`;
    });
  const md = `
### Chunked trees (issue 20): bytes sent against bytes written

\`npm run bench -- steady [--chunk app-media --chunk-min S --chunk-avg S | --whole-files] [--steady-scenario daily|insert|rewrite]\`
(see docs/chunks.md; without \`--chunk\` app media is chunked as \`gamelayer init\` writes it, \`--whole-files\` gives the whole-file rows). \`daily\`: the day mix of the month above, at the size given; \`insert\`: each day 0.2–1 % of two big paks' size inserted at a random
point in their middle half (offsets after it shift); \`rewrite\`: each day one big pak rewritten wholly. "Written": the
bytes actually written to the changed files, compressed (each file's compressed size × the share of it written);
"changed files": their whole new content, compressed (OCI's unit). Sent: request bodies that reached the registry
(build + push of the five images and the record). Pod: what a node running the day before pulls for the four tree
images. Image / content: the server image's compressed layers over the game's bytes on the last day. New chunks: the
chunks the updates' builds added (uncompressed). Sent includes the compactions the layer policy chose (rewrite: days 2
and 4 rewrote app-media's layer to drop dead copies, chunked or not). The 400 MB game's chunked rows at ~1.00 MiB were
measured with the level-2 chunker of before (docs/chunks.md: 2.5 mean chunks of new bytes per insertion, level 1 1.6;
the same insert run at 256 KiB gave 2.73× with it) and before the insert scenario gave a second insertion into the same
pak its own bytes; the 256 KiB insert rows with the level-1 chunker (the 3.1 GB one at the defaults: files ≥ 64 MiB).
A row per setting that changes the figures (scenario, trees chunked, \`--chunk-min\`, \`--chunk-avg\`, size, updates,
seed): a run replaces only the row of its own settings (before stop 49 the key left out \`--chunk-min\`, and the 64 MiB
daily month replaced the 16 MiB one of 2026-12-05, put back from git).

| run | game | written | changed files | new chunks | sent | sent / written | pod pulls | image / content | date |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`;
  process.stdout.write(md);
  await writeReportSection('steady-chunks', md);
}
