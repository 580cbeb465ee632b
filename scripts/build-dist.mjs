// Bundles the CLI into dist/ with esbuild (run by `npm ci` through the prepare script), so a start costs
// plain Node instead of transpiling TypeScript on the fly. bin/gamelayer.js uses the bundle only while it is
// newer than every file under src/; otherwise it runs the sources through tsx.
import { build } from 'esbuild';
import { readdir, stat, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');

async function newestSourceMtime(dir) {
  let newest = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? await newestSourceMtime(p) : (await stat(p)).mtimeMs);
  }
  return newest;
}

const sourceMtime = await newestSourceMtime(path.join(root, 'src'));
await rm(dist, { recursive: true, force: true });
await build({
  entryPoints: { cli: path.join(root, 'src/cli/main.ts'), 'gzip-worker': path.join(root, 'src/oci/gzip-worker.ts') },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});
await writeFile(path.join(dist, 'stamp.json'), JSON.stringify({ sourceMtime }));
