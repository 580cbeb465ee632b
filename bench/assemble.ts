// npm run bench -- assemble: the init copy of a chunked tree (issue 20) against today's plain copy of the same tree,
// in one container of the busybox test base on the real Docker engine, both from a warm page cache. The image holds
// the tree twice: plain at /opt/plain, chunked (test/support/chunked-tree.ts, the on-image format) at
// /opt/local/app-media, with the native assembler in its chunk store as a chunked build puts it. The sh rows keep to
// the sh path (`native: false`), the native rows run the helper (xxh64 check, one pass). Each timed run copies
// into a fresh folder of one Docker volume; the time is taken inside the container (/proc/uptime, 10 ms steps), CPU
// time and peak RSS from the container's cgroup (v1) on the host.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CHUNK_MIN_FILE_SIZE } from '../src/config/schema.js';
import { copyScript } from '../src/k8s/scripts.js';
import { assemblerFor } from '../src/oci/assembler.js';
import { busyboxImage } from '../test/support/docker-images.js';
import { addNativeAssembler, writeChunkedTree } from '../test/support/chunked-tree.js';
import { OUT_DIR, machine, median, writeReportSection } from './lib.js';

export interface AssembleBenchOptions {
  /** Bytes of big files in the tree. */
  size: number;
  /** Size of each big file. */
  fileSize: number;
  /** Average chunk size. */
  chunkSize: number;
  runs: number;
  /** Worker counts of the assembling copy to measure (sh path and native assembler alike). */
  workers: number[];
  /**
   * Copy into a volume in memory (tmpfs) instead of one on the disk: no writeback, so the copy's own CPU work is what
   * is timed, not the disk other work on a shared machine is writing to (an emptyDir with `medium: Memory`).
   */
  tmpfs?: boolean;
}

interface Sample {
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
}

const MiB = 1024 * 1024;
const IMAGE = 'gamelayer-bench/assemble:1';
const SMALL_FILES = 200;

function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', maxBuffer: 64 * MiB }).trim();
}

/** The tree: big files of random bytes (every chunk distinct, as after a fresh build) and a few small ones. */
async function writeSource(dir: string, o: AssembleBenchOptions): Promise<void> {
  await mkdir(path.join(dir, 'paks'), { recursive: true });
  await mkdir(path.join(dir, 'config'), { recursive: true });
  const files = Math.max(1, Math.round(o.size / o.fileSize));
  for (let f = 0; f < files; f++) {
    const fh = await open(path.join(dir, 'paks', `data${f}.pak`), 'w');
    for (let written = 0; written < o.fileSize; written += MiB) await fh.write(randomBytes(Math.min(MiB, o.fileSize - written)));
    await fh.close();
  }
  for (let i = 0; i < SMALL_FILES; i++) await writeFile(path.join(dir, 'config', `c${i}.cfg`), randomBytes(4096));
}

/** Reads one value of a cgroup v1 file of the container. */
function cgroupValue(controller: string, id: string, file: string, key?: string): number {
  const text = readFileSync(`/sys/fs/cgroup/${controller}/docker/${id}/${file}`, 'utf8');
  if (key === undefined) return Number(text.trim());
  const line = text.split('\n').find((l) => l.startsWith(`${key} `));
  return Number(line?.split(' ')[1] ?? 0);
}

/** Runs `script` with `docker exec`, sampling the container's RSS every 20 ms. */
async function timed(container: string, id: string, script: string): Promise<Sample> {
  const wrapper = `set -eu; rm -rf /v/t; mkdir /v/t; sync; read a _ </proc/uptime; sh -c "$1"; read b _ </proc/uptime; echo "$a $b"`;
  const idleRss = cgroupValue('memory', id, 'memory.stat', 'total_rss');
  const cpu0 = cgroupValue('cpuacct', id, 'cpuacct.usage');
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, cgroupValue('memory', id, 'memory.stat', 'total_rss') - idleRss);
  }, 20);
  const child = spawn('docker', ['exec', container, 'sh', '-c', wrapper, 'bench', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`copy in the bench container exited ${code}: ${out}`);
  const [a, b] = out.trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
  return { seconds: b - a, cpuSeconds: (cgroupValue('cpuacct', id, 'cpuacct.usage') - cpu0) / 1e9, peakRssMiB: peak / MiB };
}

export async function assembleBench(o: AssembleBenchOptions): Promise<void> {
  const work = path.join(OUT_DIR, 'assemble');
  await rm(work, { recursive: true, force: true });
  const ctx = path.join(work, 'ctx');
  console.error(`assemble: writing a ${(o.size / 1e9).toFixed(2)} GB tree (${o.fileSize / MiB} MiB files) and its chunked form`);
  await writeSource(path.join(ctx, 'plain'), o);
  const chunked = await writeChunkedTree(path.join(ctx, 'plain'), path.join(ctx, 'chunked'), { minFileSize: DEFAULT_CHUNK_MIN_FILE_SIZE, chunkSize: o.chunkSize });
  const chunks = chunked.files.reduce((n, f) => n + f.chunks.length, 0);
  await addNativeAssembler(path.join(ctx, 'chunked'));
  const base = await busyboxImage();
  await writeFile(path.join(ctx, 'Dockerfile'), `FROM ${base}\nCOPY plain /opt/plain\nCOPY chunked /opt/local/app-media\n`);
  console.error('assemble: building the bench image');
  docker(['build', '-q', '-t', IMAGE, ctx]);
  await rm(work, { recursive: true, force: true });
  const volume = `gamelayer-bench-assemble-${randomBytes(3).toString('hex')}`;
  const tmpfsSize = Math.ceil((o.size * 1.5) / MiB) + 256;
  docker(['volume', 'create', ...(o.tmpfs ? ['--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', `o=size=${tmpfsSize}m`] : []), volume]);
  const container = docker(['run', '-d', '--network', 'none', '-v', `${volume}:/v`, IMAGE, 'sh', '-c', 'while :; do sleep 1000; done']);
  const load = os.loadavg()[0]!;
  const files = (w: number) => `${w} file${w > 1 ? 's' : ''} at a time`;
  const variants: { label: string; script: string }[] = [
    { label: 'plain copy, `cp -R -P` (today)', script: copyScript('app-media', '/opt/plain', '/v/t') },
    ...o.workers.map((w) => ({
      label: `assembling copy, sh path, ${files(w)}`,
      script: copyScript('app-media', '/opt/local/app-media', '/v/t', { chunked: true, workers: w, native: false }),
    })),
    ...o.workers.map((w) => ({
      label: `assembling copy, native assembler (xxh64), ${files(w)}`,
      script: copyScript('app-media', '/opt/local/app-media', '/v/t', { chunked: true, workers: w }),
    })),
  ];
  const results = new Map<string, Sample[]>(variants.map((v) => [v.label, []]));
  try {
    // Warm-up round (page cache of the image's files, the volume's first allocation), not counted.
    for (const v of variants) await timed(container, container, v.script);
    for (let r = 0; r < o.runs; r++) {
      // Alternate the order so drift on the shared machine hits every variant alike.
      const order = r % 2 === 0 ? variants : [...variants].reverse();
      for (const v of order) {
        const s = await timed(container, container, v.script);
        results.get(v.label)!.push(s);
        console.error(`assemble: run ${r + 1}: ${v.label}: ${s.seconds.toFixed(2)} s, CPU ${s.cpuSeconds.toFixed(2)} s, peak RSS ${s.peakRssMiB.toFixed(1)} MiB`);
      }
    }
  } finally {
    execFileSync('docker', ['rm', '-f', container], { stdio: 'ignore' });
    execFileSync('docker', ['volume', 'rm', '-f', volume], { stdio: 'ignore' });
    execFileSync('docker', ['rmi', '-f', IMAGE], { stdio: 'ignore' });
  }

  const loadEnd = os.loadavg()[0]!;
  const plainRuns = results.get(variants[0]!.label)!;
  const plain = median(plainRuns.map((s) => s.seconds));
  const plainCpu = median(plainRuns.map((s) => s.cpuSeconds));
  const rows = variants.map((v) => {
    const s = results.get(v.label)!;
    const secs = s.map((x) => x.seconds);
    const med = median(secs);
    const cpu = median(s.map((x) => x.cpuSeconds));
    // Each round's time against the plain copy of the same round (run next to it): steadier under a load that drifts.
    const paired = median(s.map((x, r) => x.seconds / plainRuns[r]!.seconds));
    return `| ${v.label} | ${secs.map((x) => `${x.toFixed(2)} s`).join(', ')} | **${med.toFixed(2)} s** | **${(med / plain).toFixed(2)}×** | ${paired.toFixed(2)}× | ${cpu.toFixed(2)} s | ${(cpu / plainCpu).toFixed(2)}× | ${Math.max(...s.map((x) => x.peakRssMiB)).toFixed(1)} MiB |`;
  });
  const gb = (chunked.files.reduce((n, f) => n + f.size, 0) / 1e9).toFixed(2);
  await writeReportSection(
    o.tmpfs ? 'assemble-tmpfs' : 'assemble',
    `### Assembling copy of a chunked tree (issue 20) — ${gb} GB of ${o.fileSize / MiB} MiB files, ${o.chunkSize / MiB} MiB chunks, ${o.runs} runs${o.tmpfs ? ', into a tmpfs volume' : ''}

Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}, ${os.cpus().length} cores shared with other work (1-minute load average
at the start: ${load.toFixed(1)}, at the end: ${loadEnd.toFixed(1)}); Docker ${docker(['version', '-f', '{{.Server.Version}}'])}, overlay2, the busybox test base (busybox
${execFileSync('/usr/bin/busybox', { encoding: 'utf8' }).split('\n')[0]!.split(' ')[1]} \`sha256sum\`, \`cat\`). The tree: ${chunked.files.length} big files (${chunks} chunks, each
stored once) and ${SMALL_FILES} files of 4 KiB; the same image holds it plain and chunked, and one container copies
either into a fresh folder of a Docker volume${o.tmpfs ? ' in memory (tmpfs: no disk writeback)' : ''} after an uncounted warm-up round (page cache warm). Time inside the
container; CPU time and peak RSS (above the idle container) from its cgroup. \`npm run bench -- assemble
[--assemble-size 1GB] [--assemble-file-size 128MiB] [--chunk-size 1MiB] [--assemble-workers 1,2] [--runs 3] [--assemble-tmpfs]\`.

| copy | runs | median | time ratio to the plain copy | median of each round's ratio | CPU time (median) | CPU ratio | peak RSS |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

The sh path writes the same bytes as the plain copy (\`cat\` of up to 256 chunks at a time into the file's
temporary) and then hashes every byte of every big file once (\`sha256sum\` of the temporary, read back from the page
cache). The native assembler (\`.gamelayer-chunks/assemble\`, ${(readFileSync(assemblerFor('linux/amd64')!.path).length / 1024).toFixed(0)} KiB static) writes each file in one pass:
each 128 KiB of a chunk read once into its thread's buffer, added to the file's xxh64 and written from there (no
read-back); N files at a time means N threads (at most the CPUs it may run on). The file's xxh64 is checked against
the recipe's; only when it does not match is each chunk hashed on its own (sha256, its name), to name the damaged
one. Memory: 128 KiB and the file's recipe per thread (docs/chunks.md, "The native assembler").`,
  );
  if (!existsSync(path.join(OUT_DIR))) await mkdir(OUT_DIR, { recursive: true });
}
