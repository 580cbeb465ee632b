// A push to several repositories reports per image what went up for that image to each target (the blob phase
// sends them before the per-target manifest pushes: those blobs are the image's uploads, not "already there"), and
// the push bar's total is announced before the first upload starts (it does not grow as uploads start).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { pushBuildToMany } from '../src/pipeline/steps/push-many.js';
import type { ProgressTask, Reporter } from '../src/report/reporter.js';
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
      const counted = own.map((l) => Number(/— (\d+) uploaded/.exec(l)![1]));
      // Fresh registries: every blob of every image went up in this run, none was there before.
      for (const l of own) expect(l).toMatch(/, 0 already there;/);
      expect(counted.every((n) => n > 0)).toBe(true);
      expect(Math.max(...counted)).toBeLessThanOrEqual(t.uploaded);
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
});
