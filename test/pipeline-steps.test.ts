// The build as steps: each step runs on its own typed input, and the steps composed by hand give exactly what
// build() gives; a second pass skips what its inputs say is done (every tree kept, no layer built, no record written).
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { layerReuse, openLayerCache } from '../src/pipeline/layer-reuse.js';
import { writeImages } from '../src/pipeline/steps/images.js';
import { resolveInputs } from '../src/pipeline/steps/inputs.js';
import { buildLayers } from '../src/pipeline/steps/layers.js';
import { planPlatforms } from '../src/pipeline/steps/plan.js';
import { loadBases } from '../src/pipeline/base-source.js';
import { findPrevious } from '../src/pipeline/steps/previous.js';
import { recordBuild, summarize } from '../src/pipeline/steps/record.js';
import { scanTrees } from '../src/pipeline/steps/scan.js';
import { copySample, sampleConfig } from './support/sample.js';
import { tempDir } from './support/tmp.js';

/** Every step once, in the orchestrator's order. */
async function runSteps(config: Awaited<ReturnType<typeof sampleConfig>>, tag: string) {
  const started = Date.now();
  const inputs = await resolveInputs({ config, tag });
  const { scans, scanMs } = await scanTrees({ ...inputs, started });
  const cache = await openLayerCache(config.stateDir, inputs.reporter);
  const previous = await findPrevious(inputs);
  const reuse = layerReuse({ ...inputs, cache, kept: previous.kept });
  const bases = await loadBases(config, inputs, inputs.platforms);
  const planned = await planPlatforms({ ...inputs, scans, previous: previous.record, reuse, bases });
  const layers = await buildLayers({ ...inputs, plans: planned.plans, reuse });
  const images = await writeImages({ ...inputs, ...planned, ...layers, remote: previous.remote });
  const recorded = await recordBuild({ ...inputs, plans: planned.plans, images, previous });
  const summary = summarize({ plans: planned.plans, perPlatform: images.perPlatform, built: layers.built, previous, recorded, scanMs, started });
  return { inputs, scans, previous, planned, layers, images, recorded, summary };
}

const withoutTimes = <T extends { createdAt: string }>(r: T) => ({ ...r, createdAt: '' });

describe('build as steps', () => {
  it('the steps composed by hand give build()\'s plan, layers, images and record', async () => {
    const game = path.join(await tempDir(), 'game');
    copySample(game);
    const config = await sampleConfig(game);
    const steps = await runSteps(config, 'v1');
    expect(steps.previous.info).toEqual({ source: 'none', reason: 'no earlier build in .gamelayer/' });
    expect(steps.planned.plans.map((p) => p.name)).toEqual(config.platforms);
    expect([...steps.layers.built.values()].filter((b) => b.reused)).toEqual([]);

    // The same game built by build() from nothing: the same documents and record, byte for byte but the time.
    await rm(config.stateDir, { recursive: true, force: true });
    const whole = await build({ config, tag: 'v1' });
    expect(withoutTimes(whole.record)).toEqual(withoutTimes(steps.recorded.record));
    expect(whole.recordFile).toBe(steps.recorded.recordFile);
    expect(whole.summary.layers).toEqual(steps.summary.layers);
    expect(whole.summary.trees).toEqual(steps.summary.trees);
    expect(whole.scans.map((s) => s.manifest.digest)).toEqual(steps.scans.map((s) => s.manifest.digest));
  });

  it('a second pass skips what is done: the previous build is found, every tree kept, nothing built or written', async () => {
    const game = path.join(await tempDir(), 'game');
    copySample(game);
    const config = await sampleConfig(game);
    const first = await build({ config, tag: 'v1' });
    const written = (await stat(first.recordFile)).mtimeMs;
    const again = await runSteps(config, 'v1');
    expect(again.previous.info.source).toBe('local');
    expect(again.previous.record?.createdAt).toBe(first.record.createdAt);
    expect(again.planned.plans.flatMap((p) => Object.values(p.decisions).map((d) => d.decision))).toEqual(
      again.planned.plans.flatMap(() => ['unchanged', 'unchanged', 'unchanged', 'unchanged']),
    );
    expect([...again.layers.built.values()].every((b) => b.reused)).toBe(true);
    expect(again.summary.built).toBe(0);
    expect(again.recorded.record).toEqual(first.record);
    expect((await stat(first.recordFile)).mtimeMs).toBe(written);
  });
});
