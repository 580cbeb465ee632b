// npm run bench [-- NAME...]: runs the named benchmarks (scan and build when none) and rewrites their sections of
// bench/README.md. Sizes can be raised with flags; the defaults finish on a 2-core machine.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_AVG_CHUNK_SIZE, DEFAULT_CHUNK_MIN_FILE_SIZE, parseSize } from '../src/config/schema.js';
import { batchGraphBench } from './batch-graph.js';
import { concurrentPushBench } from './concurrent-push.js';
import { assembleBench } from './assemble.js';
import { buildBench } from './build.js';
import { compareBench } from './compare.js';
import { freshHostBench } from './fresh-host.js';
import { freshHostDayBench } from './fresh-host-day.js';
import { longRunBench, writeLongRunReport } from './long-run.js';
import { manyFilesBench } from './many-files.js';
import { peersBench, peersNoopBench, writePeersReport } from './peers.js';
import { PRESETS, presetFiles, writeCompareReport, type Preset } from './compare-report.js';
import { regionsBench } from './regions.js';
import { scanBench } from './scan.js';
import { stampPassBench } from './stamp-pass.js';
import { steadyBench, type SteadyScenario } from './steady.js';
import { studioBench } from './studio.js';
import { supplyChainBench } from './supply-chain.js';
import { TREE_NAMES, type TreeName } from '../src/types.js';
import { STEADY_SEED, writeChunkReport, writeSteadyReport } from './steady-report.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'scan-size': { type: 'string', default: '4GB' },
    'scan-files': { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    'curve-runs': { type: 'string', default: '1' },
    'build-size': { type: 'string', default: '3.1GB' },
    'build-zstd-only': { type: 'boolean', default: false },
    'build-gzip-only': { type: 'boolean', default: false },
    'change-mb': { type: 'string', default: '50' },
    full: { type: 'boolean', default: false },
    'compare-sizes': { type: 'string' },
    'compare-large': { type: 'boolean', default: false },
    'compare-main': { type: 'string' },
    'compare-changes': { type: 'string' },
    'compare-small-files': { type: 'string' },
    'steady-size': { type: 'string', default: '3.1GB' },
    updates: { type: 'string', default: '30' },
    'steady-seed': { type: 'string', default: STEADY_SEED },
    'steady-scenario': { type: 'string', default: 'daily' },
    chunk: { type: 'string', multiple: true },
    'whole-files': { type: 'boolean', default: false },
    // Not given: the defaults of `chunks: {}` (src/config/schema.ts).
    'chunk-min': { type: 'string' },
    'chunk-avg': { type: 'string' },
    'chunk-report': { type: 'boolean', default: false },
    'fresh-size': { type: 'string', default: '500MB' },
    'drop-caches': { type: 'boolean', default: false },
    'many-files': { type: 'string', default: '100000' },
    'many-files-size': { type: 'string', default: '400MB' },
    'many-files-baseline': { type: 'string' },
    'regions-size': { type: 'string', default: '300MB' },
    'graph-size': { type: 'string', default: '200MB' },
    'assemble-size': { type: 'string', default: '1GB' },
    'assemble-file-size': { type: 'string', default: '128MiB' },
    'chunk-size': { type: 'string', default: '1MiB' },
    'assemble-workers': { type: 'string', default: '1,2' },
    'assemble-tmpfs': { type: 'boolean', default: false },
    'many-files-empty': { type: 'string' },
    'peers-size': { type: 'string', default: '200MB' },
    'noop-cli': { type: 'string', multiple: true },
    'noop-delay': { type: 'string' },
    'noop-full-path': { type: 'boolean' },
    days: { type: 'string', default: '365' },
    'long-size': { type: 'string', default: '250MB' },
    'gc-every': { type: 'string', default: '30' },
    rounds: { type: 'string', default: '30' },
    hosts: { type: 'string', default: '2' },
    'studio-baseline': { type: 'string' },
    'studio-nomount': { type: 'boolean', default: false },
  },
});

/** --chunk-min and --chunk-avg, the defaults of `chunks: {}` when not given. */
function chunkSizes(): { chunkMin: number; chunkAvg: number } {
  return {
    chunkMin: values['chunk-min'] ? size('chunk-min', values['chunk-min']) : DEFAULT_CHUNK_MIN_FILE_SIZE,
    chunkAvg: values['chunk-avg'] ? size('chunk-avg', values['chunk-avg']) : DEFAULT_AVG_CHUNK_SIZE,
  };
}

function size(flag: string, v: string): number {
  const n = parseSize(v);
  if (n === undefined) throw new Error(`--${flag} ${v}: expected a size such as 500MB or 3.1GB`);
  return n;
}

function positiveNumber(flag: string, v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`--${flag} ${v}: expected a number above 0`);
  return n;
}

const names = positionals.length ? positionals : ['scan', 'build'];
const runs = positiveNumber('runs', values.runs!);
for (const name of names) {
  if (name === 'scan') {
    await scanBench({ size: size('scan-size', values['scan-size']!), files: Number(values['scan-files']), runs });
  } else if (name === 'build') {
    await buildBench({ size: size('build-size', values['build-size']!), changeMb: Number(values['change-mb']), runs, zstdOnly: values['build-zstd-only'], gzipOnly: values['build-gzip-only'] });
  } else if (name === 'fresh-host') {
    await freshHostBench({
      size: size('fresh-size', values['fresh-size']!),
      changeMb: positiveNumber('change-mb', values['change-mb']!),
      dropCaches: values['drop-caches'],
      ...(values.chunk?.length ? { chunk: values.chunk, ...chunkSizes() } : {}),
    });
  } else if (name === 'fresh-host-day') {
    await freshHostDayBench({
      size: size('fresh-size', values['fresh-size']!),
      changeMb: positiveNumber('change-mb', values['change-mb']!),
      ...(values.chunk?.length ? { chunk: values.chunk, ...chunkSizes() } : {}),
    });
  } else if (name === 'compare') {
    // A preset, then any flag given overrides its value (the report calls such a run reduced when it falls short).
    const preset: Preset = values.full ? 'full' : 'default';
    const p = PRESETS[preset];
    const sizes = values['compare-sizes'] ? values['compare-sizes'].split(',').map((s) => size('compare-sizes', s)) : [...p.sizes];
    if (values['compare-large'] && !sizes.includes(10e9)) sizes.push(10e9);
    const main = values['compare-main'] ? size('compare-main', values['compare-main']) : sizes.includes(p.main) ? p.main : Math.max(...sizes);
    if (!sizes.includes(main)) sizes.push(main);
    await compareBench({
      preset,
      sizes: sizes.sort((a, b) => a - b),
      main,
      changeMb: positiveNumber('change-mb', values['change-mb']!),
      changesMb: values['compare-changes'] ? values['compare-changes'].split(',').map((s) => positiveNumber('compare-changes', s)) : [...p.changesMb],
      // The preset's change-curve game when it is still among the sizes; else the main game.
      changesAt: p.changesAt !== undefined && sizes.includes(p.changesAt) ? p.changesAt : main,
      smallFiles: values['compare-small-files'] ? positiveNumber('compare-small-files', values['compare-small-files']) : p.smallFiles,
      runs,
      curveRuns: positiveNumber('curve-runs', values['curve-runs']!),
    });
  } else if (name === 'many-files') {
    await manyFilesBench({
      files: positiveNumber('many-files', values['many-files']!),
      size: size('many-files-size', values['many-files-size']!),
      runs,
      baseline: values['many-files-baseline'],
      ...(values['many-files-empty'] ? { empty: positiveNumber('many-files-empty', values['many-files-empty']) } : {}),
    });
  } else if (name === 'peers') {
    await peersBench({ size: size('peers-size', values['peers-size']!), runs, changeMb: positiveNumber('change-mb', values['change-mb']!) });
  } else if (name === 'stamp-pass') {
    await stampPassBench({ size: size('peers-size', values['peers-size']!), runs });
  } else if (name === 'peers-noop') {
    await peersNoopBench({ size: size('peers-size', values['peers-size']!), runs, others: values['noop-cli'] ?? [], delayMs: Number(values['noop-delay'] ?? 0), fullPath: values['noop-full-path'] === true });
  } else if (name === 'steady') {
    const updates = Number(values.updates);
    if (!Number.isSafeInteger(updates) || updates < 1) throw new Error(`--updates ${values.updates}: expected a whole number of at least 1`);
    const scenario = values['steady-scenario']!;
    if (!['daily', 'insert', 'rewrite'].includes(scenario)) throw new Error(`--steady-scenario ${scenario}: expected daily, insert or rewrite`);
    const chunk = (values.chunk ?? []) as TreeName[];
    for (const t of chunk) if (!TREE_NAMES.includes(t) || t === 'engine') throw new Error(`--chunk ${t}: expected engine-media, app or app-media`);
    if (chunk.length && values['whole-files']) throw new Error('--chunk and --whole-files: give one (without either, app media is chunked as gamelayer init writes it)');
    await steadyBench({
      size: size('steady-size', values['steady-size']!),
      updates,
      seed: values['steady-seed']!,
      scenario: scenario as SteadyScenario,
      chunkReport: values['chunk-report'],
      // --chunk-min also picks the paks the insert / rewrite scenarios change, with chunks on or off alike.
      ...chunkSizes(),
      ...(chunk.length ? { chunk } : {}),
      wholeFiles: values['whole-files'],
    });
  } else if (name === 'long-run') {
    const days = Number(values.days);
    if (!Number.isSafeInteger(days) || days < 1) throw new Error(`--days ${values.days}: expected a whole number of at least 1`);
    const chunk = (values.chunk ?? []) as TreeName[];
    for (const t of chunk) if (!TREE_NAMES.includes(t) || t === 'engine') throw new Error(`--chunk ${t}: expected engine-media, app or app-media`);
    await longRunBench({ days, size: size('long-size', values['long-size']!), seed: values['steady-seed']!, gcEvery: Number(values['gc-every']), ...(chunk.length ? { chunk } : {}) });
  } else if (name === 'batch-graph') {
    await batchGraphBench({ size: size('graph-size', values['graph-size']!), changeMb: positiveNumber('change-mb', values['change-mb']!) });
  } else if (name === 'concurrent-push') {
    await concurrentPushBench({ rounds: positiveNumber('rounds', values.rounds!), hosts: positiveNumber('hosts', values.hosts!) });
  } else if (name === 'studio') {
    await studioBench({ baseline: values['studio-baseline'], mount: !values['studio-nomount'] });
  } else if (name === 'supply-chain') {
    await supplyChainBench({ runs });
  } else if (name === 'regions') {
    await regionsBench({ size: size('regions-size', values['regions-size']!), runs });
  } else if (name === 'assemble') {
    await assembleBench({
      size: size('assemble-size', values['assemble-size']!),
      fileSize: size('assemble-file-size', values['assemble-file-size']!),
      chunkSize: size('chunk-size', values['chunk-size']!),
      runs,
      workers: values['assemble-workers']!.split(',').map((w) => positiveNumber('assemble-workers', w)),
      tmpfs: values['assemble-tmpfs'],
    });
  } else if (name === 'long-run-report') {
    await writeLongRunReport();
  } else if (name === 'long-run-chunked-report') {
    await writeLongRunReport(undefined, 'long-run-chunked');
  } else if (name === 'peers-report') {
    await writePeersReport();
  } else if (name === 'steady-report') {
    await writeSteadyReport();
  } else if (name === 'steady-chunks-report') {
    await writeChunkReport();
  } else if (name === 'steady-chunked-report') {
    await writeSteadyReport(undefined, false, 'chunked');
  } else if (name === 'compare-report') {
    for (const preset of Object.keys(PRESETS) as Preset[]) {
      if (existsSync(presetFiles(preset).json)) await writeCompareReport(undefined, preset);
    }
  } else {
    throw new Error(`unknown benchmark ${name}; known: scan, build, studio, supply-chain, long-run, long-run-report, long-run-chunked-report, assemble, many-files, peers, peers-noop, stamp-pass, peers-report, compare, compare-report, fresh-host, fresh-host-day, regions, batch-graph, concurrent-push, steady, steady-report, steady-chunks-report, steady-chunked-report`);
  }
}
