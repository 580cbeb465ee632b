// npm run bench -- regions [--regions-size 300MB] [--runs 3]: one build pushed to two registries, by one
// `gamelayer push A B` against two `gamelayer push` runs (issue 21). Each run gets four fresh local registries (each
// behind a counting proxy), so every push is cold. Per process: wall time, and what /proc/<pid>/io says it read —
// rchar (bytes through read(), page cache included) and read_bytes (bytes that came from the storage device). The
// store's blob files are dropped from the page cache (fadvise DONTNEED through dd iflag=nocache, those files only)
// before each measured process, so read_bytes counts what the push really read from disk.
import { execFile } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generateGame } from '../fixtures/generator/generate.js';
import { formatBytes } from '../src/report/reporter.js';
import { startRegistry, type TestRegistry } from '../test/support/registry.js';
import { BENCH_DIR, machine, median, writeReportSection } from './lib.js';
import { startCountingProxy, type CountingProxy } from './registry-proxy.js';

const run = promisify(execFile);
const BIN = path.join(BENCH_DIR, '..', 'bin', 'gamelayer.js');

export interface RegionsOptions {
  size: number;
  runs: number;
}

interface Measured {
  wallMs: number;
  rchar: number;
  readBytes: number;
  sent: number;
}

export async function regionsBench(o: RegionsOptions): Promise<void> {
  const work = path.join(os.tmpdir(), `gl-bench-regions-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  const game = path.join(work, 'game');
  const gen = await generateGame({ out: game, size: o.size, seed: 'bench-regions', game: 'regions-game' });
  const hook = path.join(work, 'io-hook.cjs');
  await writeFile(hook, "process.on('exit', () => { if (process.env.GL_IO_OUT) require('fs').writeFileSync(process.env.GL_IO_OUT, require('fs').readFileSync('/proc/self/io')); });\n");
  await run(process.execPath, [BIN, 'build', '--tag', 'v1'], { cwd: game, maxBuffer: 64 << 20 });
  const blobsDir = path.join(game, '.gamelayer', 'oci', 'blobs', 'sha256');
  const blobs = await readdir(blobsDir);
  const storeBytes = (await Promise.all(blobs.map(async (b) => (await readFile(path.join(blobsDir, b))).length))).reduce((a, b) => a + b, 0);
  const dropCache = async () => {
    for (const b of blobs) await run('dd', [`if=${path.join(blobsDir, b)}`, 'iflag=nocache', 'count=0', 'status=none']);
  };
  const push = async (refs: string[], proxies: CountingProxy[]): Promise<Measured> => {
    await dropCache();
    const out = path.join(work, 'io');
    const before = proxies.reduce((n, p) => n + p.counts().uploadBytes, 0);
    const t0 = Date.now();
    await run(process.execPath, [BIN, 'push', ...refs], { cwd: game, env: { ...process.env, NODE_OPTIONS: `--require ${hook}`, GL_IO_OUT: out }, maxBuffer: 64 << 20 });
    const wallMs = Date.now() - t0;
    const io = await readFile(out, 'utf8');
    const field = (k: string) => Number(new RegExp(`${k}: (\\d+)`).exec(io)?.[1] ?? NaN);
    return { wallMs, rchar: field('rchar'), readBytes: field('read_bytes'), sent: proxies.reduce((n, p) => n + p.counts().uploadBytes, 0) - before };
  };
  const singles: Measured[] = [];
  const multis: Measured[] = [];
  try {
    for (let i = 0; i < o.runs; i++) {
      const registries: TestRegistry[] = [];
      const proxies: CountingProxy[] = [];
      try {
        for (let k = 0; k < 4; k++) {
          const r = await startRegistry();
          registries.push(r);
          proxies.push(await startCountingProxy({ host: '127.0.0.1', port: Number(r.host.split(':')[1]) }));
        }
        const ref = (k: number) => `${proxies[k]!.host}/bench/regions:v1`;
        // Alternate the order, so neither side always runs on a warmer machine.
        const single = async () => {
          const a = await push([ref(0)], [proxies[0]!]);
          const b = await push([ref(1)], [proxies[1]!]);
          singles.push({ wallMs: a.wallMs + b.wallMs, rchar: a.rchar + b.rchar, readBytes: a.readBytes + b.readBytes, sent: a.sent + b.sent });
        };
        const multi = async () => multis.push(await push([ref(2), ref(3)], [proxies[2]!, proxies[3]!]));
        if (i % 2 === 0) {
          await single();
          await multi();
        } else {
          await multi();
          await single();
        }
      } finally {
        for (const p of proxies) await p.close();
        for (const r of registries) await r.stop();
      }
    }
    const row = (name: string, ms: Measured[]) => {
      const m = (k: keyof Measured) => median(ms.map((x) => x[k]));
      const range = (k: keyof Measured, f: (n: number) => string) => `${f(m(k))} (${f(Math.min(...ms.map((x) => x[k])))}–${f(Math.max(...ms.map((x) => x[k]))) })`;
      return `| ${name} | ${range('wallMs', (n) => `${(n / 1000).toFixed(2)} s`)} | ${range('readBytes', formatBytes)} | ${range('rchar', formatBytes)} | ${formatBytes(m('sent'))} |`;
    };
    const md = [
      `### Several registries (issue 21) — one push to two registries against two pushes, ${o.runs} runs, medians (min–max)`,
      '',
      `Game ${formatBytes(gen.bytes)} (generated, seed bench-regions), built once: ${blobs.length} store blobs, ${formatBytes(storeBytes)}. Each run pushes it cold to four fresh local registries (docker-registry behind a counting proxy): two \`gamelayer push REPO:v1\` processes one after the other, and one \`gamelayer push REPO1:v1 REPO2:v1\`. ${machine()}, 2 cores shared with other work.`,
      '',
      '| push | wall time | read from disk (read_bytes) | read by the process (rchar) | sent to the registries |',
      '| --- | --- | --- | --- | --- |',
      row('two single pushes (sum of both processes)', singles),
      row('one push to both registries', multis),
      '',
      'read_bytes is what came from the storage device: the store blobs were dropped from the page cache before each process. rchar also counts page-cache hits, socket reads and Node loading its own modules (about the same in every process).',
      '',
      '```',
      `npm run bench -- regions --regions-size ${Math.round(o.size / 1e6)}MB --runs ${o.runs}`,
      '```',
    ].join('\n');
    process.stdout.write(`${md}\n`);
    await writeReportSection('regions', md);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
