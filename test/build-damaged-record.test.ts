// A build record that parses but lies (a layer's entries no longer match its key, or the layers no longer unpack
// to the recorded manifest) is not built on: the next build says so and plans every tree afresh, and the image
// still unpacks (umoci) to exactly the sources.
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import type { Reporter } from '../src/report/reporter.js';
import { silentReporter } from '../src/report/reporter.js';
import type { BuildRecord } from '../src/types.js';
import { describeTree } from './support/compare-trees.js';
import { sampleGame } from './support/sample.js';

function collecting(): Reporter & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentReporter, warn: (m: string) => void warnings.push(m), warnings };
}

const damages: [string, (r: BuildRecord) => void, RegExp][] = [
  [
    'a layer whose entries no longer give its inputKey',
    (r) => {
      const l = r.plan.layers.find((x) => x.tree === 'app-media')!;
      const f = l.entries.find((e) => e.type === 'file')!;
      f.xxh64 = '0123456789abcdef';
    },
    /is damaged: app-media layer 0: its entries do not match its inputKey sha256:[0-9a-f]{64}; planning every tree afresh$/,
  ],
  [
    'a manifest its layers do not unpack to',
    (r) => {
      const m = r.manifests.find((x) => x.tree === 'app')!;
      m.entries = m.entries.filter((e) => e.path !== 'config/game.xml');
    },
    /is damaged: app: its layers do not unpack to its recorded manifest \(config\/game\.xml differs\); planning every tree afresh$/,
  ],
];

describe('build on a damaged record', () => {
  for (const [what, damage, warning] of damages) {
    it(`${what}: warns, plans every tree afresh, and the image equals the sources`, async () => {
      const { dir, game, config } = await sampleGame();
      await build({ config });
      const last = path.join(game, '.gamelayer/records/build-last.json');
      const record = JSON.parse(await readFile(last, 'utf8')) as BuildRecord;
      damage(record);
      await writeFile(last, JSON.stringify(record));
      await writeFile(path.join(game, 'app/config/server.cfg'), 'port=2\n');

      const reporter = collecting();
      const next = await build({ config, reporter });
      expect(reporter.warnings).toHaveLength(1);
      expect(reporter.warnings[0]).toContain(`the previous build record (${last}) is damaged`);
      expect(reporter.warnings[0]).toMatch(warning);
      expect(next.summary.trees.map((t) => t.decision)).toEqual(['fresh', 'fresh', 'fresh', 'fresh']);
      expect(next.summary.layers.some((l) => l.patch)).toBe(false);

      const bundle = path.join(dir, 'bundle');
      execFileSync('umoci', ['unpack', '--rootless', '--image', `${next.store}:1.0.0`, bundle], { stdio: 'pipe' });
      for (const t of ['engine-media', 'app', 'app-media']) {
        expect(await describeTree(path.join(bundle, 'rootfs/opt/local', t))).toEqual(await describeTree(path.join(game, t)));
      }
    });
  }
});
