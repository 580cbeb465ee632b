// A cold build's scan moves each tree's reserved stats to a paged temp file (stat-cache.ts `spillReserved`), closed
// by the stat cache's save. A build that failed between a tree's scan and that save kept the file open until the
// process ended: a library that runs many builds in one process lost a file descriptor (and the removed file's disk
// space) per tree of each failed build. The build now closes them however it ends: those it opened, not every one
// of its state folder (a module-wide list did that, and closed another build's under its feet).
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

/** Run once, by the next build that reaches its plan (after its scan paged its stats), before that plan. */
const beforePlan = vi.hoisted(() => ({ once: undefined as (() => Promise<void>) | undefined }));
vi.mock('../src/pipeline/steps/plan.js', async (importOriginal) => {
  const steps = await importOriginal<typeof import('../src/pipeline/steps/plan.js')>();
  return {
    ...steps,
    planPlatforms: async (...args: Parameters<typeof steps.planPlatforms>) => {
      const run = beforePlan.once;
      beforePlan.once = undefined;
      await run?.();
      return steps.planPlatforms(...args);
    },
  };
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

/** A reporter that fails the build when its layers step starts: after the scan and the plan. */
const failingBeforeLayers = {
  ...silentReporter,
  task: (label: string) => {
    if (label.startsWith('build ')) throw new Error('stopped before the layers');
    return silentReporter.task(label, 0, 'bytes');
  },
};

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

  it('are its own: another build of the same state folder that fails meanwhile closes only its own', async () => {
    statSpill.minFiles = 0;
    const { config } = await sampleGame();
    let during: string[] = [];
    // The first build has scanned (its stats paged, waiting for its layer writer) when the second one runs, on the
    // same state folder, pages its own stats and fails; then the first goes on, reading its paged stats.
    beforePlan.once = async () => {
      const mine = openPagedStats(config.stateDir);
      expect(mine).toHaveLength(3);
      await expect(build({ config, reporter: failingBeforeLayers })).rejects.toThrow('stopped before the layers');
      during = openPagedStats(config.stateDir);
    };
    const result = await build({ config });
    // The failed build closed its three, and none of the first build's ...
    expect(during).toHaveLength(3);
    // ... which finished, hashing every pending file from its paged stats, and closed its own.
    expect(result.summary).toBeDefined();
    expect(openPagedStats(config.stateDir)).toEqual([]);
  });
});
