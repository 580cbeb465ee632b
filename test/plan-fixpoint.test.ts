// A no-op's plan, remembered (src/pipeline/plan-fixpoint.ts): once planning from the registry's record gave back
// that record's own plan, a build with the same inputs takes the record's plan without planning or checking the same
// record bytes again; the result is the one planning gives. A change, or another record (a damaged one among them),
// is planned and checked as before.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import * as incremental from '../src/plan/incremental.js';
import { build } from '../src/pipeline/build.js';
import { fixpointsFile, readFixpoints } from '../src/pipeline/plan-fixpoint.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import type { Reporter } from '../src/report/reporter.js';
import { silentReporter } from '../src/report/reporter.js';
import type { BuildRecord } from '../src/types.js';
import { copySample, sampleConfig } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

vi.mock('../src/plan/incremental.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../src/plan/incremental.js')>();
  return { ...m, planIncremental: vi.fn(m.planIncremental), recordedTreeProblem: vi.fn(m.recordedTreeProblem) };
});

const registry = useRegistry();

function collecting(): Reporter & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentReporter, warn: (m: string) => void warnings.push(m), warnings };
}

/** What a build's result says, without its times. */
function outcome(r: Awaited<ReturnType<typeof build>>) {
  const { ms: _ms, scanMs: _scanMs, ...summary } = r.summary;
  return { record: JSON.stringify(r.record), summary };
}

describe('a no-op build --push', () => {
  it('takes the record\'s plan once planning gave it back, and plans and checks again on a change or another record', async () => {
    const dir = await tempDir();
    copySample(dir);
    const config = await sampleConfig(dir);
    const repo = `${registry.host}/studio/fixpoint`;
    const registryOptions = { insecure: true };
    const once = async (reporter = collecting()) => {
      const r = await build({ config, tag: 'v1', push: repo, line: 'main', registry: registryOptions, reporter });
      const pushed = await pushBuild({ ...registryOptions, store: r.store, record: r.record, repository: repo, stateDir: config.stateDir, recordRead: r.previousRecordRead, previousTarget: r.previousTarget });
      return { r, pushed, reporter };
    };
    const planned = vi.mocked(incremental.planIncremental);
    const checked = vi.mocked(incremental.recordedTreeProblem);

    await once();
    expect(existsSync(fixpointsFile(config.stateDir))).toBe(false);
    // The first no-op plans from the record and gets its plan back: noted.
    planned.mockClear();
    const second = await once();
    expect(planned).toHaveBeenCalledTimes(1);
    expect(await readFixpoints(config.stateDir)).toHaveLength(1);
    expect(second.pushed.bytesSent).toBe(0);

    // The next no-op neither plans nor checks the same record bytes again, and comes to the same result.
    planned.mockClear();
    checked.mockClear();
    const third = await once();
    expect(planned).not.toHaveBeenCalled();
    expect(checked).not.toHaveBeenCalled();
    expect(outcome(third.r)).toEqual(outcome(second.r));
    expect(third.pushed.bytesSent).toBe(0);
    expect(third.pushed.record.digest).toBe(second.pushed.record.digest);
    expect(third.reporter.warnings).toEqual([]);

    // A changed file: planned (and the record checked) as before.
    await writeFile(path.join(dir, 'app/config/server.cfg'), 'port=3\n');
    planned.mockClear();
    checked.mockClear();
    const changed = await once();
    expect(planned).toHaveBeenCalledTimes(1);
    expect(checked).toHaveBeenCalled();
    expect(changed.r.summary.trees.find((t) => t.tree === 'app')?.decision).toBe('patched');
    // Its first no-op notes the new record's planning, the one after takes it.
    await once();
    planned.mockClear();
    await once();
    expect(planned).not.toHaveBeenCalled();

    // The line's record replaced by one that lies (a layer's entries no longer give its inputKey), with a blob of its
    // own digest: nothing noted for it, so it is checked, found damaged, and every tree planned afresh.
    const damaged = JSON.parse(JSON.stringify(changed.r.record)) as BuildRecord;
    damaged.plan.layers.find((x) => x.tree === 'app-media')!.entries.find((e) => e.type === 'file')!.xxh64 = '0123456789abcdef';
    await pushBuild({ ...registryOptions, store: changed.r.store, record: damaged, repository: repo, stateDir: config.stateDir });
    planned.mockClear();
    const after = await once();
    expect(planned).toHaveBeenCalledTimes(1);
    expect(after.reporter.warnings.join('\n')).toMatch(/is damaged: app-media layer 0: its entries do not match its inputKey sha256:[0-9a-f]{64}; planning every tree afresh/);
    expect(after.r.summary.trees.map((t) => t.decision)).toEqual(['fresh', 'fresh', 'fresh', 'fresh']);
  });
});
