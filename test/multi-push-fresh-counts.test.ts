// A daily build pushed to two regions from a fresh host (no .gamelayer/): each target's summary line counts the
// blobs the registry already held as a one-target push does. The blob phase only looks at the blobs in the store,
// and a fresh host's store lacks the kept layers, so the line said "0 already there" while the per-image lines
// above it found every kept layer there.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { dailyOnFreshHost } from './support/fresh-host-daily.js';
import { tempDir } from './support/tmp.js';

const registries: TestRegistry[] = [];
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-multi-fresh-');
  registries.push(await startRegistry(), await startRegistry());
}, 120_000);
afterAll(async () => Promise.all(registries.map((r) => r.stop())));

/** The numbers of `… N already there …` in lines about `repo`: per image (`repo: pushed sha256:…`) and the target's summary. */
function alreadyThere(output: string, repo: string): { images: number[]; summary: number[] } {
  const lines = output.split('\n');
  const n = (l: string) => Number(/(\d+) already there/.exec(l)![1]);
  return {
    images: lines.filter((l) => l.startsWith(`${repo}: pushed sha256:`)).map(n),
    summary: lines.filter((l) => l.startsWith(`${repo}: pushed (`)).map(n),
  };
}

describe('build --push to two registries from a fresh host', () => {
  it('says how many blobs each registry already held, kept layers included', async () => {
    const repos = registries.map((r) => `${r.host}/studio/game`);
    const pushArgs = repos.flatMap((r) => ['--push', r]);
    // Day 1 on a fresh host: a copy of the sources with one changed file and no .gamelayer/.
    const r = await dailyOnFreshHost(dir, pushArgs);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).toMatch(/layers kept in the registry \(not downloaded\)/);
    for (const repo of repos) {
      const { images, summary } = alreadyThere(out, repo);
      expect(images.length, out).toBe(5);
      const perImage = images.reduce((a, b) => a + b, 0);
      // The engine and media trees did not change: their layers were there from day 0.
      expect(perImage).toBeGreaterThan(0);
      expect(summary, out).toEqual([perImage]);
    }
  }, 180_000);
});
