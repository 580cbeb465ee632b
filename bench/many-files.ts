// Many-files benchmark (issue 17): cold build of a generated game of N small files next to the peer limit on the
// same tree, measured in the same run: `tar -cf - | pigz -1 -p<cores>`; and the cold build with zstd layers next to
// `tar -cf - | zstd -1 -T<cores>`. Optionally also the cold build of another
// gamelayer checkout (`--many-files-baseline DIR`, a tree with a built dist/) for before/after figures.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { generateGame } from '../fixtures/generator/generate.js';
import { formatBytes } from '../src/report/reporter.js';
import { TREE_NAMES } from '../src/types.js';
import { BENCH_DIR, OUT_DIR, machine, median, writeReportSection } from './lib.js';

export interface ManyFilesBenchOptions {
  files: number;
  size: number;
  runs: number;
  /** A gamelayer checkout with dist/ built: its cold build is measured beside this one's. */
  baseline?: string;
  /** Instead of a generated game: this many empty files (app-media, 1000 per folder), the per-entry cost alone. */
  empty?: number;
}

/** A game of `n` empty files in app-media (1000 per folder) and one small file in each other tree. */
async function writeEmptyGame(dir: string, n: number): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const t of TREE_NAMES) await mkdir(path.join(dir, t), { recursive: true });
  for (const t of TREE_NAMES.filter((x) => x !== 'app-media')) await writeFile(path.join(dir, t, 'README'), `${t}\n`);
  await writeFile(path.join(dir, 'engine', 'start.sh'), '#!/bin/sh\n', { mode: 0o755 });
  for (let d = 0; d * 1000 < n; d++) {
    const sub = path.join(dir, 'app-media', `d${String(d).padStart(4, '0')}`);
    mkdirSync(sub);
    for (let i = d * 1000; i < Math.min(n, (d + 1) * 1000); i++) closeSync(openSync(path.join(sub, `f${i}`), 'w'));
  }
  await writeFile(
    path.join(dir, 'gamelayer.yaml'),
    `game: empty-files\nversion: 1.0.0\nbaseImage: scratch\nstart: ["/opt/local/engine/start.sh"]\ntrees:\n${TREE_NAMES.map((t) => `  ${t}:\n    source: ./${t}\n`).join('')}`,
  );
  // Old enough that the stat cache keeps every file (racy window).
  execFileSync('find', [dir, '-exec', 'touch', '-h', '-d', '1 hour ago', '{}', '+']);
}

interface Timed {
  ms: number;
  cpuMs: number;
  maxRssMiB: number;
  out: string;
}

/** Runs a command under /usr/bin/time: wall time, CPU (user + sys) and peak RSS of the process tree's largest. */
async function timed(cmd: string, args: string[]): Promise<Timed> {
  const started = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-f', 'TIMED %U %S %M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`);
  const m = /TIMED ([\d.]+) ([\d.]+) (\d+)/.exec(err);
  if (!m) throw new Error(`no /usr/bin/time line from ${cmd}`);
  return { ms, cpuMs: (Number(m[1]) + Number(m[2])) * 1000, maxRssMiB: Number(m[3]) / 1024, out: out + err };
}

/** The scan's share of a build, from the CLI summary line `…; scan 5.57s, total 19.54s …`. */
function scanMs(out: string): number | undefined {
  const m = /scan ([\d.]+)s, total/.exec(out);
  return m ? Number(m[1]) * 1000 : undefined;
}

export async function manyFilesBench(opts: ManyFilesBenchOptions): Promise<void> {
  const dir = path.join(OUT_DIR, opts.empty ? `many-empty-${opts.empty}` : `many-files-${opts.files}-${opts.size}`);
  const config = path.join(dir, 'gamelayer.yaml');
  if (opts.empty && !(await readFile(config, 'utf8').then(() => true, () => false))) {
    process.stderr.write(`writing ${opts.empty} empty files into ${dir}\n`);
    await writeEmptyGame(dir, opts.empty);
  } else if (!(await readFile(config, 'utf8').then(() => true, () => false))) {
    process.stderr.write(`generating ${opts.files} files, ${formatBytes(opts.size)} into ${dir}\n`);
    await generateGame({ out: dir, size: opts.size, files: opts.files, seed: 'bench-many-files' });
  }
  const root = path.dirname(BENCH_DIR);
  execFileSync(process.execPath, [path.join(root, 'scripts/build-dist.mjs'), '--if-changed'], { stdio: 'inherit' });
  const cores = availableParallelism();
  const builds: { name: string; cli: string }[] = [{ name: 'gamelayer (this tree)', cli: path.join(root, 'dist/cli/main.js') }];
  if (opts.baseline) builds.push({ name: `gamelayer (baseline ${opts.baseline})`, cli: path.join(opts.baseline, 'dist/cli/main.js') });

  // The same game with zstd layers (its own config beside the first, same trees and state folder).
  const zstdConfig = path.join(dir, 'gamelayer-zstd.yaml');
  const doc = parse(await readFile(config, 'utf8')) as { layers?: Record<string, unknown> };
  doc.layers = { ...doc.layers, compression: 'zstd' };
  await writeFile(zstdConfig, stringify(doc));
  const zstdPeer: Timed[] = [];
  const zstdCold: Timed[] = [];

  const peer: Timed[] = [];
  /** The peer storing its output as the build stores its blobs: into a file on the same disk, synced. */
  const peerFile: Timed[] = [];
  const cold = new Map<string, Timed[]>(builds.map((b) => [b.name, []]));
  const scans: Timed[] = [];
  const loads: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    loads.push(loadavg()[0]!);
    // Everything read once first, so neither the peer (first) nor gamelayer pays for a cold page cache.
    execFileSync('bash', ['-c', `tar -cf - -C '${dir}' ${TREE_NAMES.join(' ')} | cat > /dev/null`]); // through cat: GNU tar skips reading when it writes to /dev/null
    // The peer reads the same four trees, in one tar stream, compressed at level 1 on every core.
    peer.push(await timed('bash', ['-c', `tar -cf - -C '${dir}' ${TREE_NAMES.join(' ')} | pigz -1 -p${cores} > /dev/null`]));
    const out = path.join(OUT_DIR, 'many-files-peer-out.gz');
    peerFile.push(await timed('bash', ['-o', 'pipefail', '-c', `tar -cf - -C '${dir}' ${TREE_NAMES.join(' ')} | pigz -1 -p${cores} > '${out}' && sync '${out}' && rm -f '${out}'`]));
    // The cold scan alone (walk, stat, hash every file): what the build's cost per entry is held against.
    await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true });
    scans.push(await timed(process.execPath, [builds[0]!.cli, 'scan', '-c', config]));
    for (const b of builds) {
      await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true });
      cold.get(b.name)!.push(await timed(process.execPath, [b.cli, 'build', '-c', config]));
    }
    zstdPeer.push(await timed('bash', ['-c', `tar -cf - -C '${dir}' ${TREE_NAMES.join(' ')} | zstd -1 -T${cores} -q > /dev/null`]));
    await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true });
    zstdCold.push(await timed(process.execPath, [builds[0]!.cli, 'build', '-c', zstdConfig]));
  }
  const bytes = Number(execFileSync('du', ['-sb', '--apparent-size', ...TREE_NAMES.map((t) => path.join(dir, t))]).toString().split('\n').reduce((n, l) => n + (Number(l.split('\t')[0]) || 0), 0));
  const entries = Number(execFileSync('bash', ['-c', `find ${TREE_NAMES.map((t) => `'${path.join(dir, t)}'`).join(' ')} | wc -l`]).toString().trim());
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const row = (name: string, xs: Timed[], peers: { ms: Timed[]; file?: Timed[] } = { ms: peer, file: peerFile }) => {
    const ms = median(xs.map((x) => x.ms));
    const scans = xs.map((x) => scanMs(x.out)).filter((x): x is number => x !== undefined);
    const scan = scans.length ? median(scans) : undefined;
    const writeMs = scan !== undefined ? ms - scan : undefined;
    return `| ${name} | ${s(ms)} (${s(Math.min(...xs.map((x) => x.ms)))}–${s(Math.max(...xs.map((x) => x.ms)))}) | ${s(median(xs.map((x) => x.cpuMs)))} | ${Math.max(...xs.map((x) => x.maxRssMiB)).toFixed(0)} MiB | ${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s | ${(ms / entries).toFixed(3)} ms${writeMs !== undefined ? ` (scan ${s(scan!)}, rest ${(writeMs / entries).toFixed(3)} ms per entry)` : ''} | ${(ms / median(peers.ms.map((p) => p.ms))).toFixed(2)}×${peers.file ? `; ${(ms / median(peers.file.map((p) => p.ms))).toFixed(2)}× the peer into a file` : ` \`tar \\| zstd -1\``} |`;
  };
  const md = `
### Many ${opts.empty ? 'empty' : 'small'} files (issue 17) — ${entries} entries, ${formatBytes(bytes)}, ${opts.runs} runs, medians (min–max)

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}, ${cores} cores shared with other work (1-minute load
average at the start of each run: ${loads.map((l) => l.toFixed(1)).join(', ')}), gzip level 1 (the last two rows zstd level 1), cold builds (state dir
removed before each; the trees read once just before, so the page cache holds them for everyone). Peak RSS is the largest process of the command (\`/usr/bin/time\`). \`npm run bench -- many-files
[--many-files N] [--many-files-size 400MB] [--many-files-baseline DIR] [--many-files-empty 1000000]\`.

| measurement | wall time | CPU time | peak RSS | throughput | per entry | ratio to peer |
| --- | --- | --- | --- | --- | --- | --- |
| peer: \`tar -cf - \\| pigz -1 -p${cores}\` | ${s(median(peer.map((p) => p.ms)))} (${s(Math.min(...peer.map((p) => p.ms)))}–${s(Math.max(...peer.map((p) => p.ms)))}) | ${s(median(peer.map((p) => p.cpuMs)))} | ${Math.max(...peer.map((p) => p.maxRssMiB)).toFixed(0)} MiB | ${(bytes / 1e6 / (median(peer.map((p) => p.ms)) / 1000)).toFixed(1)} MB/s | ${(median(peer.map((p) => p.ms)) / entries).toFixed(3)} ms | 1 |
| peer into a file: \`tar -cf - \\| pigz -1 -p${cores} > file && sync file\` (stored as the build stores its blobs) | ${s(median(peerFile.map((p) => p.ms)))} (${s(Math.min(...peerFile.map((p) => p.ms)))}–${s(Math.max(...peerFile.map((p) => p.ms)))}) | ${s(median(peerFile.map((p) => p.cpuMs)))} | ${Math.max(...peerFile.map((p) => p.maxRssMiB)).toFixed(0)} MiB | ${(bytes / 1e6 / (median(peerFile.map((p) => p.ms)) / 1000)).toFixed(1)} MB/s | ${(median(peerFile.map((p) => p.ms)) / entries).toFixed(3)} ms | ${(median(peerFile.map((p) => p.ms)) / median(peer.map((p) => p.ms))).toFixed(2)}× |
${builds.map((b) => row(`cold build, ${b.name}`, cold.get(b.name)!)).join('\n')}
| peer: \`tar -cf - \\| zstd -1 -T${cores}\` | ${s(median(zstdPeer.map((p) => p.ms)))} (${s(Math.min(...zstdPeer.map((p) => p.ms)))}–${s(Math.max(...zstdPeer.map((p) => p.ms)))}) | ${s(median(zstdPeer.map((p) => p.cpuMs)))} | ${Math.max(...zstdPeer.map((p) => p.maxRssMiB)).toFixed(0)} MiB | ${(bytes / 1e6 / (median(zstdPeer.map((p) => p.ms)) / 1000)).toFixed(1)} MB/s | ${(median(zstdPeer.map((p) => p.ms)) / entries).toFixed(3)} ms | ${(median(zstdPeer.map((p) => p.ms)) / median(peer.map((p) => p.ms))).toFixed(2)}× the gzip peer |
${row('cold build, zstd layers (level 1), this tree', zstdCold, { ms: zstdPeer })}
| cold scan alone (\`gamelayer scan\`, this tree) | ${s(median(scans.map((x) => x.ms)))} | ${s(median(scans.map((x) => x.cpuMs)))} | ${Math.max(...scans.map((x) => x.maxRssMiB)).toFixed(0)} MiB | | ${(median(scans.map((x) => x.ms)) / entries).toFixed(3)} ms | ${(median(scans.map((x) => x.ms)) / median(peer.map((p) => p.ms))).toFixed(2)}× |

Per run (load at its start; wall, CPU): ${peer.map((p, i) => `load ${loads[i]!.toFixed(1)}: peer ${s(p.ms)}, ${s(p.cpuMs)}; into a file ${s(peerFile[i]!.ms)}, ${s(peerFile[i]!.cpuMs)}; ${builds.map((b) => `${b.name} ${s(cold.get(b.name)![i]!.ms)}, ${s(cold.get(b.name)![i]!.cpuMs)}, ${cold.get(b.name)![i]!.maxRssMiB.toFixed(0)} MiB`).join('; ')}`).join(' | ')}.

Cold build / cold scan (wall, medians): ${(median(cold.get(builds[0]!.name)!.map((x) => x.ms)) / median(scans.map((x) => x.ms))).toFixed(2)}× (target ≤ 3× for 1M entries); peak RSS of the cold build ${Math.max(...cold.get(builds[0]!.name)!.map((x) => x.maxRssMiB)).toFixed(0)} MiB (target ≤ 256 MiB).

A cold build (no previous build, no layer cache) reads each file once: the layer writer takes its xxh64 from the bytes it
packs and checks size and times against the walk's stat (docs/architecture.md, "One read per file"); the cold scan
alone reads and hashes every file. The first peer neither hashes nor stores its output; the second stores it, as
the build does (its blobs are written and synced): the ratio to that one is the fair one.
`;
  process.stdout.write(md);
  await writeReportSection(opts.empty ? 'many-empty-files' : 'many-files', md);
}
