// Issue 17, memory: the CLI holds V8's young generation at 4 MiB semi-spaces (8 MiB committed), not V8's 16 MiB
// ones (32 MiB), however many objects survive: on a cold build of 1M entries that is 24 MiB of the peak RSS.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CAPPED_SEMI_SPACE } from '../src/util/young-generation.js';

describe('young generation cap', () => {
  it('keeps the CLI process at two 4 MiB semi-spaces while 1.5M objects survive', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/support/young-generation-probe.ts'], {
      cwd: path.join(import.meta.dirname, '..'),
    }).toString();
    const { youngGeneration, kept } = JSON.parse(out) as { youngGeneration: number; kept: number };
    expect(kept).toBe(1_500_000);
    expect(youngGeneration).toBeGreaterThan(0);
    expect(youngGeneration).toBeLessThanOrEqual(2 * CAPPED_SEMI_SPACE);
  }, 60_000);
});
