// A daily CodeBuild build on a fresh host reads the previous build's record three times, each in its own process:
// pre_build's `diff --against REPO`, `build --push`, post_build's pull-cost `diff --against REPO:BASELINE_TAG`. Each
// downloaded the record blob again (tens of MiB at 1M files). The first read keeps the blob it checked in the state
// folder (record-blob-cache.ts); the emitted phases run here as written, the registry's blob GETs counted.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBuildspec } from '../src/codebuild/buildspec-schema.js';
import { fetchBuildRecordFor } from '../src/registry/artifact.js';
import { runBuildspecPhases } from './support/buildspec-run.js';
import { runCli } from './support/cli-process.js';
import { useCountingRegistry } from './support/counting-registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const fx = useCountingRegistry('stream');

const DAY0 = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';
const DAY1 = '9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5';

/** The emitted buildspec's phases in a fresh checkout of the sample (`change`: one file edited) on a fresh host. */
async function codebuildDay(sourceVersion: string, env: Record<string, string>, change: boolean) {
  const src = await tempDir('gl-bs-reads-src-');
  copySample(src);
  if (change) await appendFile(path.join(src, 'app/config/server.cfg'), '\nmax_players=64\n');
  const emitted = await runCli(['codebuild', 'buildspec'], { cwd: src });
  expect(emitted.code, emitted.stderr).toBe(0);
  const work = await tempDir('gl-bs-reads-host-');
  const r = await runBuildspecPhases(parseBuildspec(emitted.stdout, 'emitted'), src, { REPOSITORY_URI: `${fx.proxy.host}/studio/game`, CODEBUILD_RESOLVED_SOURCE_VERSION: sourceVersion, ...env }, work);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

describe('a CodeBuild build on a fresh host', () => {
  it('downloads the previous build record once across pre_build diff, build and post_build pull-cost diff', async () => {
    await codebuildDay(DAY0, {}, false);
    const previous = await fetchBuildRecordFor(`${fx.registry.host}/studio/game:${DAY0.slice(0, 8)}`);
    fx.proxy.reset();
    const r = await codebuildDay(DAY1, { BASELINE_TAG: DAY0.slice(0, 8) }, true);
    // All three commands compared with day 0's record (the pull-cost report is against the baseline, not "no baseline").
    expect(r.stdout).not.toContain('no baseline image');
    const recordGets = fx.proxy.seen.filter((s) => s.method === 'GET' && s.path.endsWith(`/blobs/${previous.recordBlob}`));
    expect(recordGets.length, fx.proxy.seen.map((s) => `${s.method} ${s.path}`).join('\n')).toBe(1);
  }, 300_000);
});
