// Compiles src/ to dist/ (JavaScript and .d.ts, tsconfig.build.json): what the package ships and what
// bin/gamelayer.js runs. `npm ci` and `npm pack` run it through the prepare script. With --if-changed it does
// nothing when dist/ was built from exactly the current sources (a hash of their content, not file times: npm
// gives every installed file the install time), which the test setup uses so tests always run current code.
// The new tree is compiled beside dist/ and swapped in, so a reader never sees half of one.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const HASH_FILE = '.source-hash';

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function sourceHash() {
  const h = createHash('sha256');
  for (const f of [...sourceFiles(path.join(root, 'src')), path.join(root, 'tsconfig.json'), path.join(root, 'tsconfig.build.json')]) {
    h.update(`${path.relative(root, f)}\0`).update(readFileSync(f)).update('\0');
  }
  return h.digest('hex');
}

const hash = sourceHash();
if (process.argv.includes('--if-changed')) {
  try {
    if (readFileSync(path.join(dist, HASH_FILE), 'utf8') === hash) process.exit(0);
  } catch {
    // no dist yet, or built by an older script: build
  }
}

const require = createRequire(import.meta.url);
const tsPackage = require.resolve('typescript/package.json');
const tscBin = path.join(path.dirname(tsPackage), JSON.parse(readFileSync(tsPackage, 'utf8')).bin.tsc);
const staging = `${dist}.${process.pid}.tmp`;
rmSync(staging, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [tscBin, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', staging], { stdio: 'inherit' });
if (tsc.status !== 0) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`build-dist: tsc failed (exit ${tsc.status ?? tsc.signal})`);
  process.exit(1);
}
writeFileSync(path.join(staging, HASH_FILE), hash);
const old = `${dist}.${process.pid}.old`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(staging, dist);
rmSync(old, { recursive: true, force: true });
