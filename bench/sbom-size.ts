// SBOM size (issue 22): the CycloneDX document's bytes depend on the number of files and their paths, not on
// their bytes, so the seed's 3.1 GB game is stood in for by a generated game with its 4030 files (compare.ts's
// seed) at 40 MB. Builds it for real, makes the SBOM from the layer blobs and prints the sizes; then the same for
// the bundled sample game.  Run: npx tsx bench/sbom-size.ts [files]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { generateGame } from '../fixtures/generator/generate.js';
import { build } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { OciStore } from '../src/oci/store.js';
import { formatBytes } from '../src/report/reporter.js';
import { makeBuildSbom } from '../src/sbom/attach.js';

async function measure(label: string, configFile: string): Promise<void> {
  const config = await loadConfig(configFile);
  const built = await build({ config });
  const store = await OciStore.open(built.store, { create: false });
  let t = performance.now();
  const first = await makeBuildSbom(config, store, built.record);
  const cold = performance.now() - t;
  t = performance.now();
  await makeBuildSbom(config, store, built.record); // layer hashes cached: what a no-op build pays
  const warm = performance.now() - t;
  const gz = gzipSync(first.bytes).length;
  process.stdout.write(
    `${label}: ${first.files} files → SBOM ${formatBytes(first.bytes.length)} (${first.bytes.length} bytes; gzip ${formatBytes(gz)}), ` +
      `${Math.round(first.bytes.length / first.files)} bytes per file; made in ${(cold / 1000).toFixed(2)} s from the layers, ${(warm / 1000).toFixed(2)} s cached\n`,
  );
}

const files = Number(process.argv[2] ?? 4030);
const dir = await mkdtemp(path.join(os.tmpdir(), 'gl-sbom-bench-'));
try {
  await generateGame({ out: dir, size: 40e6, files, seed: 'bench-compare', game: 'compare-game' });
  await measure(`generated game (${files} files, as the 3.1 GB seed game)`, path.join(dir, 'gamelayer.yaml'));
  const sample = path.join(dir, 'sample');
  execFileSync('sh', ['-c', 'mkdir -p "$2" && cd "$1" && tar --exclude=./.gamelayer -cf - . | (cd "$2" && tar -xf -)', 'sh', path.resolve('fixtures/sample-game'), sample]);
  await measure('sample game', path.join(sample, 'gamelayer.yaml'));
} finally {
  await rm(dir, { recursive: true, force: true });
}
