// npm run bench -- studio [--studio-baseline DIR/bin/gamelayer.js] [--studio-nomount]: the figures of docs/studio.md.
// Three copies of the sample game on one engine build (a 16 MiB engine-media file that does not compress) with a 4 MiB
// asset of their own, each pushed to its own repository of one local registry (games B and C with `mountFrom:` unless
// --studio-nomount), over four days: first builds, an engine upgrade, two hotfixes; on day 1 a fourth game D is built
// on game A's build (`build --from A --push D`, no `mountFrom:`). Per build: bytes sent (`--json`), layers packed
// (`summary.built`) and the CLI's CPU seconds. After each day a private containerd pulls the three builds in turn:
// bytes fetched (its content store) and layers unpacked (new snapshots, `ctr snapshots usage`). With a baseline CLI
// (another checkout's) the same days run with it first, on fresh games and registry. Writes the section "studio".
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { prng } from '../test/support/prng.js';
import { startContainerd } from '../test/support/private-containerd.js';
import { startRegistry } from '../test/support/registry.js';
import { BENCH_DIR, machine, writeReportSection } from './lib.js';

const run = promisify(execFile);
const BIN = path.join(BENCH_DIR, '..', 'bin', 'gamelayer.js');
const SAMPLE = path.join(BENCH_DIR, '..', 'fixtures', 'sample-game');
const MiB = 1 << 20;
const GAMES = ['a', 'b', 'c'];
const UNITS: Record<string, number> = { B: 1, kB: 1e3, KiB: 1024, MB: 1e6, MiB: MiB, GB: 1e9, GiB: 1 << 30 };
/** Linux's USER_HZ: /proc's CPU times are in these ticks. */
const TICKS_PER_S = 100;

export interface StudioOptions {
  /** Another checkout's CLI, run first on the same days as the baseline. */
  baseline?: string;
  mount: boolean;
}

interface BuildFigures {
  game: string;
  sent: number;
  mounted: number;
  uploaded: number;
  packed: number;
  cpuS: number;
  /** The engine and engine-media layers of its images. */
  engine: { digest: string; size: number }[];
}

interface PullFigures {
  game: string;
  fetched: number;
  layers: number;
  unpacked: number;
}

interface DayFigures {
  title: string;
  builds: BuildFigures[];
  pulls: PullFigures[];
}

/** `12.3 MiB` as ctr prints a size, in bytes. */
function ctrBytes(line: string): number {
  const m = /\s(\d+(?:\.\d+)?)\s?(B|kB|KiB|MB|MiB|GB|GiB)\b/.exec(line);
  return m ? Number(m[1]) * UNITS[m[2]!]! : 0;
}

/** CPU seconds of this process's waited-for children so far (cutime + cstime of /proc/self/stat). */
function childCpuS(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command's name: field 3 is the state, so cutime and cstime (fields 16, 17) are at 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_S;
}

const mib = (n: number) => `${(n / MiB).toFixed(2)} MiB`;

/** The four days with one CLI, on fresh copies of the games and a fresh registry and node. */
async function days(bin: string, mount: boolean): Promise<DayFigures[]> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'gl-bench-studio-'));
  const registry = await startRegistry();
  const node = await startContainerd();
  const out: DayFigures[] = [];
  try {
    const engine = prng('studio engine', 16 * MiB);
    for (const g of [...GAMES, 'd']) {
      const dir = path.join(root, `game-${g}`);
      cpSync(SAMPLE, dir, { recursive: true });
      rmSync(path.join(dir, '.gamelayer'), { recursive: true, force: true });
      writeFileSync(path.join(dir, 'engine-media/Shaders/Cache/shared.bin'), engine);
      writeFileSync(path.join(dir, `app-media/own-${g}.pak`), prng(`game ${g}`, 4 * MiB));
      const yaml = readFileSync(path.join(dir, 'gamelayer.yaml'), 'utf8').replace('game: sample-game', `game: game-${g}`);
      writeFileSync(path.join(dir, 'gamelayer.yaml'), `${yaml}${mount && g !== 'a' && g !== 'd' ? 'mountFrom: [studio/game-a, studio/game-b]\n' : ''}`);
    }
    const build = async (g: string, args: string[]): Promise<BuildFigures> => {
      const cpu0 = childCpuS();
      const { stdout } = await run('node', [bin, 'build', ...args, '--json'], { cwd: path.join(root, `game-${g}`), maxBuffer: 64 << 20 });
      const cpuS = childCpuS() - cpu0;
      const json = JSON.parse(stdout) as { summary: { built: number; layers: { tree: string; digest: string; size: number }[] }; push: { bytesSent: number; blobs: { mounted: number; uploaded: number } } };
      const engine = json.summary.layers.filter((l) => l.tree === 'engine' || l.tree === 'engine-media').map((l) => ({ digest: l.digest, size: l.size }));
      const figures = { game: `game-${g}`, sent: json.push.bytesSent, mounted: json.push.blobs.mounted, uploaded: json.push.blobs.uploaded, packed: json.summary.built, cpuS, engine };
      console.log(`  ${figures.game} ${args.join(' ')}: sent ${mib(figures.sent)}, ${figures.mounted} mounted, ${figures.uploaded} uploaded; ${figures.packed} layers packed, CPU ${cpuS.toFixed(2)} s`);
      return figures;
    };
    const contentBytes = async () => (await node.ctr('content', 'ls')).trim().split('\n').slice(1).reduce((n, l) => n + ctrBytes(l), 0);
    const snapshots = async () => (await node.ctr('snapshots', 'ls')).trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]!);
    const day = async (title: string, tag: string, extra?: () => Promise<BuildFigures>) => {
      console.log(title);
      const builds: BuildFigures[] = [];
      for (const g of GAMES) builds.push(await build(g, ['--tag', tag, '--push', `${registry.host}/studio/game-${g}`]));
      if (extra) builds.push(await extra());
      const pulls: PullFigures[] = [];
      for (const g of GAMES) {
        const [c0, s0] = [await contentBytes(), await snapshots()];
        await node.ctr('images', 'pull', '--plain-http', `${registry.host}/studio/game-${g}:${tag}`);
        const fresh = (await snapshots()).filter((s) => !s0.includes(s));
        let unpacked = 0;
        for (const s of fresh) unpacked += ctrBytes((await node.ctr('snapshots', 'usage', s)).split('\n')[1] ?? '');
        pulls.push({ game: `game-${g}`, fetched: (await contentBytes()) - c0, layers: fresh.length, unpacked });
        console.log(`  node pulls game-${g}:${tag}: fetched ${mib(pulls.at(-1)!.fetched)}, unpacked ${fresh.length} layers (${mib(unpacked)})`);
      }
      out.push({ title, builds, pulls });
    };
    const write = (g: string, file: string, bytes: Buffer | string) => writeFileSync(path.join(root, `game-${g}`, file), bytes);
    // Game D builds on game A's build and pushes to a repository that holds none of it (no mountFrom: --from says where).
    await day('1: first builds; game D `build --from A --push D`', '1.0.0', () => build('d', ['--tag', '1.0.0', '--from', `${registry.host}/studio/game-a:1.0.0`, '--push', `${registry.host}/studio/game-d`]));
    const upgraded = Buffer.concat([prng('engine upgrade', 2 * MiB), engine.subarray(2 * MiB)]);
    const added = prng('engine added', MiB);
    for (const g of GAMES) {
      write(g, 'engine-media/Shaders/Cache/shared.bin', upgraded);
      write(g, 'engine-media/Shaders/Cache/added.bin', added);
    }
    write('a', 'app-media/day2.pak', prng('game a day 2', 3 * MiB));
    await day('2: engine upgrade (2 MiB of the 16 MiB file rewritten, a 1 MiB file added); A adds a 3 MiB asset', '2.0.0');
    for (const g of GAMES) {
      write(g, 'engine-media/Engine/Fonts/hotfix.font', 'hotfix\n');
      write(g, 'engine-media/Engine/Fonts/hotfix2.font', 'hotfix 2\n');
    }
    await day('3: engine hotfix (two small files)', '3.0.0');
    for (const g of GAMES) write(g, 'engine-media/Engine/Fonts/hotfix3.font', 'hotfix 3\n');
    write('a', 'app-media/day4.pak', prng('game a day 4', 3 * MiB));
    await day('4: another hotfix; A adds a 3 MiB asset', '4.0.0');
  } finally {
    await node.stop();
    await registry.stop();
    rmSync(root, { recursive: true, force: true });
  }
  return out;
}

const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);

/** The engine and engine-media layers some of the games' images hold and others do not: count and bytes. */
function drift(builds: BuildFigures[]): string {
  const all = new Map(builds.flatMap((b) => b.engine.map((l) => [l.digest, l.size] as const)));
  const apart = [...all].filter(([d]) => !builds.every((b) => b.engine.some((l) => l.digest === d)));
  return apart.length ? `${apart.length} (${mib(sum(apart.map(([, size]) => size)))})` : 'none';
}

function table(label: string, d: DayFigures[]): string {
  const rows = d.map((day) => {
    const cell = (f: (b: BuildFigures) => string) => day.builds.map(f).join(' + ');
    return `| ${day.title} | ${cell((b) => (b.sent / MiB).toFixed(2))} = ${mib(sum(day.builds.map((b) => b.sent)))} | ${cell((b) => String(b.packed))} | ${cell((b) => b.cpuS.toFixed(2))} = ${sum(day.builds.map((b) => b.cpuS)).toFixed(2)} s | ${drift(day.builds.filter((b) => GAMES.includes(b.game.slice(5))))} | ${day.pulls.map((p) => `${(p.fetched / MiB).toFixed(2)} / ${p.layers}`).join(', ')} |`;
  });
  const all = d.flatMap((day) => day.builds);
  return [
    `**${label}**: ${mib(sum(all.map((b) => b.sent)))} sent, ${sum(all.map((b) => b.packed))} layers packed, ${sum(all.map((b) => b.cpuS)).toFixed(1)} s of CPU over the four days.`,
    '',
    '| day | sent, MiB (A + B + C [+ D]) | layers packed | CPU s | engine layers not in all of A, B, C | node: fetched MiB / layers unpacked (A, B, C) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export async function studioBench(o: StudioOptions): Promise<void> {
  const started = new Date().toISOString().slice(0, 10);
  const load = os.loadavg()[0]!.toFixed(1);
  const runs: [string, DayFigures[]][] = [];
  if (o.baseline) {
    console.log(`baseline: ${o.baseline}`);
    runs.push([`baseline (${o.baseline})`, await days(o.baseline, o.mount)]);
  }
  console.log('this checkout');
  runs.push(['this checkout', await days(BIN, o.mount)]);
  const md = [
    `### Studio: three games on one engine build, one repository each (${o.mount ? 'B and C with `mountFrom: [studio/game-a, studio/game-b]`' : 'no `mountFrom:`'})`,
    '',
    `Measured ${started} on ${machine()}, ${os.availableParallelism()} cores (1-minute load average ${load} at the start), a CNCF`,
    'registry (distribution 2.8) and containerd 1.6, by `npm run bench -- studio' + (o.baseline ? ' --studio-baseline …' : '') + (o.mount ? '' : ' --studio-nomount') + '`. Per build: bytes sent',
    '(`--json`\'s `push.bytesSent`), layers packed (`summary.built`, tree markers included) and the CLI process\'s CPU',
    'seconds (user + system). Game D (day 1) is `build --from A:1.0.0 --push studio/game-d`, without `mountFrom:`.',
    '',
    ...runs.flatMap(([label, d]) => [table(label, d), '']),
  ].join('\n');
  await writeReportSection('studio', md);
  console.log(md);
}
