// collectOldGarbage (util/young-garbage.ts) frees what nothing holds any more at once: the stages of a build call it
// so that a scan's dropped stat cache blocks (memory outside V8's heap) are gone before the plan and the layers.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { collectOldGarbage } from '../src/util/young-garbage.js';

const held: { blocks?: Float64Array[] } = {};
/** 64 MiB of typed blocks, reachable only through `held` (no local of the test's frame keeps them). */
function hold(): void {
  held.blocks = Array.from({ length: 64 }, () => new Float64Array(1 << 17));
}

describe('collectOldGarbage', () => {
  it('frees dropped typed blocks', async () => {
    collectOldGarbage();
    await sleep(100);
    const before = process.memoryUsage().arrayBuffers;
    hold();
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(60 << 20);
    delete held.blocks;
    collectOldGarbage();
    // Their memory is given back by V8's sweeper just after the collection: waited for, a few times at most.
    for (let i = 0; i < 20 && process.memoryUsage().arrayBuffers - before >= 8 << 20; i++) await sleep(50);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 << 20);
  });
});
