// npm run bench -- batch-graph [--graph-size 200MB] [--change-mb 20]: bytes uploaded by the CodeBuild batch graph
// (issue 21) against one host building both platforms. A two-platform generated game (linux/amd64 and linux/arm64
// engines, shared app and media trees) is built and pushed twice (cold, then after a change of app-media): once by
// one host (`build --push`, both platforms), once as the batch graph runs it — the two platform jobs at the same
// time, each on a host of its own (its own .gamelayer/), then the merge job (`gamelayer index`). Each side pushes to
// its own fresh local registry behind a counting proxy: the bytes are what the registry received.
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generateGame } from '../fixtures/generator/generate.js';
import { mutateGame } from '../fixtures/generator/mutate.js';
import { formatBytes } from '../src/report/reporter.js';
import { startRegistry } from '../test/support/registry.js';
import { BENCH_DIR, machine, writeReportSection } from './lib.js';
import { startCountingProxy, type CountingProxy } from './registry-proxy.js';

const run = promisify(execFile);
const BIN = path.join(BENCH_DIR, '..', 'bin', 'gamelayer.js');

export interface BatchGraphOptions {
  size: number;
  changeMb: number;
}

/** Every file of `dir` gets one more byte: the same tree shape, other bytes (another architecture's binaries). */
async function otherArchitecture(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true });
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) await writeFile(p, Buffer.concat([await readFile(p), Buffer.from([0xaa])]));
    }
  };
  await walk(to);
}

export async function batchGraphBench(o: BatchGraphOptions): Promise<void> {
  const work = path.join(os.tmpdir(), `gl-bench-graph-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  const game = path.join(work, 'game');
  const gen = await generateGame({ out: game, size: o.size, seed: 'bench-batch-graph', game: 'graph-game' });
  await otherArchitecture(path.join(game, 'engine'), path.join(work, 'engine-arm64'));
  const yaml =
    `game: graph-game\nversion: 1.0.0\nstart: ["/opt/local/engine/start.sh"]\nplatforms: [linux/amd64, linux/arm64]\ntrees:\n` +
    `  engine: {source: {linux/amd64: ${path.join(game, 'engine')}, linux/arm64: ${path.join(work, 'engine-arm64')}}}\n` +
    `  engine-media: {source: ${path.join(game, 'engine-media')}}\n  app: {source: ${path.join(game, 'app')}}\n  app-media: {source: ${path.join(game, 'app-media')}}\n`;
  const host = async (name: string) => {
    const dir = path.join(work, name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'gamelayer.yaml'), yaml);
    return dir;
  };
  const hosts = { one: await host('one-host'), amd: await host('amd64-host'), arm: await host('arm64-host'), merge: await host('merge-host') };
  const registries = [await startRegistry(), await startRegistry()];
  const proxies: CountingProxy[] = [];
  for (const r of registries) proxies.push(await startCountingProxy({ host: '127.0.0.1', port: Number(r.host.split(':')[1]) }));
  const [oneRepo, graphRepo] = proxies.map((p) => `${p.host}/bench/graph`);
  const cli = (cwd: string, ...args: string[]) => run(process.execPath, [BIN, ...args], { cwd, maxBuffer: 64 << 20 });
  const sent = async (p: CountingProxy, f: () => Promise<unknown>) => {
    const before = p.counts().uploadBytes;
    const t0 = Date.now();
    await f();
    return { bytes: p.counts().uploadBytes - before, ms: Date.now() - t0 };
  };
  const oneHost = (tag: string) => sent(proxies[0]!, () => cli(hosts.one, 'build', '--push', oneRepo!, '--tag', tag, '--line', 'main'));
  const graph = async (tag: string) => {
    const p = proxies[1]!;
    const before = p.counts().uploadBytes;
    const t0 = Date.now();
    await Promise.all(
      (['amd', 'arm'] as const).map((h) => cli(hosts[h], 'build', '--platform', h === 'amd' ? 'linux/amd64' : 'linux/arm64', '--push', graphRepo!, '--tag', tag, '--line', 'main', '--media-wait', '5m')),
    );
    const platforms = p.counts().uploadBytes - before;
    await cli(hosts.merge, 'index', graphRepo!, '--tag', tag, '--line', 'main');
    return { bytes: p.counts().uploadBytes - before, platforms, ms: Date.now() - t0 };
  };
  try {
    const cold = { one: await oneHost('v1'), graph: await graph('v1') };
    const change = await mutateGame({ dir: game, mb: o.changeMb, seed: 'bench-batch-graph-change' });
    const next = { one: await oneHost('v2'), graph: await graph('v2') };
    const ratio = (a: number, b: number) => `${(a / b).toFixed(3)}×`;
    const md = [
      `### Batch graph (issue 21) — bytes uploaded by the CodeBuild batch graph against one host building both platforms`,
      '',
      `Game ${formatBytes(gen.bytes)} (generated, seed bench-batch-graph) with two platforms: the linux/arm64 engine is the amd64 one with one more byte per file (same shape, other bytes); app and media trees shared. Change: ${o.changeMb} MB of app-media (${formatBytes(change.totals.bytesWritten)} written). Graph: the two platform jobs at the same time on hosts of their own, then the merge job (\`gamelayer index\`); each side to its own fresh registry behind a counting proxy. One run, ${machine()}, 2 cores shared with other work.`,
      '',
      '| build | one host, both platforms: sent | batch graph: sent (platform jobs + merge job) | graph / one host | wall time one host / graph |',
      '| --- | --- | --- | --- | --- |',
      `| cold (empty registry) | ${formatBytes(cold.one.bytes)} | ${formatBytes(cold.graph.bytes)} (${formatBytes(cold.graph.platforms)} + ${formatBytes(cold.graph.bytes - cold.graph.platforms)}) | ${ratio(cold.graph.bytes, cold.one.bytes)} | ${(cold.one.ms / 1000).toFixed(1)} s / ${(cold.graph.ms / 1000).toFixed(1)} s |`,
      `| after the change | ${formatBytes(next.one.bytes)} | ${formatBytes(next.graph.bytes)} (${formatBytes(next.graph.platforms)} + ${formatBytes(next.graph.bytes - next.graph.platforms)}) | ${ratio(next.graph.bytes, next.one.bytes)} | ${(next.one.ms / 1000).toFixed(1)} s / ${(next.graph.ms / 1000).toFixed(1)} s |`,
      '',
      'The two platform jobs start together and run with `--media-wait 5m` (as the batch buildspec does): each sends its share of the shared media blobs and waits for the other job\'s share, so each goes up once (docs/codebuild.md; without the wait the cold graph sent 1.51× and a change day up to 2.0×); later builds keep the media layers from the merged record and send only what changed. The merge job sends the multi-platform indexes and the merged record.',
      '',
      '```',
      `npm run bench -- batch-graph --graph-size ${Math.round(o.size / 1e6)}MB --change-mb ${o.changeMb}`,
      '```',
    ].join('\n');
    process.stdout.write(`${md}\n`);
    await writeReportSection('batch-graph', md);
  } finally {
    for (const p of proxies) await p.close();
    for (const r of registries) await r.stop();
    await rm(work, { recursive: true, force: true });
  }
}
