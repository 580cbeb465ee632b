// One build measurement in its own process: `build` (gamelayer build of the game), or the compression
// baseline `deflate` (every file of the game through node's zlib raw deflate at the build's level, one thread:
// the single-core compression limit on the same bytes). `deflate CONFIG LEVEL SAMPLE_BYTES` deflates only an
// even sample of the game's 1 MiB blocks (every k-th block, across all files), enough for the rate per CPU-second
// at a fraction of the time.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createDeflateRaw, deflateRawSync } from 'node:zlib';
import { build } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { DEFAULT_GZIP_LEVEL } from '../src/oci/gzip.js';
import { closeZstdWorkers } from '../src/oci/zstd.js';
import { walkDir } from '../src/scan/walk-dir.js';
import { TREE_NAMES } from '../src/types.js';
import { report } from './lib.js';

const [mode, configFile, levelArg, sampleArg] = process.argv.slice(2);
const level = levelArg ? Number(levelArg) : DEFAULT_GZIP_LEVEL;
const BLOCK = 1 << 20;
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

/** Every k-th 1 MiB block of the game, k chosen so about `target` bytes are deflated; the rest is never read. */
async function deflateSample(target: number): Promise<{ bytes: number; compressed: number; sampledOf: number }> {
  const files: { file: string; size: number }[] = [];
  let total = 0;
  for (const t of TREE_NAMES) {
    const root = config.trees[t].sources['*']!;
    for (const e of await walkDir(root, { include: ['**'], exclude: [] }, t)) {
      if (e.type !== 'file') continue;
      files.push({ file: path.join(root, e.path), size: e.size });
      total += e.size;
    }
  }
  const every = Math.max(1, Math.floor(total / BLOCK / Math.max(1, target / BLOCK)));
  const buf = Buffer.allocUnsafe(BLOCK);
  let block = 0;
  let bytes = 0;
  let compressed = 0;
  for (const f of files) {
    const blocks = Math.ceil(f.size / BLOCK);
    // The file's blocks that fall on the global stride; a file with none is not opened.
    const first = (every - (block % every)) % every;
    block += blocks;
    if (first >= blocks) continue;
    const fh = await open(f.file, 'r');
    try {
      for (let b = first; b < blocks; b += every) {
        const { bytesRead } = await fh.read(buf, 0, BLOCK, b * BLOCK);
        bytes += bytesRead;
        compressed += deflateRawSync(buf.subarray(0, bytesRead), { level }).length;
      }
    } finally {
      await fh.close();
    }
  }
  return { bytes, compressed, sampledOf: total };
}

await report(async () => {
  if (mode === 'deflate') return sampleArg ? deflateSample(Number(sampleArg)) : deflateAll();
  const r = await build({ config });
  // The build's zstd launcher reaped, so that its zstd processes' CPU is in this process's children's (report).
  await closeZstdWorkers();
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
