// A cold build's scan moves each tree's reserved stats to a paged temp file (stat-cache.ts `spillReserved`), closed
// by the stat cache's save. A build that failed between a tree's scan and that save kept the file open until the
// process ended: a library that runs many builds in one process lost a file descriptor (and the removed file's disk
// space) per tree of each failed build. The build now closes them however it ends.
import { readdirSync, readlinkSync } from 'node:fs';
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { statSpill } from '../src/scan/stat-cache.js';
import { silentReporter } from '../src/report/reporter.js';
import { sampleGame } from './support/sample.js';

/** Every paged file made in this test file: its temp file's name. */
const made = vi.hoisted(() => [] as string[]);
vi.mock('../src/scan/paged-keys.js', async (importOriginal) => {
  const paged = await importOriginal<typeof import('../src/scan/paged-keys.js')>();
  class CountedPagedNumbers extends paged.PagedNumbers {
    constructor(...args: ConstructorParameters<typeof paged.PagedNumbers>) {
      super(...args);
      made.push(args[0]);
    }
  }
  return { ...paged, PagedNumbers: CountedPagedNumbers };
});

const DEFAULT_MIN = statSpill.minFiles;
afterEach(() => {
  statSpill.minFiles = DEFAULT_MIN;
});

/** This process's open files that are paged stats of a stat cache under `stateDir`. */
function openPagedStats(stateDir: string): string[] {
  const fds = '/proc/self/fd';
  const targets = readdirSync(fds).map((fd) => {
    try {
      return readlinkSync(path.join(fds, fd));
    } catch {
      return ''; // the listing's own fd, closed by now
    }
  });
  return targets.filter((t) => t.startsWith(path.join(stateDir, 'cache', 'stat')) && t.includes('.keys.'));
}

describe('paged stats of a failed build', () => {
  it('are closed when the build fails after the scan, before the stat caches are saved', async () => {
    // Every tree's reserved stats go to a paged file, whatever its size.
    statSpill.minFiles = 0;
    const { config } = await sampleGame();
    let opened: string[] = [];
    const reporter = {
      ...silentReporter,
      // The layers step starts its task after the scan and the plan, before any layer is written or hashed.
      task: (label: string) => {
        if (!label.startsWith('build ')) return silentReporter.task(label, 0, 'bytes');
        opened = openPagedStats(config.stateDir);
        throw new Error('stopped before the layers');
      },
    };
    await expect(build({ config, reporter })).rejects.toThrow('stopped before the layers');
    // The cold build paged the stats of its folder trees (engine-media, app, app-media; the engine is an archive) ...
    expect(opened).toHaveLength(3);
    // ... and none is open now.
    expect(openPagedStats(config.stateDir)).toEqual([]);

    // A build that succeeds leaves none open either (its stat caches' saves closed them).
    await build({ config });
    expect(openPagedStats(config.stateDir)).toEqual([]);
  });

  it('are closed when a later tree\'s scan fails after earlier trees paged theirs', async () => {
    statSpill.minFiles = 0;
    // A file no compression brings under a 1 MiB layer (a sparse 2 GiB file): app-media, the last tree, is refused.
    const { game, config } = await sampleGame('layers: {maxLayerSize: 1MiB}');
    const huge = path.join(game, 'app-media', 'huge.pak');
    await writeFile(huge, '');
    await truncate(huge, 2 ** 31);
    const before = made.length;
    await expect(build({ config })).rejects.toMatchObject({ message: expect.stringContaining('huge.pak') });
    // engine-media and app were scanned, and paged, before app-media's scan failed ...
    expect(made.length - before).toBe(2);
    // ... and neither file is open now.
    expect(openPagedStats(config.stateDir)).toEqual([]);
  });
});
