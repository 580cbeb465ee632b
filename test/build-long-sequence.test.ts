// Many builds in a row on a generated game, each after seeded edits (assets modified, resized, added, removed,
// small app edits, an engine upgrade): patches, merges and compaction all happen, and after the sequence umoci
// unpacks the server image and a tree image to exactly the sources; the layer limit and the dead-byte limit hold.
import { execFileSync } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateGame } from '../fixtures/generator/generate.js';
import { mutateGame } from '../fixtures/generator/mutate.js';
import { build } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { TREE_NAMES } from '../src/types.js';
import { describeTree } from './support/compare-trees.js';
import { tempDir } from './support/tmp.js';

describe('build: a long seeded sequence of updates', () => {
  it('unpacks (umoci) to exactly the sources after 16 updates, within the layer and dead-byte limits', async () => {
    const root = await tempDir();
    const dir = path.join(root, 'game');
    await generateGame({ out: dir, size: 12e6, seed: 'long-sequence' });
    // A small target size, so that this small game has several layers per tree and big files of its own.
    await appendFile(path.join(dir, 'gamelayer.yaml'), 'layers:\n  targetSize: 512KiB\n  maxLayers: 40\n');
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const age = () => execFileSync('find', [dir, '-type', 'f', '-not', '-path', '*/.gamelayer/*', '-exec', 'touch', '-d', '1 hour ago', '{}', '+']);
    age();
    let result = await build({ config });
    const seen = new Set<string>();
    for (let day = 1; day <= 16; day++) {
      await mutateGame({ dir, seed: `long/${day}`, mb: 0.3 + (day % 4) * 0.2, smallAppChanges: 1 + (day % 3), engineUpgrade: day === 11 });
      age();
      result = await build({ config });
      for (const t of result.summary.trees) seen.add(t.decision);
      const content = result.scans.reduce((n, s) => n + s.manifest.entries.reduce((k, e) => k + e.size, 0), 0);
      expect(result.summary.layers.reduce((n, l) => n + l.bytes, 0)).toBeLessThanOrEqual(1.15 * content);
      expect(result.summary.layers.length).toBeLessThanOrEqual(40);
    }
    // The sequence went through patches and compaction, not only fresh plans.
    expect(seen).toContain('patched');
    expect(seen).toContain('compacted');

    const bundle = path.join(root, 'bundle');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${result.store}:1.0.0`, bundle], { stdio: 'pipe' });
    for (const t of TREE_NAMES) {
      expect(await describeTree(path.join(bundle, 'rootfs/opt/local', t)), t).toEqual(await describeTree(path.join(dir, t)));
    }
    const media = path.join(root, 'media');
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${result.store}:1.0.0-app-media`, media], { stdio: 'pipe' });
    expect(await describeTree(path.join(media, 'rootfs/opt/local/app-media'), (r) => r === '.gamelayer-tree')).toEqual(
      await describeTree(path.join(dir, 'app-media')),
    );
  }, 300_000);
});
