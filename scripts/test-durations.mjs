// Writes test/support/file-durations.json, the durations test/support/file-order.ts starts the longest test files
// first by, from the results vitest keeps after a run (node_modules/.vite/vitest/*/results.json). Run it after a
// full `npm test` on the CI machine (or pass the results file of one): a partial run's results would mix old and
// new durations.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function resultsFile() {
  if (process.argv[2]) return path.resolve(process.argv[2]);
  const dir = path.join(root, 'node_modules/.vite/vitest');
  const found = existsSync(dir) ? readdirSync(dir).map((d) => path.join(dir, d, 'results.json')).filter((f) => existsSync(f)) : [];
  if (found.length !== 1) {
    console.error(`test-durations: expected one vitest results file under ${dir}, found ${found.length}; pass its path`);
    process.exit(1);
  }
  return found[0];
}

const file = resultsFile();
const { results } = JSON.parse(readFileSync(file, 'utf8'));
const seconds = {};
for (const [key, { duration }] of [...results].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
  const rel = key.slice(key.indexOf(':') + 1);
  if (existsSync(path.join(root, rel))) seconds[rel] = Math.round(duration / 100) / 10;
}
const out = path.join(root, 'test/support/file-durations.json');
writeFileSync(out, `${JSON.stringify({ seconds }, null, 1)}\n`);
console.log(`test-durations: ${Object.keys(seconds).length} files written to ${path.relative(root, out)}`);
