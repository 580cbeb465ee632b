// A push to several repositories reports per image what went up for that image to each target (the blob phase
// sends them before the per-target manifest pushes: those blobs are the image's, sent in the shared phase, not
// "already there"), and
// the push bar's total is announced before the first upload starts (it does not grow as uploads start).
import { cp, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLayoutImage } from '../src/oci/layout.js';
import { platformImages } from '../src/oci/model.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { pushBuildToMany } from '../src/pipeline/steps/push-many.js';
import type { ProgressTask, Reporter } from '../src/report/reporter.js';
import { BLOB_SOURCE_ANNOTATION, fetchMissingBlobs } from '../src/registry/partial-layout.js';
import { readBuildRecord } from '../src/state/records.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const registries: TestRegistry[] = [];
let project: string;

beforeAll(async () => {
  project = path.join(await tempDir('gl-multi-counts-'), 'game');
  copySample(project);
  const built = await runCli(['build', '--tag', 'v1'], { cwd: project });
  expect(built.code, built.stderr).toBe(0);
  registries.push(await startRegistry(), await startRegistry(), await startRegistry());
}, 180_000);
afterAll(async () => Promise.all(registries.map((r) => r.stop())));

/** A reporter that keeps what it was told, in order. */
function recording() {
  const events: ({ kind: 'info'; text: string } | { kind: 'planned'; bytes: number } | { kind: 'task'; bytes: number })[] = [];
  const task: ProgressTask = { tick() {}, done() {} };
  const reporter: Reporter = {
    info: (text) => events.push({ kind: 'info', text }),
    warn: (text) => events.push({ kind: 'info', text }),
    pushPlanned: (bytes) => events.push({ kind: 'planned', bytes }),
    task: (label, bytes, unit) => {
      if (unit === 'bytes' && label.startsWith('blob ')) events.push({ kind: 'task', bytes });
      return task;
    },
  };
  return { events, reporter };
}

describe('push counts and the bar total', () => {
  it('per-image lines count the blobs the run sent for that image; the bar total is known before any upload', async () => {
    const [a, b] = registries as [TestRegistry, TestRegistry];
    const record = await readBuildRecord(path.join(project, '.gamelayer/records/build-v1.json'));
    const { events, reporter } = recording();
    const result = await pushBuildToMany({ store: path.join(project, '.gamelayer/oci'), record, repositories: [`${a.host}/studio/counts`, `${b.host}/studio/counts`], reporter });
    expect(result.targets.map((t) => t.status)).toEqual(['pushed', 'pushed']);

    const lines = events.flatMap((e) => (e.kind === 'info' && / pushed sha256:/.test(e.text) ? [e.text] : []));
    expect(lines.length).toBe(2 * record.tags.length);
    for (const t of result.targets) {
      const own = lines.filter((l) => l.startsWith(`${t.repository}:`));
      // The blob phase sent them (its bytes counted there): the line says so rather than "N uploaded … 0 B sent".
      const counted = own.map((l) => Number(/— (\d+) blobs? sent in the shared blob phase; here \d+ uploaded/.exec(l)?.[1] ?? 0));
      // Fresh registries: every blob of every image went up in this run, none was there before.
      for (const l of own) expect(l).toMatch(/, 0 already there;/);
      expect(counted.every((n) => n > 0)).toBe(true);
      expect(Math.max(...counted)).toBeLessThanOrEqual(t.uploaded);
      for (const l of own) {
        const [, here, bytes] = /here (\d+) uploaded, \d+ mounted, \d+ already there; (\S+ \S+) sent/.exec(l)!;
        if (Number(here) > 0) expect(bytes).not.toBe('0 B');
      }
    }

    // Announced bytes cover every blob task, and the announcement comes before the first task.
    const firstTask = events.findIndex((e) => e.kind === 'task');
    const plannedBefore = events.slice(0, firstTask).reduce((n, e) => n + (e.kind === 'planned' ? e.bytes : 0), 0);
    const taskBytes = events.reduce((n, e) => n + (e.kind === 'task' ? e.bytes : 0), 0);
    expect(taskBytes).toBeGreaterThan(0);
    expect(plannedBefore).toBe(taskBytes);
  }, 120_000);

  it('a push to one repository announces every image\'s bytes before its first upload (the tree images\' own blobs too)', async () => {
    const reg = registries[2]!;
    const record = await readBuildRecord(path.join(project, '.gamelayer/records/build-v1.json'));
    const { events, reporter } = recording();
    await pushBuild({ store: path.join(project, '.gamelayer/oci'), record, repository: `${reg.host}/studio/single`, reporter });
    const firstTask = events.findIndex((e) => e.kind === 'task');
    const plannedBefore = events.slice(0, firstTask).reduce((n, e) => n + (e.kind === 'planned' ? e.bytes : 0), 0);
    const plannedAfter = events.slice(firstTask).reduce((n, e) => n + (e.kind === 'planned' ? e.bytes : 0), 0);
    const taskBytes = events.reduce((n, e) => n + (e.kind === 'task' ? e.bytes : 0), 0);
    expect(taskBytes).toBeGreaterThan(0);
    expect(plannedBefore).toBe(taskBytes);
    expect(plannedAfter).toBe(0);
  }, 120_000);

  /** Every announcement comes before the first blob task, and adds up to the bytes of the blob tasks. */
  function announcedOnce(events: ReturnType<typeof recording>['events']): void {
    const firstTask = events.findIndex((e) => e.kind === 'task');
    expect(firstTask).toBeGreaterThan(0);
    expect(events.slice(firstTask).filter((e) => e.kind === 'planned')).toEqual([]);
    const planned = events.reduce((n, e) => n + (e.kind === 'planned' ? e.bytes : 0), 0);
    expect(planned).toBe(events.reduce((n, e) => n + (e.kind === 'task' ? e.bytes : 0), 0));
  }

  it('a striped push (media layers shared with another platform\'s host) announces once, the other stripe included', async () => {
    const reg = registries[2]!;
    const record = await readBuildRecord(path.join(project, '.gamelayer/records/build-v1.json'));
    const shared = new Set(record.layers.filter((l) => l.tree.endsWith('-media')).map((l) => l.digest));
    expect(shared.size).toBeGreaterThanOrEqual(2);
    const store = path.join(project, '.gamelayer/oci');

    // Alone: the other host never sends its stripe, so this one sends it after the wait.
    const alone = recording();
    await pushBuild({ store, record, repository: `${reg.host}/studio/stripe-alone`, reporter: alone.reporter, stripe: { shared, index: 0, of: 2, waitMs: 0 } });
    expect(alone.events.some((e) => e.kind === 'info' && /did not appear within 0 s/.test(e.text))).toBe(true);
    announcedOnce(alone.events);

    // Two hosts side by side: each sends its stripe and waits for the other's, whose bytes count as done.
    const [a, b] = [recording(), recording()];
    await Promise.all(
      [a, b].map((host, index) =>
        pushBuild({ store, record, repository: `${reg.host}/studio/stripe-pair`, reporter: host.reporter, stripe: { shared, index, of: 2, waitMs: 60_000, pollMs: 20 } }),
      ),
    );
    for (const host of [a, b]) announcedOnce(host.events);
    // One of them found the other's stripe missing at first (both cannot have come second), and saw it arrive.
    const waited = [a, b].filter((host) => host.events.some((e) => e.kind === 'info' && /pushed by another platform's build: not sent/.test(e.text)));
    expect(waited.length).toBeGreaterThan(0);
  }, 180_000);
});

describe('blobs a partial layout lacks, fetched for several images and targets of one run', () => {
  it('are fetched (and counted) once: a second fetch of the same blob joins the first or finds it there', async () => {
    const [a] = registries as [TestRegistry];
    const record = await readBuildRecord(path.join(project, '.gamelayer/records/build-v1.json'));
    const repo = `${a.host}/studio/fetch-once`;
    await pushBuild({ store: path.join(project, '.gamelayer/oci'), record, repository: repo });
    // A copy of the store without one layer of the server image: the partial layout a build that kept it leaves.
    const layout = path.join(await tempDir('gl-fetch-once-'), 'oci');
    await cp(path.join(project, '.gamelayer/oci'), layout, { recursive: true });
    const full = await readLayoutImage(layout, record.tags[0]!);
    const layer = platformImages(full)[0]!.layers[0]!;
    await rm(path.join(layout, 'blobs', 'sha256', layer.digest.slice(7)));
    const partial = await readLayoutImage(layout, record.tags[0]!, { allowMissing: true });
    const image = { ...partial, descriptor: { ...partial.descriptor, annotations: { [BLOB_SOURCE_ANNOTATION]: repo } } };
    const both = await Promise.all([fetchMissingBlobs(layout, image, 'one'), fetchMissingBlobs(layout, image, 'two')]);
    expect(both.reduce((n, f) => n + f.blobs, 0)).toBe(1);
    expect(both.reduce((n, f) => n + f.bytes, 0)).toBe(layer.size);
    expect(await fetchMissingBlobs(layout, image, 'three')).toEqual({ blobs: 0, bytes: 0 });
  }, 120_000);
});
