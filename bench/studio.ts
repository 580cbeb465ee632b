// npx tsx bench/studio.ts [nomount]: the figures of docs/studio.md. Three copies of the sample game on one engine
// build (a 16 MiB engine-media file that does not compress) with a 4 MiB asset of their own, each pushed to its own
// repository of one local registry (games B and C with `mountFrom:` unless `nomount`), over four days: first builds,
// an engine upgrade, two hotfixes. After each day a private containerd pulls the three builds in turn: bytes fetched
// (its content store) and layers unpacked (new snapshots, `ctr snapshots usage`). Prints; writes nothing here.
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { prng } from '../test/support/prng.js';
import { startContainerd } from '../test/support/private-containerd.js';
import { startRegistry } from '../test/support/registry.js';
import { BENCH_DIR } from './lib.js';

const run = promisify(execFile);
const BIN = path.join(BENCH_DIR, '..', 'bin', 'gamelayer.js');
const SAMPLE = path.join(BENCH_DIR, '..', 'fixtures', 'sample-game');
const MiB = 1 << 20;
const GAMES = ['a', 'b', 'c'];
const UNITS: Record<string, number> = { B: 1, kB: 1e3, KiB: 1024, MB: 1e6, MiB: MiB, GB: 1e9, GiB: 1 << 30 };

/** `12.3 MiB` as ctr prints a size, in bytes. */
function ctrBytes(line: string): number {
  const m = /\s(\d+(?:\.\d+)?)\s?(B|kB|KiB|MB|MiB|GB|GiB)\b/.exec(line);
  return m ? Number(m[1]) * UNITS[m[2]!]! : 0;
}

async function main(): Promise<void> {
  const mount = process.argv[2] !== 'nomount';
  const root = await mkdtemp(path.join(os.tmpdir(), 'gl-bench-studio-'));
  const registry = await startRegistry();
  const node = await startContainerd();
  const mib = (n: number) => `${(n / MiB).toFixed(2)} MiB`;
  try {
    const engine = prng('studio engine', 16 * MiB);
    for (const g of GAMES) {
      const dir = path.join(root, `game-${g}`);
      cpSync(SAMPLE, dir, { recursive: true });
      rmSync(path.join(dir, '.gamelayer'), { recursive: true, force: true });
      writeFileSync(path.join(dir, 'engine-media/Shaders/Cache/shared.bin'), engine);
      writeFileSync(path.join(dir, `app-media/own-${g}.pak`), prng(`game ${g}`, 4 * MiB));
      const yaml = readFileSync(path.join(dir, 'gamelayer.yaml'), 'utf8').replace('game: sample-game', `game: game-${g}`);
      writeFileSync(path.join(dir, 'gamelayer.yaml'), `${yaml}${mount && g !== 'a' ? 'mountFrom: [studio/game-a, studio/game-b]\n' : ''}`);
    }
    const contentBytes = async () => (await node.ctr('content', 'ls')).trim().split('\n').slice(1).reduce((n, l) => n + ctrBytes(l), 0);
    const snapshots = async () => (await node.ctr('snapshots', 'ls')).trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0]!);
    const day = async (tag: string) => {
      let sent = 0;
      for (const g of GAMES) {
        const { stdout } = await run('node', [BIN, 'build', '--tag', tag, '--push', `${registry.host}/studio/game-${g}`, '--json'], { cwd: path.join(root, `game-${g}`), maxBuffer: 64 << 20 });
        const push = (JSON.parse(stdout) as { push: { bytesSent: number; blobs: { mounted: number; uploaded: number } } }).push;
        sent += push.bytesSent;
        console.log(`  push game-${g}:${tag}: sent ${mib(push.bytesSent)}, ${push.blobs.mounted} mounted, ${push.blobs.uploaded} uploaded`);
      }
      console.log(`  sent in all: ${mib(sent)}`);
      for (const g of GAMES) {
        const [c0, s0] = [await contentBytes(), await snapshots()];
        await node.ctr('images', 'pull', '--plain-http', `${registry.host}/studio/game-${g}:${tag}`);
        const fresh = (await snapshots()).filter((s) => !s0.includes(s));
        let unpacked = 0;
        for (const s of fresh) unpacked += ctrBytes((await node.ctr('snapshots', 'usage', s)).split('\n')[1] ?? '');
        console.log(`  node pulls game-${g}:${tag}: fetched ${mib((await contentBytes()) - c0)}, unpacked ${fresh.length} layers (${mib(unpacked)})`);
      }
    };
    const write = (g: string, file: string, bytes: Buffer | string) => writeFileSync(path.join(root, `game-${g}`, file), bytes);
    console.log(`day 1: first builds${mount ? '' : ' (no mountFrom)'}`);
    await day('1.0.0');
    console.log('day 2: engine upgrade (2 MiB of the 16 MiB file rewritten, a 1 MiB file added); game A adds a 3 MiB asset');
    const upgraded = Buffer.concat([prng('engine upgrade', 2 * MiB), engine.subarray(2 * MiB)]);
    const added = prng('engine added', MiB);
    for (const g of GAMES) {
      write(g, 'engine-media/Shaders/Cache/shared.bin', upgraded);
      write(g, 'engine-media/Shaders/Cache/added.bin', added);
    }
    write('a', 'app-media/day2.pak', prng('game a day 2', 3 * MiB));
    await day('2.0.0');
    console.log('day 3: an engine hotfix (two small files)');
    for (const g of GAMES) {
      write(g, 'engine-media/Engine/Fonts/hotfix.font', 'hotfix\n');
      write(g, 'engine-media/Engine/Fonts/hotfix2.font', 'hotfix 2\n');
    }
    await day('3.0.0');
    console.log('day 4: a second hotfix; game A adds a 3 MiB asset');
    for (const g of GAMES) write(g, 'engine-media/Engine/Fonts/hotfix3.font', 'hotfix 3\n');
    write('a', 'app-media/day4.pak', prng('game a day 4', 3 * MiB));
    await day('4.0.0');
  } finally {
    await node.stop();
    await registry.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
