// One scan measurement in its own process: `read` (baseline: read every file, no hash), `walk` (baseline:
// fast-glob walk with lstat, no cache), `cold` (scan with no stat cache) or `warm` (scan, cache in place).
import { open, rm } from 'node:fs/promises';
import pLimit from 'p-limit';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { scanGame } from '../src/scan/scan.js';
import { walkDir } from '../src/scan/walk-dir.js';
import { TREE_NAMES } from '../src/types.js';
import { report } from './lib.js';

const [mode, configFile] = process.argv.slice(2);
const config = await loadConfig(configFile!);

/** Reads every file the way the scan does (8 files at a time, 1 MiB reads), without hashing. */
async function readAll(): Promise<{ files: number; bytes: number }> {
  const limit = pLimit(8);
  let files = 0;
  let bytes = 0;
  for (const t of TREE_NAMES) {
    const root = config.trees[t].sources['*']!;
    const walked = (await walkDir(root, { include: ['**'], exclude: [] }, t)).filter((e) => e.type === 'file');
    await Promise.all(
      walked.map((e) =>
        limit(async () => {
          const buf = Buffer.allocUnsafe(1 << 20);
          const fh = await open(path.join(root, e.path), 'r');
          for (let n; (n = (await fh.read(buf, 0, buf.length, null)).bytesRead) > 0; ) bytes += n;
          await fh.close();
          files++;
        }),
      ),
    );
  }
  return { files, bytes };
}

async function walkAll(): Promise<{ entries: number }> {
  let entries = 0;
  for (const t of TREE_NAMES) entries += (await walkDir(config.trees[t].sources['*']!, { include: ['**'], exclude: [] }, t)).length;
  return { entries };
}

await report(async () => {
  switch (mode) {
    case 'read':
      return readAll();
    case 'walk':
      return walkAll();
    case 'cold':
    case 'warm': {
      if (mode === 'cold') await rm(path.join(config.stateDir, 'cache'), { recursive: true, force: true });
      const scan = await scanGame(config);
      return {
        files: scan.trees.reduce((n, t) => n + t.stats.files, 0),
        bytes: scan.trees.reduce((n, t) => n + t.stats.bytes, 0),
        hashedBytes: scan.trees.reduce((n, t) => n + t.stats.hashedBytes, 0),
        cacheHits: scan.trees.reduce((n, t) => n + t.stats.cacheHits, 0),
      };
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
});
