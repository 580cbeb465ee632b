// A build of a large game collects the old garbage each step of the incremental plan leaves (a changed 1M-entry
// tree's entries walked from a packed list, an object each: tens of MiB a step, which V8 let the next step allocate
// on top of; the build after 10 % of 1M files were removed peaked at 330-370 MiB in the plan). The planner calls
// `betweenSteps` before steps 2, 3 and 4; the plan is the same with it or without.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { planIncremental } from '../src/plan/incremental.js';
import { planLayers, type PlanOptions } from '../src/plan/plan.js';
import { makeManifest, withParentDirs } from '../src/scan/manifest.js';
import { TREE_NAMES, type FileEntry, type TreeManifest, type TreeName } from '../src/types.js';
import { previousOf } from './support/previous-trees.js';

const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, `/opt/local/${t}`])) as Record<TreeName, string>;
const opts: PlanOptions = { targetSize: 4 * 1024 * 1024, maxLayers: 100, mounts };

function game(removed: boolean): TreeManifest[] {
  const files: FileEntry[] = Array.from({ length: 5000 }, (_, i) => ({ path: `d${i % 13}/f${i}`, type: 'file' as const, mode: 0o644, size: (i * 7919) % 20_000, xxh64: createHash('sha256').update(`${i}`).digest('hex').slice(0, 16) })).filter((_, i) => !removed || i % 10 !== 3);
  const tree = (t: TreeName, entries: FileEntry[]) => makeManifest(t, { kind: 'dir', path: `/src/${t}` }, withParentDirs(entries));
  return [tree('engine', [{ path: 'bin/server', type: 'file', mode: 0o755, size: 5, xxh64: '0123456789abcdef' }]), tree('engine-media', []), tree('app', []), tree('app-media', files)];
}

describe('the incremental plan of a large game', () => {
  it('lets the build collect garbage before steps 2, 3 and 4, and plans the same', () => {
    const before = game(false);
    const prev = previousOf(before, planLayers(before, opts).layers);
    const after = game(true);
    let calls = 0;
    const withHook = planIncremental(after, prev, { ...opts, betweenSteps: () => calls++ });
    const without = planIncremental(after, prev, opts);
    expect(calls).toBe(3);
    expect(withHook.decisions['app-media'].decision).toBe('patched');
    expect(JSON.stringify(withHook)).toBe(JSON.stringify(without));
  });
});
