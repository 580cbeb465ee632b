// The scan's progress moves while one big file is hashed, not only once it is done: a 3 GB pak used to hold the
// bar at "0 B/3.00 GiB" for the whole of its read. The ticks add up to the tree's bytes exactly.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Reporter } from '../src/report/reporter.js';
import { scanTree } from '../src/scan/scan.js';
import { tempDir } from './support/tmp.js';
import { writeTree } from './support/trees.js';

describe('scan progress on a big file', () => {
  it('ticks for every MiB read of a 5 MiB file, and the ticks sum to the bytes hashed', async () => {
    const root = await tempDir();
    await writeTree(path.join(root, 'tree'), { 'small.cfg': 'x=1\n' });
    await writeFile(path.join(root, 'tree/big.pak'), Buffer.alloc(5 * 1024 * 1024 + 123, 7));
    const ticks: number[] = [];
    let total = 0;
    const reporter: Reporter = {
      info() {},
      warn() {},
      task(_label, t) {
        total = t;
        return { tick: (n) => void ticks.push(n), done() {} };
      },
    };
    const scan = await scanTree('app-media', path.join(root, 'tree'), { include: ['**'], exclude: [] }, { stateDir: path.join(root, 'state'), reporter });
    expect(scan.stats.hashedBytes).toBe(5 * 1024 * 1024 + 123 + 4);
    expect(total).toBe(scan.stats.hashedBytes);
    expect(ticks.reduce((s, n) => s + n, 0)).toBe(total);
    // The big file's bytes arrive in its 1 MiB reads: six of them (5 whole MiB and the rest), not one tick.
    expect(ticks.filter((n) => n === 1024 * 1024)).toHaveLength(5);
  });
});
