// ls, inspect and gc on a store of several builds hold one whole build record at a time, not one per build: a
// 100k-file game's record is about 40 MiB once parsed, so holding every build's made `inspect` of five builds peak
// at 749 MiB. Counted, not timed: every record the reader returns is watched through a WeakRef, and at each read
// the records still alive (after a forced collection) are the ones the command holds while reading the next.
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, type GameConfig } from '../src/config/load.js';
import { gcStore } from '../src/inventory/gc.js';
import { inspectRecord } from '../src/inventory/inspect.js';
import { listLocal, localBuild, localBuildSummaries } from '../src/inventory/local.js';
import { readRecordTotals } from '../src/state/record-totals.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const watch = vi.hoisted(() => ({ returned: [] as WeakRef<object>[], mostAlive: 0 }));

vi.mock('../src/state/records.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/state/records.js')>();
  return {
    ...real,
    readBuildRecord: async (file: string) => {
      // A WeakRef keeps its target until the current job ends: let it end before counting.
      await new Promise((resolve) => setImmediate(resolve));
      (globalThis as { gc?: () => void }).gc?.();
      watch.mostAlive = Math.max(watch.mostAlive, watch.returned.filter((w) => w.deref() !== undefined).length);
      const r = await real.readBuildRecord(file);
      watch.returned.push(new WeakRef(r));
      return r;
    },
  };
});

/** Whole records alive at once during `run` (besides what it returns), at most. */
async function heldDuring(run: () => Promise<unknown>): Promise<number> {
  (globalThis as { gc?: () => void }).gc = collect;
  watch.returned = [];
  watch.mostAlive = 0;
  await run();
  return watch.mostAlive;
}

let dir: string;
let config: GameConfig;
const BUILDS = 4;

beforeAll(async () => {
  dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
  for (let v = 1; v <= BUILDS; v++) {
    await writeFile(path.join(dir, 'app/config/server.cfg'), `port=${4000 + v}\n`);
    const r = await runCli(['build', '--tag', `v${v}`], { cwd: dir });
    expect(r.code).toBe(0);
  }
  config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
}, 180_000);

describe('commands over every local build', () => {
  it('ls lists every build as a summary: no build entries held, one whole record alive at a time', async () => {
    let builds: Awaited<ReturnType<typeof listLocal>>['builds'] = [];
    const held = await heldDuring(async () => ({ builds } = await listLocal(config)));
    expect(builds.map((b) => b.tag)).toEqual(['v4', 'v3', 'v2', 'v1']);
    for (const b of builds) expect(Object.keys(b.record)).not.toContain('manifests');
    for (const b of builds) expect(Object.keys(b.record)).not.toContain('plan');
    expect(held).toBe(0);
  });

  it('inspect reads the chosen build whole and the others as summaries', async () => {
    const held = await heldDuring(async () => {
      const summaries = await localBuildSummaries(config);
      const build = await localBuild(config, 'v2', summaries);
      expect(build.record.manifests.length).toBe(4);
      const view = inspectRecord(build.record, build.file, summaries.map((b) => b.record));
      expect(view.tags).toEqual(['v2']);
      expect(view.layers.some((l) => l.status === 'kept')).toBe(true);
      expect(view.layers.some((l) => l.status === 'patch')).toBe(true);
      expect(view.layers.some((l) => l.status === 'marker')).toBe(true);
      // What the CLI shows: the same view from the entries counted in the file, none held.
      expect(inspectRecord(await readRecordTotals(build.file), build.file, summaries.map((b) => b.record))).toEqual(view);
    });
    expect(held).toBe(0);
  });

  it('a tree image tag names its build (ls lists v2-app as v2\'s; inspect v2-app shows v2)', async () => {
    const r = await runCli(['inspect', 'v2-app', '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).tags).toEqual(['v2']);
  });

  it('gc holds one kept record at a time', async () => {
    let kept: string[] = [];
    const held = await heldDuring(async () => ({ keptBuilds: kept } = await gcStore({ config, keep: 3 })));
    expect(kept).toEqual(['v4', 'v3', 'v2']);
    expect(held).toBe(0);
  });
});
