// `npm run bench -- stamp-pass`: what the stamp pass (src/cli/fast-noop/stamp-pass.ts) costs a real build and saves
// the first re-run after it, on the peers game (bench/peers.ts). Two copies of the game, each pushing to a repository
// of its own: one with the fast path as shipped (the build ends with the pass, the re-run is answered from its
// stamp), one with GAMELAYER_NO_FAST_NOOP=1 (no pass, no stamp: the re-run is the full path's, as before stop 50).
// Each round edits a few small app files in both (times an hour back, as a day's checkout: the pass can stamp), then
// runs `build --push` and the same command once more, the variants in alternating order. Wall and CPU (user + system)
// of each command from /usr/bin/time; bytes sent counted at a proxy in front of the registry.
import { cp, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { mutateGame } from '../fixtures/generator/mutate.js';
import { formatBytes } from '../src/report/reporter.js';
import { startRegistry } from '../test/support/registry.js';
import { OUT_DIR, machine, median, writeReportSection } from './lib.js';
import { CLI, edit, fromMutate, peersGame, timedCpu } from './peers.js';
import { startCountingProxy } from './registry-proxy.js';

export interface StampPassOptions {
  size: number;
  runs: number;
}

const VARIANTS = [
  { name: 'with the stamp pass (as shipped)', env: {} },
  { name: 'without (GAMELAYER_NO_FAST_NOOP=1)', env: { GAMELAYER_NO_FAST_NOOP: '1' } },
] as const;

interface PassSample {
  variant: number;
  run: number;
  build: { wallMs: number; cpuMs: number };
  rerun: { wallMs: number; cpuMs: number };
  rerunSent: number;
  load: number;
}

export async function stampPassBench(opts: StampPassOptions): Promise<void> {
  const log = (m: string) => process.stderr.write(`stamp-pass: ${m}\n`);
  const pristine = await peersGame(opts.size, log);
  const registry = await startRegistry();
  const [host, port] = registry.host.split(':');
  const proxy = await startCountingProxy({ host: host!, port: Number(port) });
  const samples: PassSample[] = [];
  try {
    const dirs = await Promise.all(VARIANTS.map(async (_, i) => {
      const dir = path.join(OUT_DIR, `stamp-pass-work-${opts.size}-${i}`);
      await rm(dir, { recursive: true, force: true });
      await cp(pristine, dir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      return dir;
    }));
    const command = (i: number) => [CLI, 'build', '-c', path.join(dirs[i]!, 'gamelayer.yaml'), '--tag', 'pass', '--push', `${proxy.host}/bench/stamp-pass-${i}`];
    const env = (i: number) => ({ GAMELAYER_LINE: 'bench', ...VARIANTS[i]!.env });
    // The cold build and a first no-op of each, untimed: code caches and state as on a host that builds daily.
    for (let i = 0; i < VARIANTS.length; i++) {
      await timedCpu(process.execPath, command(i), env(i));
      await timedCpu(process.execPath, command(i), env(i));
    }
    for (let run = 0; run < opts.runs; run++) {
      const order = run % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) {
        await edit(dirs[i]!, () => mutateGame({ dir: dirs[i]!, seed: `stamp-pass/r${run}`, smallAppChanges: 8 }).then(fromMutate('small app files edited')));
        const load = loadavg()[0]!;
        const build = await timedCpu(process.execPath, command(i), env(i));
        const before = proxy.counts().uploadBytes;
        const rerun = await timedCpu(process.execPath, command(i), env(i));
        samples.push({ variant: i, run, build, rerun, rerunSent: proxy.counts().uploadBytes - before, load });
        log(`run ${run + 1} ${VARIANTS[i]!.name}: build ${(build.wallMs / 1000).toFixed(3)} s, re-run ${(rerun.wallMs / 1000).toFixed(3)} s`);
      }
    }
  } finally {
    await proxy.close();
    await registry.stop();
  }
  const md = stampPassReport(opts, samples);
  process.stdout.write(md);
  await writeReportSection('stamp-pass', md);
}

function stampPassReport(opts: StampPassOptions, samples: PassSample[]): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
  const of = (i: number) => samples.filter((x) => x.variant === i);
  const loads = samples.map((x) => x.load);
  const rows = VARIANTS.map((v, i) => {
    const xs = of(i);
    const m = (f: (x: PassSample) => number) => median(xs.map(f));
    return `| ${v.name} | ${s(m((x) => x.build.wallMs))} (CPU ${s(m((x) => x.build.cpuMs))}) | ${s(m((x) => x.rerun.wallMs))} (CPU ${s(m((x) => x.rerun.cpuMs))}) | ${s(m((x) => x.build.wallMs + x.rerun.wallMs))} | ${formatBytes(Math.max(...xs.map((x) => x.rerunSent)))} |`;
  });
  // Paired by round: the two variants ran back to back.
  const paired = (f: (x: PassSample) => number) => median(of(0).map((a) => f(a) - f(of(1).find((b) => b.run === a.run)!)));
  return [
    `### The stamp pass (issue 17) — a real build and its first re-run, ${opts.runs} rounds, medians`,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}; the peers game (${formatBytes(opts.size)}), 8 small app files edited per round, each variant its own copy and repository; 1-minute load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}.`,
    '',
    '| variant | `build --push` after the edit | the same command again (first re-run) | both | re-run sent |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Paired differences (with − without, per round, median): build wall ${paired((x) => x.build.wallMs).toFixed(0)} ms, CPU ${paired((x) => x.build.cpuMs).toFixed(0)} ms; first re-run wall ${paired((x) => x.rerun.wallMs).toFixed(0)} ms, CPU ${paired((x) => x.rerun.cpuMs).toFixed(0)} ms; both ${paired((x) => x.build.wallMs + x.rerun.wallMs).toFixed(0)} ms.`,
    '',
  ].join('\n');
}
