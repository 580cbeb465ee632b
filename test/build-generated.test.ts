// A generated game (the seed's shape, scaled down for the suite): a change of app-media adds about the changed
// bytes, a few % of the image, not the tree. The 3.1 GB / 50 MB figures are in bench/README.md.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateGame } from '../fixtures/generator/generate.js';
import { mutateGame } from '../fixtures/generator/mutate.js';
import { build } from '../src/pipeline/build.js';
import { loadConfig } from '../src/config/load.js';
import { tempDir } from './support/tmp.js';

describe('build: a generated game', () => {
  it('adds about the changed bytes for a scattered app-media change', async () => {
    const dir = path.join(await tempDir(), 'game');
    await generateGame({ out: dir, size: 200e6, seed: 'suite' });
    execFileSync('find', [dir, '-type', 'f', '-exec', 'touch', '-d', '1 hour ago', '{}', '+']);
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const first = await build({ config });
    const change = await mutateGame({ dir, mb: 5, seed: 'suite-change' });
    expect(change.changes.length).toBeGreaterThan(3);
    const second = await build({ config });
    const changed = change.totals.bytesWritten;
    expect(second.summary.bytesNew).toBeLessThan(1.3 * changed + 64 * 1024);
    expect(second.summary.bytesNew / second.summary.bytesTotal).toBeLessThan(0.05);
    expect(second.summary.trees.find((t) => t.tree === 'app-media')!.decision).toBe('patched');
    expect(second.summary.bytesTotal).toBeGreaterThan(first.summary.bytesTotal * 0.9);
  }, 180_000);
});
