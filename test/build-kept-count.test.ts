// `build` on a fresh host keeps the previous build's layers in the registry and says how many. The count took the
// tree markers in, while the summary line below counts the table's rows and the markers apart: "7 layers kept in
// the registry" over "4 reused; and 4 tree markers" did not add up. Every reused row of a fresh host is kept there.
import { describe, expect, it } from 'vitest';
import { dailyOnFreshHost } from './support/fresh-host-daily.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

describe('build: layers kept in the registry', () => {
  it('counts the rows of the table, as the summary line does, the tree markers apart', async () => {
    // A fresh host (no .gamelayer/): every layer it reuses is the previous build's, left in the registry.
    const r = await dailyOnFreshHost(await tempDir('gl-kept-count-'), ['--push', `${registry.host}/studio/kept`]);
    const kept = /(\d+) layers? kept in the registry \(not downloaded\)/.exec(r.stdout);
    const summary = /^layers: (\d+) built, (\d+) reused;.*; and (\d+) tree markers?$/m.exec(r.stdout);
    expect(kept, r.stdout).not.toBeNull();
    expect(summary, r.stdout).not.toBeNull();
    const reusedRows = r.stdout.split('\n').filter((l) => / reused +sha256:/.test(l)).length;
    expect(Number(summary![2])).toBe(reusedRows);
    expect(Number(kept![1])).toBe(reusedRows);
  }, 180_000);
});
