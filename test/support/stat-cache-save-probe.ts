// Run as a child process (`node --max-semi-space-size=1 --expose-gc --import tsx test/support/stat-cache-save-probe.ts
// FILE N`): reserves and records N files with distinct stats in a StatCache, saves it to FILE, and prints as JSON how
// many bytes the old generation grew by during the save (no GC between: what the save leaves there for a full GC).
import v8 from 'node:v8';
import { StatCache, type ReservedFile } from '../../src/scan/stat-cache.js';

const [file, count] = process.argv.slice(2);
const n = Number(count);
const cache = await StatCache.open(file!);
const files: ReservedFile[] = [];
for (let i = 0; i < n; i++) files.push({ path: `d${i >> 10}/f${i}`, size: i, xxh64: (0x1000000000000000 + i).toString(16) });
cache.attach(files);
const base = 1_700_000_000_000;
for (let i = 0; i < n; i++) {
  const k: [number, number, number, number] = [i, base + i * 1.25, base + i * 1.5, 1_000_000 + i];
  cache.record(cache.reserve(i, k), k, base * 2);
}
const oldUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;
(globalThis as { gc?: () => void }).gc!();
const before = oldUsed();
await cache.save();
process.stdout.write(JSON.stringify({ oldGrowth: oldUsed() - before, rows: n }));
