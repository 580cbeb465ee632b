// Before any test: compile src/ to dist/ when the sources changed since the last compile (a content hash), so the
// CLI the tests run (bin/gamelayer.js → dist/) is always the current code; and give the run a temp folder in memory.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useMemoryTempFolder } from './memory-tmp.js';

export default function setup(): () => void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  execFileSync(process.execPath, [path.join(root, 'scripts/build-dist.mjs'), '--if-changed'], { stdio: 'inherit' });
  return useMemoryTempFolder();
}
