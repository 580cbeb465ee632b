// npm run bench -- fresh-host: the registry as the build state. One generated game, one change of --change-mb of
// app-media; after a cold build pushed on two lines of work, a warm host (its .gamelayer/ kept) and a fresh host
// (no .gamelayer/: a new CodeBuild host) each build the change with `build --push` on their line. Counted at a
// proxy in front of the registry: bytes sent, bytes downloaded; and wall time, beside the cold build's hashing
// time (its scan phase). Both must give the same image digests.
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generateGame } from '../fixtures/generator/generate.js';
import { mutateGame } from '../fixtures/generator/mutate.js';
import { DEFAULT_AVG_CHUNK_SIZE, DEFAULT_CHUNK_MIN_FILE_SIZE } from '../src/config/schema.js';
import { formatBytes } from '../src/report/reporter.js';
import { startRegistry } from '../test/support/registry.js';
import { BENCH_DIR, machine, writeReportSection } from './lib.js';
import { startCountingProxy, type ProxyCounts } from './registry-proxy.js';

const run = promisify(execFile);
const BIN = path.join(BENCH_DIR, '..', 'bin', 'gamelayer.js');

interface BuildOut {
  images: { name: string; digest: string }[];
  summary: { scanMs: number; ms: number; built: number; previous: { source: string; ref?: string } };
  push: { bytesSent: number };
}

/** One build of the fresh-host comparison: what reached the registry, what came back from it, how long it took. */
export interface HostRun {
  name: string;
  sent: number;
  downloaded: number;
  wallMs: number;
  built: number;
  /** What the build was planned on (a registry reference, or the local last build). */
  plannedOn: string;
}

/** The table of the fresh-host figures: this bench's section, and the fresh host beside the warm one in `compare`. */
export function hostTable(rows: HostRun[]): string[] {
  return [
    '| host | sent to registry | downloaded from registry | wall time | layers built | planned on |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.name} | ${formatBytes(r.sent)} | ${formatBytes(r.downloaded)} | ${(r.wallMs / 1000).toFixed(1)} s | ${r.built} | ${r.plannedOn} |`),
  ];
}

export interface FreshHostOptions {
  size: number;
  changeMb: number;
  /**
   * Drop the page cache (root: /proc/sys/vm/drop_caches) before the cold build and before the fresh host's build,
   * so both hash the game from disk, as a new CodeBuild host does; the warm host runs with whatever is cached.
   */
  dropCaches?: boolean;
  /** Trees built chunked (docs/chunks.md), with these sizes: a fresh host then takes unchanged files' chunk lists from the record. */
  chunk?: string[];
  chunkMin?: number;
  chunkAvg?: number;
}

/** The trees chunked in a bench project, and their chunk sizes. */
export type BenchChunking = Pick<FreshHostOptions, 'chunk' | 'chunkMin' | 'chunkAvg'>;

/** A checkout of the generated `game` in `dir`: its gamelayer.yaml (sources by absolute path), no state yet. */
export async function benchProject(dir: string, game: string, o: BenchChunking): Promise<string> {
  await mkdir(dir, { recursive: true });
  const t = (tree: string) => path.join(game, tree);
  const chunks = (tree: string) => (o.chunk?.includes(tree) ? `, chunks: {minFileSize: ${o.chunkMin ?? DEFAULT_CHUNK_MIN_FILE_SIZE}, avgChunkSize: ${o.chunkAvg ?? DEFAULT_AVG_CHUNK_SIZE}}` : '');
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    `game: fresh-game\nversion: 1.0.0\nstart: ["/opt/local/engine/start.sh"]\ntrees:\n  engine: {source: ${t('engine')}}\n` +
      `  engine-media: {source: ${t('engine-media')}${chunks('engine-media')}}\n  app: {source: ${t('app')}${chunks('app')}}\n  app-media: {source: ${t('app-media')}${chunks('app-media')}}\n`,
  );
  return dir;
}

async function dropPageCache(): Promise<void> {
  await run('sync', []);
  await writeFile('/proc/sys/vm/drop_caches', '3\n');
}

export async function freshHostBench(o: FreshHostOptions): Promise<void> {
  const work = path.join(os.tmpdir(), `gl-bench-fresh-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  const game = path.join(work, 'game');
  const gen = await generateGame({ out: game, size: o.size, seed: 'bench-fresh-host', game: 'fresh-game' });
  const registry = await startRegistry();
  const [host, port] = registry.host.split(':');
  const proxy = await startCountingProxy({ host: host!, port: Number(port) });
  // One repository per host: each must find in its own the layers it keeps and receive the ones it builds (the warm
  // host's push must not make the fresh host's blobs "already there").
  const repoOf = (line: string) => `${proxy.host}/bench/${line}`;
  // Two hosts building the same sources: each a folder with its own gamelayer.yaml and state.
  const project = (name: string) => benchProject(path.join(work, name), game, o);
  const warm = await project('warm');
  const fresh = await project('fresh');
  const build = async (cwd: string, tag: string, line: string, repo = repoOf(line)) => {
    const before = proxy.counts();
    const t0 = Date.now();
    const out = JSON.parse((await run(process.execPath, [BIN, 'build', '--push', repo, '--tag', tag, '--line', line, '--json'], { cwd, maxBuffer: 256 << 20 })).stdout) as BuildOut;
    const after = proxy.counts();
    const delta = (k: keyof ProxyCounts) => after[k] - before[k];
    return { out, wallMs: Date.now() - t0, sent: delta('uploadBytes'), downloaded: delta('downloadBytes') };
  };
  try {
    if (o.dropCaches) await dropPageCache();
    const cold = await build(warm, 'v1', 'warm');
    await build(warm, 'v1', 'fresh'); // the same build in the fresh host's repository (blobs mounted by the registry's store)
    const change = await mutateGame({ dir: game, mb: o.changeMb, seed: 'bench-fresh-host-change' });
    const changedBytes = change.totals.bytesWritten;
    await rm(path.join(fresh, '.gamelayer'), { recursive: true, force: true });
    const w = await build(warm, 'v2w', 'warm');
    if (o.dropCaches) await dropPageCache();
    const f = await build(fresh, 'v2f', 'fresh');
    const same = JSON.stringify(w.out.images.map((i) => i.digest)) === JSON.stringify(f.out.images.map((i) => i.digest));
    const hashMs = cold.out.summary.scanMs;
    const freshScanMs = f.out.summary.scanMs;
    const row = (name: string, r: typeof w): HostRun => ({
      name,
      sent: r.sent,
      downloaded: r.downloaded,
      wallMs: r.wallMs,
      built: r.out.summary.built,
      plannedOn: r.out.summary.previous.ref ?? r.out.summary.previous.source,
    });
    const chunked = o.chunk?.length
      ? `Chunked: ${o.chunk.join(', ')} (files ≥ ${formatBytes(o.chunkMin ?? DEFAULT_CHUNK_MIN_FILE_SIZE)}, ${formatBytes(o.chunkAvg ?? DEFAULT_AVG_CHUNK_SIZE)} chunks); the fresh host takes the chunk lists of unchanged big files from the previous build's record, the cold build chunks every big file (as a fresh host did before). Scan phase: cold ${(hashMs / 1000).toFixed(1)} s, warm host ${(w.out.summary.scanMs / 1000).toFixed(1)} s, fresh host ${(freshScanMs / 1000).toFixed(1)} s; 1-minute load average ${os.loadavg()[0]!.toFixed(1)} at the end.`
      : undefined;
    const md = [
      `Game ${formatBytes(gen.bytes)} (generated, seed bench-fresh-host), change: ${o.changeMb} MB of app-media (${formatBytes(changedBytes)} written, random bytes, so their compressed size is about the same). ${machine()}.`,
      ...(chunked ? ['', chunked] : []),
      '',
      ...hostTable([row('cold build (warm host, first)', cold), row('warm host: the change', w), row('fresh host (no .gamelayer/): the change', f)]),
      '',
      `Scan phase (hashing every file, no stat cache): cold build ${(hashMs / 1000).toFixed(1)} s, fresh host ${(freshScanMs / 1000).toFixed(1)} s (${o.dropCaches ? 'both from disk: the page cache was dropped before each' : 'the game was just written: in the page cache'}). Target (issue 15): fresh host's wall time ≤ the cold build's hashing + 20 % = ${((hashMs * 1.2) / 1000).toFixed(1)} s: ${f.wallMs <= hashMs * 1.2 ? 'met' : 'missed'}. Fresh host: sent ${(f.sent / changedBytes).toFixed(2)} × the changed files, downloaded ${formatBytes(f.downloaded)}, wall time ${(f.wallMs / w.wallMs).toFixed(2)} × the warm host's. Same image digests on both hosts: ${same ? 'yes' : 'NO'}.`,
      '',
      '```',
      `npm run bench -- fresh-host --fresh-size ${Math.round(o.size / 1e6)}MB --change-mb ${o.changeMb}${o.dropCaches ? ' --drop-caches' : ''}${(o.chunk ?? []).map((c) => ` --chunk ${c}`).join('')}${o.chunk?.length ? ` --chunk-min ${o.chunkMin ?? DEFAULT_CHUNK_MIN_FILE_SIZE} --chunk-avg ${o.chunkAvg ?? DEFAULT_AVG_CHUNK_SIZE}` : ''}`,
      '```',
    ].join('\n');
    process.stdout.write(`${md}\n`);
    await writeReportSection(o.chunk?.length ? 'fresh-host-chunked' : 'fresh-host', md);
    if (!same) throw new Error('the warm and the fresh host built different images');
  } finally {
    await proxy.close();
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}
