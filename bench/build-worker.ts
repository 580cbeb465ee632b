// One build measurement in its own process: `build` (gamelayer build of the game), or the compression
// baseline `deflate` (every file of the game through node's zlib raw deflate at the build's level, one thread:
// the single-core compression limit on the same bytes).
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createDeflateRaw } from 'node:zlib';
import { build } from '../src/build/build.js';
import { loadConfig } from '../src/config/load.js';
import { DEFAULT_GZIP_LEVEL } from '../src/oci/gzip.js';
import { walkDir } from '../src/scan/walk-dir.js';
import { TREE_NAMES } from '../src/types.js';
import { report } from './lib.js';

const [mode, configFile, levelArg] = process.argv.slice(2);
const level = levelArg ? Number(levelArg) : DEFAULT_GZIP_LEVEL;
const config = await loadConfig(configFile!);

async function deflateAll(): Promise<{ bytes: number; compressed: number }> {
  let bytes = 0;
  let compressed = 0;
  const sink = () => new Writable({ write: (c: Buffer, _e, cb) => ((compressed += c.length), cb()) });
  for (const t of TREE_NAMES) {
    const root = config.trees[t].sources['*']!;
    for (const e of await walkDir(root, { include: ['**'], exclude: [] }, t)) {
      if (e.type !== 'file') continue;
      bytes += e.size;
      await pipeline(createReadStream(path.join(root, e.path), { highWaterMark: 1 << 20 }), createDeflateRaw({ level }), sink());
    }
  }
  return { bytes, compressed };
}

await report(async () => {
  if (mode === 'deflate') return deflateAll();
  const r = await build({ config });
  return {
    built: r.summary.built,
    reused: r.summary.reused,
    bytesNew: r.summary.bytesNew,
    bytesTotal: r.summary.bytesTotal,
    contentBytes: r.summary.layers.reduce((n, l) => n + l.bytes, 0),
    contentBuilt: r.summary.layers.filter((l) => !l.reused).reduce((n, l) => n + l.bytes, 0),
    layers: r.summary.layers.length,
    scanMs: r.summary.scanMs,
  };
});
