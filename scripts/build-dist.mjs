// Compiles src/ to dist/ (JavaScript and .d.ts, tsconfig.build.json): the library the package ships. Beside it,
// dist/cli-bundle/ is the CLI as an esbuild bundle, which bin/gamelayer.js runs: a command then loads a handful of
// files instead of about 400 modules, compiled from a V8 code cache (start-up time, issue 17). `npm ci` and `npm pack` run this script through the
// prepare script. With --if-changed it does nothing when dist/ was built from exactly the current inputs (a hash of
// their content, not file times: npm gives every installed file the install time), which the test setup uses so
// tests always run current code. The new tree is built beside dist/ and swapped in, so a reader never sees half of one.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as esbuild from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makePacks } from './cli-packs.mjs';

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
  // The bundle holds the dependencies too: the lock file (their versions) and this script (the bundle's options)
  // count as inputs.
  const inputs = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json', 'scripts/build-dist.mjs', 'scripts/cli-packs.mjs'].map((f) => path.join(root, f));
  for (const f of [...sourceFiles(path.join(root, 'src')), ...inputs.filter((f) => existsSync(f))]) {
    h.update(`${path.relative(root, f)}\0`).update(readFileSync(f)).update('\0');
  }
  return h.digest('hex');
}

const hash = sourceHash();
if (process.argv.includes('--if-changed')) {
  try {
    // Both halves: the hash is written once both are built, but either could have been removed since.
    const complete = existsSync(path.join(dist, 'index.js')) && existsSync(path.join(dist, 'cli-bundle', 'launch.js'));
    if (complete && readFileSync(path.join(dist, HASH_FILE), 'utf8') === hash) process.exit(0);
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
try {
  await bundleCli(path.join(staging, 'cli-bundle'));
} catch (e) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`build-dist: the CLI bundle failed: ${e.message}`);
  process.exit(1);
}
try {
  await precompileSbomSchema(staging);
} catch (e) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`build-dist: compiling the CycloneDX schema failed: ${e.message}`);
  process.exit(1);
}
writeFileSync(path.join(staging, HASH_FILE), hash);
const old = `${dist}.${process.pid}.old`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(staging, dist);
rmSync(old, { recursive: true, force: true });

/**
 * The CLI as a bundle with code splitting: main.js holds the frame (commander, errors, the version) and each
 * command's lazy import() is a chunk of its own, loaded only when that command runs. The gzip worker and the zstd
 * feed worker are entry points of their own, gzip-worker.js and zstd-feed-worker.js in the same folder as every
 * chunk, where oci/worker-start.ts looks for them (`new URL('./gzip-worker.js', import.meta.url)`, as in
 * dist/oci/). launch.js, what bin/gamelayer.js runs, loads
 * main.js with the V8 code cache (src/cli/code-cache.ts).
 *
 * esbuild splits ES modules only, and Node 20 caches the compilation of none (`vm.Script` takes cached data, ES
 * modules cannot without a flag): so the split ES modules are then each turned into CommonJS (esbuild's transform:
 * `import`/`export` become `require`/`module.exports`, a chunk's `import()` a `require` in a promise), in a folder
 * whose package.json says so. `import.meta.url` becomes the file's own URL, computed only in the few files that use
 * it (`pathToFileURL` in each of the 60 files a no-op build loads cost about 2 ms); every file is strict, as the
 * modules were.
 *
 * Left out of the bundle and loaded from node_modules at run time (direct dependencies, so they resolve from the
 * package; both load only for the commands that need them): dockerode (its ssh2 and cpu-features have native
 * addons) and the CycloneDX library (it reads its JSON schemas relative to its own __dirname, and its optional XML
 * plugins are not installed). Also left out: the KMS client, a CommonJS package src/ loads with import() (in an ES
 * module chunk esbuild made it export `default` alone; left out, it is required as itself).
 *
 * Then the chunks a no-op `build --push` loads are grouped into a few packs (scripts/cli-packs.mjs): each pack's
 * head is written as one file holding the chunks it imports statically, which then load from it instead of from
 * their own files (a no-op loaded 80 files, each costing about 0.3 ms however small).
 */
/**
 * `text` with each non-ASCII character of a comment line written as `\\uXXXX`. esbuild escapes them in strings,
 * templates and regular expressions (its ASCII charset) but leaves comments as they are, and one such character makes
 * the whole file non-ASCII: the launcher then decodes it as UTF-8 instead of Latin-1 (src/cli/bundle-source.ts,
 * about 3 ms of a start for the files a no-op build reads). A line that is not a comment is left as it is.
 */
function asciiComments(text) {
  if (!/[^\x00-\x7f]/.test(text)) return text;
  return text
    .split('\n')
    .map((line) => (/^\s*(\/\/|\/\*|\*)/.test(line) ? line.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : line))
    .join('\n');
}

async function bundleCli(outdir) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: 'src/cli/main.ts', launch: 'src/cli/launch.ts', 'gzip-worker': 'src/oci/gzip-worker.ts', 'zstd-feed-worker': 'src/oci/zstd-feed-worker.ts' },
    outdir,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['dockerode', '@cyclonedx/cyclonedx-library', '@aws-sdk/client-kms'],
    write: false,
    metafile: true,
    logLevel: 'warning',
  });
  mkdirSync(outdir, { recursive: true });
  writeFileSync(path.join(outdir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
  const texts = new Map();
  for (const file of result.outputFiles) {
    const usesUrl = file.text.includes('import.meta.url');
    const cjs = await esbuild.transform(file.text, {
      loader: 'js',
      format: 'cjs',
      target: 'node20',
      sourcefile: path.basename(file.path),
      define: { 'import.meta.url': '__gamelayerModuleUrl' },
      // A chunk's import() becomes a require() in a promise: no ES module loader, and compiled with the cache.
      supported: { 'dynamic-import': false },
      banner: usesUrl ? "'use strict';\nvar __gamelayerModuleUrl = require('node:url').pathToFileURL(module.filename).href;" : "'use strict';",
      logLevel: 'warning',
    });
    texts.set(path.basename(file.path), asciiComments(cjs.code));
  }
  // The metafile names files by their path from absWorkingDir; every output is in outdir, so its name alone.
  const outputs = {};
  for (const [p, out] of Object.entries(result.metafile.outputs)) {
    if (!p.endsWith('.js')) continue;
    const imports = out.imports.map((i) => ({ ...i, path: i.external ? i.path : path.basename(i.path) }));
    outputs[path.basename(p)] = { ...out, imports, entryPoint: out.entryPoint };
  }
  const packs = makePacks(texts, outputs);
  for (const [name, text] of texts) writeFileSync(path.join(outdir, name), packs.get(name) ?? text);
  await bundleFastNoop(outdir);
}

/**
 * The checked fast path of a no-op `build --push` (src/cli/fast-noop.ts), which bin/gamelayer.js tries before the
 * launcher: a bundle of its own, one CommonJS file with nothing shared with the CLI's chunks (each more file to read
 * is a cost on the path it exists to shorten), loaded without the code cache.
 */
async function bundleFastNoop(outdir) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/cli/fast-noop.ts'],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    write: false,
    define: { 'import.meta.url': '__gamelayerModuleUrl' },
    banner: { js: "'use strict';\nvar __gamelayerModuleUrl = require('node:url').pathToFileURL(module.filename).href;" },
    logLevel: 'warning',
  });
  writeFileSync(path.join(outdir, 'fast-noop.js'), asciiComments(result.outputFiles[0].text));
}

/**
 * The CycloneDX schema's validators compiled once, here, into dist/sbom/cyclonedx-validators.cjs (ajv's standalone
 * code, with the ajv set-up of the compiled src/sbom/cyclonedx-schema.js): a command that makes or reads an SBOM
 * then loads them (about 50 ms) instead of compiling the schema (about 250 ms of CPU). Its formats are those the
 * set-up adds, required from the same packages at run time.
 */
async function precompileSbomSchema(out) {
  const { _ } = require('ajv');
  const standaloneCode = require('ajv/dist/standalone').default;
  const schemaModule = await import(pathToFileURL(path.join(out, 'sbom', 'cyclonedx-schema.js')).href);
  const formats = _`{...require("ajv-formats/dist/formats").fullFormats, "idn-email": require("ajv-formats-draft2019/formats")["idn-email"], "iri-reference": true}`;
  const { ajv, keys } = await schemaModule.cycloneDxAjv({ source: true, formats });
  writeFileSync(path.join(out, 'sbom', schemaModule.PRECOMPILED_FILE), standaloneCode(ajv, keys));
}
