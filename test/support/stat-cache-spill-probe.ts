// Run as a child process (`node --expose-gc --import tsx test/support/stat-cache-spill-probe.ts N`): reserves N files
// in each of 3 stat caches, then moves their reserved stats to files (`spillReserved`), and prints as JSON the
// process's array buffer bytes before and after (a full GC before each measure).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StatCache, type ReservedFile } from '../../src/scan/stat-cache.js';

const n = Number(process.argv[2]);
const dir = mkdtempSync(path.join(tmpdir(), 'gl-spill-'));
const gc = (globalThis as { gc?: () => void }).gc!;
const caches: StatCache[] = [];
for (let c = 0; c < 3; c++) {
  const cache = await StatCache.open(path.join(dir, `c${c}.json`));
  const files: ReservedFile[] = [];
  for (let i = 0; i < n; i++) files.push({ path: `f${i}`, size: 0 });
  cache.attach(files);
  for (let i = 0; i < n; i++) cache.reserve(i, [0, 1_700_000_000_000 + i, 1_700_000_000_000 + i, i]);
  caches.push(cache);
}
gc();
const before = process.memoryUsage().arrayBuffers;
for (const c of caches) c.spillReserved();
// Dead array buffers' memory is counted off once the GC's sweep ran: after a turn of the event loop.
gc();
await new Promise((resolve) => setTimeout(resolve, 50));
gc();
const after = process.memoryUsage().arrayBuffers;
process.stdout.write(JSON.stringify({ before, after }));
rmSync(dir, { recursive: true, force: true });
