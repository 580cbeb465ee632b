// Build benchmark (issue 3): cold build, no-op rebuild and 50 MB-change rebuild of a generated game, next to the
// single-core compression limit on the same bytes measured in the same run, and (issue 17) the cold build with
// gzip and with zstd layers against `tar | pigz` and `tar | zstd` on every core, on the same trees in the same run.
import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateGame } from '../fixtures/generator/generate.js';
import { mutateGame } from '../fixtures/generator/mutate.js';
import { parseDocument } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { DEFAULT_ZSTD_LEVEL } from '../src/oci/compressor-id.js';
import { formatBytes } from '../src/report/reporter.js';
import { TREE_NAMES } from '../src/types.js';
import { OUT_DIR, machine, measure, median, writeReportSection, type Measured } from './lib.js';

export interface BuildBenchOptions {
  size: number;
  changeMb: number;
  runs: number;
  /** Only the zstd comparison (`tar | zstd -1`, `tar | zstd -3`, the cold build with zstd layers), in section build-zstd. */
  zstdOnly?: boolean;
  /** Only the gzip comparison (`tar | pigz -1`, the same into a synced file, the cold build with gzip layers), in section build-gzip. */
  gzipOnly?: boolean;
}

interface BuildOut {
  built: number;
  reused: number;
  bytesNew: number;
  bytesTotal: number;
  contentBytes: number;
  contentBuilt: number;
  layers: number;
  scanMs: number;
}

interface PeerRun {
  command: string;
  ms: number;
  cpuMs: number;
}

/** A shell pipeline timed by GNU time (wall, user + system of the pipeline's processes); its output is discarded. */
async function timePipeline(command: string): Promise<PeerRun> {
  const child = spawn('/usr/bin/time', ['-f', 'TIME %e %U %S', 'bash', '-o', 'pipefail', '-c', `${command} > /dev/null`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(err);
  if (code !== 0 || !m) throw new Error(`${command} failed (${code}): ${err.trim()}`);
  return { command, ms: Number(m[1]) * 1000, cpuMs: (Number(m[2]) + Number(m[3])) * 1000 };
}

/**
 * `tar | zstd` doing an OCI layer's work: the tar hashed on its way into `zstd` (diffID), the blob hashed on its way
 * into its file (digest), the file synced. The tar's hash reads a FIFO in the background, waited for, so GNU time
 * counts its CPU.
 */
function ociPeer(tar: string, cores: number, out: string): string {
  const fifo = `${out}.fifo`;
  return `rm -f '${fifo}' && mkfifo '${fifo}' && { openssl dgst -sha256 < '${fifo}' > /dev/null & } && ` +
    `${tar} | tee '${fifo}' | zstd -1 -T${cores} -q -c | tee '${out}' | openssl dgst -sha256 && wait && sync '${out}' && rm -f '${out}' '${fifo}'`;
}

/** `tar` of the four trees' sources (as the game's config names them), in tree order. */
async function tarCommand(config: string): Promise<string> {
  const c = await loadConfig(config);
  const roots = TREE_NAMES.map((t) => c.trees[t].sources['*']!);
  return `tar -cf - ${roots.map((r) => `'${r}'`).join(' ')}`;
}

export async function buildBench(opts: BuildBenchOptions): Promise<void> {
  const dir = path.join(OUT_DIR, `build-game-${opts.size}`);
  const config = path.join(dir, 'gamelayer.yaml');
  if (!(await readFile(config, 'utf8').then(() => true, () => false))) {
    process.stderr.write(`generating ${formatBytes(opts.size)} into ${dir}\n`);
    await generateGame({ out: dir, size: opts.size, seed: 'bench-build' });
  }
  const age = () => execFileSync('find', [dir, '-type', 'f', '-not', '-path', '*/.gamelayer/*', '-newermt', '-5 seconds', '-exec', 'touch', '-d', '1 hour ago', '{}', '+']);
  age();
  const worker = path.join(path.dirname(new URL(import.meta.url).pathname), 'build-worker.ts');
  const cold: Measured<BuildOut>[] = [];
  const noop: Measured<BuildOut>[] = [];
  const change: (Measured<BuildOut> & { changed: number })[] = [];
  const deflate: Measured<{ bytes: number; compressed: number }>[] = [];
  const deflate6: Measured<{ bytes: number; compressed: number }>[] = [];
  const cores = availableParallelism();
  const tar = await tarCommand(config);
  // The same game with zstd layers: a config beside the game's (same relative tree paths); the state folder is
  // removed before each cold build, so neither reuses the other's layers.
  const zstdConfig = path.join(dir, 'gamelayer-zstd.yaml');
  const doc = parseDocument(await readFile(config, 'utf8'));
  doc.setIn(['layers', 'compression'], 'zstd');
  await writeFile(zstdConfig, doc.toString());
  const peers: Record<'tar' | 'pigz' | 'pigzFile' | 'zstd1' | 'zstd3' | 'zstd1File' | 'zstd1Oci', PeerRun[]> = { tar: [], pigz: [], pigzFile: [], zstd1: [], zstd3: [], zstd1File: [], zstd1Oci: [] };
  const coldZstd: Measured<BuildOut>[] = [];
  /** A zstd build's CPU: its own threads and its `zstd` processes (the peers' figures include theirs too). */
  const zstdCpu = (m: Measured<BuildOut>) => m.cpuMs + (m.childCpuMs ?? 0);
  if (opts.zstdOnly) {
    const loadAtStart = loadavg()[0]!;
    for (let i = 0; i < opts.runs; i++) {
      peers.tar.push(await timePipeline(`${tar} | cat`));
      peers.zstd1.push(await timePipeline(`${tar} | zstd -1 -T${cores} -q -c`));
      peers.zstd3.push(await timePipeline(`${tar} | zstd -3 -T${cores} -q -c`));
      // The same peer storing its output as the build stores a blob: written to a file on the same disk, and synced.
      const peerOut = path.join(dir, 'peer-out.zst');
      peers.zstd1File.push(await timePipeline(`${tar} | zstd -1 -T${cores} -q -f -o '${peerOut}' && sync '${peerOut}' && rm -f '${peerOut}'`));
      // The same peer doing what an OCI layer needs besides: the tar's sha256 (the diffID) and the blob's (its
      // digest), with OpenSSL's sha256 (the fastest on the machine: SHA-NI where the CPU has it), stored and synced.
      peers.zstd1Oci.push(await timePipeline(ociPeer(tar, cores, peerOut)));
      await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true });
      coldZstd.push(await measure<BuildOut>(worker, ['build', zstdConfig]));
    }
    const med = (xs: number[]) => median(xs);
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const range = (xs: number[]) => `${s(Math.min(...xs))}–${s(Math.max(...xs))}`;
    const row = (name: string, runs: { ms: number; cpuMs: number }[], ratio = '') =>
      `| ${name} | ${s(med(runs.map((p) => p.ms)))} (${range(runs.map((p) => p.ms))}) | ${s(med(runs.map((p) => p.cpuMs)))} | ${ratio} |`;
    const z1 = med(peers.zstd1.map((p) => p.ms));
    const z3 = med(peers.zstd3.map((p) => p.ms));
    const wall = med(coldZstd.map((c) => c.ms));
    const cpu = med(coldZstd.map(zstdCpu));
    const md = `
### Cold build with zstd layers against \`tar | zstd\` (issue 17) — generated game of ${formatBytes(coldZstd[0]!.result.contentBytes)}, ${coldZstd[0]!.result.layers} layers, ${opts.runs} runs interleaved, medians (min–max)

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}, ${cores} cores (1-minute load average at the start: ${loadAtStart.toFixed(1)}; at the end: ${loadavg()[0]!.toFixed(1)}).
Each run: the peers, then the cold build (state folder removed), on the trees the peers have just read. The build's
CPU is its own (every thread) plus its \`zstd\` processes'; the peers' is the whole pipeline's (GNU time).
\`npm run bench -- build --build-zstd-only [--runs N] [--build-size 3.1GB]\`.

| measurement | wall time | CPU time | ratio (wall; CPU) |
| --- | --- | --- | --- |
${row('`tar` alone', peers.tar)}
${row(`\`tar \\| zstd -1 -T${cores}\``, peers.zstd1, '1')}
${row(`\`tar \\| zstd -3 -T${cores}\` (gamelayer's zstd level before issue 17's cold-I/O round)`, peers.zstd3)}
${row(`\`tar \\| zstd -1 -T${cores}\` into a file, synced (stored as the build stores its blobs)`, peers.zstd1File)}
${row(`the same with both sha256 (\`tee\` into \`openssl dgst -sha256\` before and after \`zstd\`): what an OCI layer needs`, peers.zstd1Oci)}
| cold build, zstd layers (level ${DEFAULT_ZSTD_LEVEL}; scan, tar, zstd, store) | ${s(wall)} (${range(coldZstd.map((c) => c.ms))}) | ${s(cpu)} (of which \`zstd\` ${s(med(coldZstd.map((c) => c.childCpuMs ?? 0)))}) | **${(wall / z1).toFixed(2)}×** \`tar \\| zstd -1\`, ${(wall / z3).toFixed(2)}× \`tar \\| zstd -3\`, ${(wall / med(peers.zstd1File.map((p) => p.ms))).toFixed(2)}× the one that stores its output, ${(wall / med(peers.zstd1Oci.map((p) => p.ms))).toFixed(2)}× the one that also hashes; CPU ${(cpu / med(peers.zstd1.map((p) => p.cpuMs))).toFixed(2)}×, ${(cpu / med(peers.zstd3.map((p) => p.cpuMs))).toFixed(2)}× |

Per run (wall: \`zstd -1\` peer / the same into a synced file / the same hashing / build): ${peers.zstd1.map((p, i) => `${s(p.ms)} / ${s(peers.zstd1File[i]!.ms)} / ${s(peers.zstd1Oci[i]!.ms)} / ${s(coldZstd[i]!.ms)}`).join('; ')}.
`;
    process.stdout.write(md);
    await writeReportSection('build-zstd', md);
    await writeFile(path.join(OUT_DIR, 'build-zstd.json'), JSON.stringify({ coldZstd, peers }, null, 2));
    return;
  }
  if (opts.gzipOnly) {
    const loadAtStart = loadavg()[0]!;
    for (let i = 0; i < opts.runs; i++) {
      peers.tar.push(await timePipeline(`${tar} | cat`));
      peers.pigz.push(await timePipeline(`${tar} | pigz -1 -p${cores}`));
      const peerOut = path.join(dir, 'peer-out.gz');
      peers.pigzFile.push(await timePipeline(`${tar} | pigz -1 -p${cores} > '${peerOut}' && sync '${peerOut}' && rm -f '${peerOut}'`));
      await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true });
      cold.push(await measure<BuildOut>(worker, ['build', config]));
    }
    const med = (xs: number[]) => median(xs);
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const range = (xs: number[]) => `${s(Math.min(...xs))}–${s(Math.max(...xs))}`;
    const row = (name: string, runs: { ms: number; cpuMs: number }[], ratio = '') =>
      `| ${name} | ${s(med(runs.map((p) => p.ms)))} (${range(runs.map((p) => p.ms))}) | ${s(med(runs.map((p) => p.cpuMs)))} | ${ratio} |`;
    const pigz = med(peers.pigz.map((p) => p.ms));
    const wall = med(cold.map((c) => c.ms));
    const cpu = med(cold.map((c) => c.cpuMs));
    const md = `
### Cold build with gzip layers against \`tar | pigz\` (issue 17) — generated game of ${formatBytes(cold[0]!.result.contentBytes)}, ${cold[0]!.result.layers} layers, ${opts.runs} runs interleaved, medians (min–max)

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}, ${cores} cores (1-minute load average at the start: ${loadAtStart.toFixed(1)}; at the end: ${loadavg()[0]!.toFixed(1)}).
Each run: the peers, then the cold build (state folder removed), on the trees the peers have just read. CPU: the
build's own (every thread), the peers' whole pipeline (GNU time).
\`npm run bench -- build --build-gzip-only [--runs N] [--build-size 3.1GB]\`.

| measurement | wall time | CPU time | ratio (wall; CPU) |
| --- | --- | --- | --- |
${row('`tar` alone', peers.tar)}
${row(`\`tar \\| pigz -1 -p${cores}\``, peers.pigz, '1')}
${row(`\`tar \\| pigz -1 -p${cores}\` into a file, synced (stored as the build stores its blobs)`, peers.pigzFile)}
| cold build, gzip layers (level 1; scan, tar, gzip, store) | ${s(wall)} (${range(cold.map((c) => c.ms))}) | ${s(cpu)} | **${(wall / pigz).toFixed(2)}×** \`tar \\| pigz -1\`, ${(wall / med(peers.pigzFile.map((p) => p.ms))).toFixed(2)}× the one that stores its output; CPU ${(cpu / med(peers.pigz.map((p) => p.cpuMs))).toFixed(2)}× |

Per run (wall: \`pigz -1\` peer / the same into a synced file / build): ${peers.pigz.map((p, i) => `${s(p.ms)} / ${s(peers.pigzFile[i]!.ms)} / ${s(cold[i]!.ms)}`).join('; ')}.
`;
    process.stdout.write(md);
    await writeReportSection('build-gzip', md);
    await writeFile(path.join(OUT_DIR, 'build-gzip.json'), JSON.stringify({ cold, peers }, null, 2));
    return;
  }
  for (let i = 0; i < opts.runs; i++) {
    deflate.push(await measure(worker, ['deflate', config]));
    if (i === 0) deflate6.push(await measure(worker, ['deflate', config, '6']));
    // Peers first, then the cold builds, each on the trees the previous command has just read.
    // GNU tar skips reading the files when its output is /dev/null: a pipe makes it read them.
    peers.tar.push(await timePipeline(`${tar} | cat`));
    peers.pigz.push(await timePipeline(`${tar} | pigz -1 -p${cores}`));
    peers.zstd1.push(await timePipeline(`${tar} | zstd -1 -T${cores} -q -c`));
    peers.zstd3.push(await timePipeline(`${tar} | zstd -3 -T${cores} -q -c`));
    // The peers storing their output as the build stores a blob (written to a file on the same disk, synced): writing
    // to /dev/null spares them the page cache and the disk that the build pays for.
    const peerOut = path.join(dir, 'peer-out');
    peers.pigzFile.push(await timePipeline(`${tar} | pigz -1 -p${cores} > '${peerOut}' && sync '${peerOut}' && rm -f '${peerOut}'`));
    peers.zstd1File.push(await timePipeline(`${tar} | zstd -1 -T${cores} -q -f -o '${peerOut}' && sync '${peerOut}' && rm -f '${peerOut}'`));
    await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true });
    coldZstd.push(await measure<BuildOut>(worker, ['build', zstdConfig]));
    await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true });
    cold.push(await measure<BuildOut>(worker, ['build', config]));
    noop.push(await measure<BuildOut>(worker, ['build', config]));
    const m = await mutateGame({ dir, mb: opts.changeMb, seed: `bench-${Date.now()}-${i}` });
    age();
    change.push({ ...(await measure<BuildOut>(worker, ['build', config])), changed: m.totals.bytesChanged });
  }
  const med = (xs: number[]) => median(xs);
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const range = (xs: number[]) => `${s(Math.min(...xs))}–${s(Math.max(...xs))}`;
  const content = cold[0]!.result.contentBytes;
  const deflateRate = content / (med(deflate.map((d) => d.cpuMs)) / 1000);
  const coldRatePerCore = content / (med(cold.map((c) => c.cpuMs)) / 1000);
  const coldWall = med(cold.map((c) => c.ms));
  const md = `
### Build (issue 3) — generated game of ${formatBytes(content)}, ${cold[0]!.result.layers} layers, ${opts.runs} runs, medians (min–max)

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}, ${cores} cores (1-minute load average at the start: ${loadavg()[0]!.toFixed(1)}), gzip level 1; this VM's page cache does not keep the whole game, so reads are partly from disk.

| measurement | wall time | CPU time | peak RSS | bytes | ratio |
| --- | --- | --- | --- | --- | --- |
| baseline: zlib raw deflate of every file, one thread | ${s(med(deflate.map((d) => d.ms)))} (${range(deflate.map((d) => d.ms))}) | ${s(med(deflate.map((d) => d.cpuMs)))} | | ${formatBytes(deflate[0]!.result.bytes)} → ${formatBytes(deflate[0]!.result.compressed)} | ${(deflateRate / 1e6).toFixed(0)} MB per CPU-second = 1 |
| for the level choice: zlib level 6, one thread | ${s(deflate6[0]!.ms)} | ${s(deflate6[0]!.cpuMs)} | | ${formatBytes(deflate6[0]!.result.bytes)} → ${formatBytes(deflate6[0]!.result.compressed)} | ${(deflate6[0]!.result.bytes / 1e6 / (deflate6[0]!.cpuMs / 1000)).toFixed(0)} MB per CPU-second; output ${((100 * (deflate[0]!.result.compressed - deflate6[0]!.result.compressed)) / deflate[0]!.result.compressed).toFixed(1)} % smaller than level 1 |
| cold build (scan, tar, gzip, store) | ${s(coldWall)} (${range(cold.map((c) => c.ms))}) | ${s(med(cold.map((c) => c.cpuMs)))} | ${Math.max(...cold.map((c) => c.maxRssMiB)).toFixed(0)} MiB | ${formatBytes(cold[0]!.result.bytesTotal)} written | ${(coldRatePerCore / 1e6).toFixed(0)} MB per CPU-second = ${(coldRatePerCore / deflateRate).toFixed(2)}× the limit; ${(content / 1e6 / (coldWall / 1000)).toFixed(0)} MB/s wall |
| no-op rebuild | ${s(med(noop.map((c) => c.ms)))} (${range(noop.map((c) => c.ms))}) | ${s(med(noop.map((c) => c.cpuMs)))} | ${Math.max(...noop.map((c) => c.maxRssMiB)).toFixed(0)} MiB | ${formatBytes(med(noop.map((c) => c.result.bytesNew)))} new | ${(med(noop.map((c) => c.ms)) / coldWall).toFixed(3)}× the cold build |
| ${opts.changeMb} MB app-media change (modify, resize, add, delete) | ${s(med(change.map((c) => c.ms)))} (${range(change.map((c) => c.ms))}) | ${s(med(change.map((c) => c.cpuMs)))} | ${Math.max(...change.map((c) => c.maxRssMiB)).toFixed(0)} MiB | ${formatBytes(med(change.map((c) => c.result.bytesNew)))} new of ${formatBytes(med(change.map((c) => c.result.bytesTotal)))} (${med(change.map((c) => c.result.built))} layers rebuilt) | new bytes = ${(med(change.map((c) => c.result.bytesNew / c.changed))).toFixed(2)}× the changed bytes, ${((100 * med(change.map((c) => c.result.bytesNew))) / med(change.map((c) => c.result.bytesTotal))).toFixed(1)} % of the image |

Cold build against \`tar\` on every core (issue 17; ${cores} cores, same trees, same run; each peer once with its output
discarded and once stored in a synced file as gamelayer stores its blobs, the fair comparison; the target is on wall time, ≤ 1.5× with both compressions; on a shared machine the CPU times
are the steadier comparison):

| measurement | wall time | CPU time | ratio (wall; CPU) |
| --- | --- | --- | --- |
| \`tar\` alone | ${s(med(peers.tar.map((p) => p.ms)))} (${range(peers.tar.map((p) => p.ms))}) | ${s(med(peers.tar.map((p) => p.cpuMs)))} | |
| \`tar \\| pigz -1 -p${cores}\` | ${s(med(peers.pigz.map((p) => p.ms)))} (${range(peers.pigz.map((p) => p.ms))}) | ${s(med(peers.pigz.map((p) => p.cpuMs)))} | 1 |
| \`tar \\| pigz -1 -p${cores}\` into a file, synced (stored as the build stores its blobs) | ${s(med(peers.pigzFile.map((p) => p.ms)))} (${range(peers.pigzFile.map((p) => p.ms))}) | ${s(med(peers.pigzFile.map((p) => p.cpuMs)))} | 1 (the fair peer) |
| cold build, gzip layers (level 1) | ${s(coldWall)} | ${s(med(cold.map((c) => c.cpuMs)))} | **${(coldWall / med(peers.pigz.map((p) => p.ms))).toFixed(2)}×** \`tar \\| pigz\`, **${(coldWall / med(peers.pigzFile.map((p) => p.ms))).toFixed(2)}×** the one into a file; CPU ${(med(cold.map((c) => c.cpuMs)) / med(peers.pigz.map((p) => p.cpuMs))).toFixed(2)}×, ${(med(cold.map((c) => c.cpuMs)) / med(peers.pigzFile.map((p) => p.cpuMs))).toFixed(2)}× |
| \`tar \\| zstd -1 -T${cores}\` | ${s(med(peers.zstd1.map((p) => p.ms)))} (${range(peers.zstd1.map((p) => p.ms))}) | ${s(med(peers.zstd1.map((p) => p.cpuMs)))} | 1 |
| \`tar \\| zstd -3 -T${cores}\` (gamelayer's zstd level before issue 17's cold-I/O round) | ${s(med(peers.zstd3.map((p) => p.ms)))} (${range(peers.zstd3.map((p) => p.ms))}) | ${s(med(peers.zstd3.map((p) => p.cpuMs)))} | |
| \`tar \\| zstd -1 -T${cores}\` into a file, synced | ${s(med(peers.zstd1File.map((p) => p.ms)))} (${range(peers.zstd1File.map((p) => p.ms))}) | ${s(med(peers.zstd1File.map((p) => p.cpuMs)))} | 1 (the fair peer) |
| cold build, zstd layers (level ${DEFAULT_ZSTD_LEVEL}; CPU with its \`zstd\` processes) | ${s(med(coldZstd.map((c) => c.ms)))} (${range(coldZstd.map((c) => c.ms))}) | ${s(med(coldZstd.map(zstdCpu)))} | **${(med(coldZstd.map((c) => c.ms)) / med(peers.zstd1.map((p) => p.ms))).toFixed(2)}×** \`tar \\| zstd -1\`, **${(med(coldZstd.map((c) => c.ms)) / med(peers.zstd1File.map((p) => p.ms))).toFixed(2)}×** the one into a file, ${(med(coldZstd.map((c) => c.ms)) / med(peers.zstd3.map((p) => p.ms))).toFixed(2)}× \`tar \\| zstd -3\`; CPU ${(med(coldZstd.map(zstdCpu)) / med(peers.zstd1.map((p) => p.cpuMs))).toFixed(2)}×, ${(med(coldZstd.map(zstdCpu)) / med(peers.zstd3.map((p) => p.cpuMs))).toFixed(2)}× |

The cold build's CPU includes scanning (xxh64 of every byte) and tar as well as compression; paks that look random
are stored, not deflated, which is why it can beat the deflate baseline per CPU-second. A changed tree gets a patch
layer (the files added or modified, whiteouts for those removed) on top of the previous build's layers, so the new
bytes follow the changed bytes rather than the size of the layers they fall in (README, "Patch layers").
`;
  process.stdout.write(md);
  await writeReportSection('build', md);
  await writeFile(path.join(OUT_DIR, 'build.json'), JSON.stringify({ cold, noop, change, deflate, deflate6, coldZstd, peers }, null, 2));
}
