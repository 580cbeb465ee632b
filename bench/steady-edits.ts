// The steady bench's edits, day by day, written out for the simulator (steady-sim.ts `replay=FILE`): the daily
// mix of bench/steady.ts applied for real to a copy of the generated game (no build, no push), and each day's
// changes (path, op, sizes, bytes written) recorded. The simulator then plans exactly the real month's edits.
//   npx tsx bench/steady-edits.ts [SIZE_BYTES] [UPDATES] [SEED] > edits.json
import { cp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { generateGame } from '../fixtures/generator/generate.js';
import { OUT_DIR } from './lib.js';
import { dailyUpdate } from './steady.js';

const size = Number(process.argv[2] ?? 3.1e9);
const updates = Number(process.argv[3] ?? 30);
const seed = process.argv[4] ?? 'steady';
const pristine = path.join(OUT_DIR, `steady-game-${size}`);
if (!(await stat(path.join(pristine, 'gamelayer.yaml')).then(() => true, () => false))) {
  await rm(pristine, { recursive: true, force: true });
  await generateGame({ out: pristine, size, seed: 'bench-steady', game: 'steady-game' });
}
const dir = path.join(OUT_DIR, `steady-edits-${size}`);
await rm(dir, { recursive: true, force: true });
await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
const days = [];
try {
  for (let day = 1; day <= updates; day++) {
    const { changes, what } = await dailyUpdate(dir, day, { size, updates, seed });
    days.push({ day, what, changes });
    process.stderr.write(`day ${day}: ${what.join(', ')}\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify({ size, updates, seed, days })}\n`);
