// mutate: changes about N MB of app-media (modify, resize, add, delete), upgrades the engine, edits small app
// files; its summary matches what is on disk, and the same seed gives the same changes.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { TREE_NAMES, type TreeName } from '../src/types.js';
import { generateGame } from '../fixtures/generator/generate.js';
import { mutateGame, type Change, type MutateResult } from '../fixtures/generator/mutate.js';
import { snapshotDir, type SnapshotEntry } from '../fixtures/generator/tree-files.js';

const run = promisify(execFile);
const TSX = path.resolve('node_modules/.bin/tsx');

let work: string;
let pristine: string;
let copies = 0;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'fixtures-mutate-'));
  pristine = (await generateGame({ out: path.join(work, 'pristine'), size: 20e6, files: 300, seed: 'm' })).dir;
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function freshCopy(): Promise<string> {
  const dir = path.join(work, `copy-${copies++}`);
  await cp(pristine, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

interface DiskDiff {
  added: Map<string, number>;
  deleted: Set<string>;
  changed: Map<string, number>;
}

/** What changed between two snapshots of one tree, files only, path → new size. */
function diffFiles(before: Map<string, SnapshotEntry>, after: Map<string, SnapshotEntry>): DiskDiff {
  const d: DiskDiff = { added: new Map(), deleted: new Set(), changed: new Map() };
  for (const [p, e] of after) {
    if (e.type !== 'file') continue;
    const b = before.get(p);
    if (!b) d.added.set(p, e.size);
    else if (b.content !== e.content || b.mode !== e.mode) d.changed.set(p, e.size);
  }
  for (const [p, e] of before) if (e.type === 'file' && !after.has(p)) d.deleted.add(p);
  return d;
}

/** The summary's changes of one tree, shaped like a disk diff. */
function diffFromSummary(changes: Change[], tree: TreeName): DiskDiff {
  const d: DiskDiff = { added: new Map(), deleted: new Set(), changed: new Map() };
  for (const c of changes.filter((x) => x.tree === tree)) {
    if (c.op === 'add') d.added.set(c.path, c.after!);
    else if (c.op === 'delete') d.deleted.add(c.path);
    else d.changed.set(c.path, c.after!);
  }
  return d;
}

async function snapshots(dir: string): Promise<Record<TreeName, Map<string, SnapshotEntry>>> {
  const out = {} as Record<TreeName, Map<string, SnapshotEntry>>;
  for (const t of TREE_NAMES) out[t] = await snapshotDir(path.join(dir, t));
  return out;
}

function expectSummaryMatchesDisk(
  result: MutateResult,
  before: Record<TreeName, Map<string, SnapshotEntry>>,
  after: Record<TreeName, Map<string, SnapshotEntry>>,
  changedTrees: TreeName[],
): void {
  for (const t of TREE_NAMES) {
    const disk = diffFiles(before[t], after[t]);
    const summary = diffFromSummary(result.changes, t);
    expect(disk, t).toEqual(summary);
    if (!changedTrees.includes(t)) expect([...after[t]], `${t} untouched`).toEqual([...before[t]]);
  }
  for (const c of result.changes) {
    if (c.op === 'delete') expect(c.before, c.path).toBe(before[c.tree].get(c.path)?.size);
    else if (c.op !== 'add') expect(c.before, c.path).toBe(before[c.tree].get(c.path)?.size);
  }
}

describe('mutateGame --mb', () => {
  let dir: string;
  let result: MutateResult;
  let before: Record<TreeName, Map<string, SnapshotEntry>>;
  let after: Record<TreeName, Map<string, SnapshotEntry>>;
  beforeAll(async () => {
    dir = await freshCopy();
    before = await snapshots(dir);
    result = await mutateGame({ dir, mb: 4, seed: 'change-1' });
    after = await snapshots(dir);
  });

  it('changes about N MB of app-media', () => {
    expect(Math.abs(result.totals.bytesChanged - 4e6)).toBeLessThanOrEqual(1024);
    expect(result.trees['app-media']?.bytesChanged).toBe(result.totals.bytesChanged);
    expect(Object.keys(result.trees)).toEqual(['app-media']);
  });

  it('mixes in-place modifies, resizes, adds and deletes', () => {
    expect(result.totals.modify).toBeGreaterThan(0);
    expect(result.totals.resize).toBeGreaterThan(0);
    expect(result.totals.add).toBeGreaterThan(0);
    expect(result.totals.delete).toBeGreaterThan(0);
    for (const c of result.changes.filter((x) => x.op === 'modify')) expect(c.after).toBe(c.before);
    for (const c of result.changes.filter((x) => x.op === 'resize')) expect(c.after).not.toBe(c.before);
  });

  it('reports exactly what changed on disk, and nothing outside app-media changed', () => {
    expectSummaryMatchesDisk(result, before, after, ['app-media']);
    const written = result.changes.reduce((s, c) => s + c.bytesWritten, 0);
    expect(result.totals.bytesWritten).toBe(written);
  });

  it('gives the same changes for the same seed on the same tree, other changes for another seed', async () => {
    const again = await freshCopy();
    const r2 = await mutateGame({ dir: again, mb: 4, seed: 'change-1' });
    expect(r2.changes).toEqual(result.changes);
    expect([...(await snapshotDir(path.join(again, 'app-media')))]).toEqual([...after['app-media']]);
    const other = await mutateGame({ dir: await freshCopy(), mb: 4, seed: 'change-2' });
    expect(other.changes.map((c) => c.path)).not.toEqual(result.changes.map((c) => c.path));
  });

  it('changes the tree again when run twice with one seed', async () => {
    const again = await freshCopy();
    await mutateGame({ dir: again, mb: 1, seed: 'twice' });
    const mid = await snapshotDir(path.join(again, 'app-media'));
    const second = await mutateGame({ dir: again, mb: 1, seed: 'twice' });
    const end = await snapshotDir(path.join(again, 'app-media'));
    expect(diffFiles(mid, end)).toEqual(diffFromSummary(second.changes, 'app-media'));
    expect(second.changes.length).toBeGreaterThan(0);
  });
});

describe('mutateGame --engine-upgrade and --small-app-changes', () => {
  it('replaces the engine tree and reports every file that changed', async () => {
    const dir = await freshCopy();
    const before = await snapshots(dir);
    const result = await mutateGame({ dir, engineUpgrade: true, seed: 'upgrade' });
    const after = await snapshots(dir);
    expectSummaryMatchesDisk(result, before, after, ['engine']);
    expect(result.changes.every((c) => c.tree === 'engine')).toBe(true);
    const engineFiles = [...after.engine.values()].filter((e) => e.type === 'file');
    expect(result.engineUpgrade?.after.files).toBe(engineFiles.length);
    expect(result.engineUpgrade?.after.bytes).toBe(engineFiles.reduce((s, e) => s + e.size, 0));
    expect(result.engineUpgrade!.after.bytes / result.engineUpgrade!.before.bytes).toBeGreaterThan(0.9);
    expect(result.engineUpgrade!.after.bytes / result.engineUpgrade!.before.bytes).toBeLessThan(1.2);
    // The start script is the same in every engine build, so it is not a change.
    expect(after.engine.get('start.sh')).toEqual(before.engine.get('start.sh'));
    expect(result.changes.some((c) => c.path === 'start.sh')).toBe(false);
    const changedBytes = result.changes.reduce((s, c) => s + c.bytesWritten, 0);
    expect(changedBytes).toBeGreaterThan(0.9 * result.engineUpgrade!.after.bytes);
  });

  it('edits N small app files and nothing else', async () => {
    const dir = await freshCopy();
    const before = await snapshots(dir);
    const result = await mutateGame({ dir, smallAppChanges: 3, seed: 'daily' });
    const after = await snapshots(dir);
    expectSummaryMatchesDisk(result, before, after, ['app']);
    expect(result.changes).toHaveLength(3);
    expect(result.totals.edit).toBe(3);
    for (const c of result.changes) {
      expect(c.before!).toBeLessThanOrEqual(64 * 1024);
      // A text edit appends a line (the file grows by what was written); a binary edit rewrites it in place.
      if (c.after !== c.before) expect(c.after! - c.before!).toBe(c.bytesWritten);
      else expect(c.bytesWritten).toBe(c.after);
    }
  });

  it('combines modes in one run', async () => {
    const dir = await freshCopy();
    const before = await snapshots(dir);
    const result = await mutateGame({ dir, mb: 1, smallAppChanges: 2, engineUpgrade: true, seed: 'all' });
    const after = await snapshots(dir);
    expectSummaryMatchesDisk(result, before, after, ['engine', 'app', 'app-media']);
    expect(Object.keys(result.trees).sort()).toEqual(['app', 'app-media', 'engine']);
  });
});

describe('mutateGame errors and the sample game', () => {
  it('follows gamelayer.yaml sources and refuses to upgrade an engine that is a tarball', async () => {
    const sample = path.join(work, 'sample');
    await cp(path.resolve('fixtures/sample-game'), sample, { recursive: true, verbatimSymlinks: true });
    const before = await snapshotDir(path.join(sample, 'app-media'));
    const result = await mutateGame({ dir: sample, mb: 0.05, seed: 's' });
    expect(diffFiles(before, await snapshotDir(path.join(sample, 'app-media')))).toEqual(
      diffFromSummary(result.changes, 'app-media'),
    );
    const err = await mutateGame({ dir: sample, engineUpgrade: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GamelayerError);
    expect((err as Error).message).toContain('trees.engine.source');
    expect((err as Error).message).toContain('BinLinux64.Dedicated.tar.gz');
  });

  it('rejects a run with nothing to do and a missing tree', async () => {
    await expect(mutateGame({ dir: pristine })).rejects.toThrow(/nothing to change/);
    await expect(mutateGame({ dir: path.join(work, 'nope'), mb: 1 })).rejects.toThrow(/nope\/app-media: no such directory/);
    await expect(mutateGame({ dir: await freshCopy(), smallAppChanges: 10_000 })).rejects.toThrow(/only \d+ files/);
  });
});

describe('fixtures/mutate.ts CLI', () => {
  it('prints a JSON summary that matches the disk', async () => {
    const dir = await freshCopy();
    const before = await snapshotDir(path.join(dir, 'app-media'));
    const { stdout } = await run(TSX, ['fixtures/mutate.ts', '--dir', dir, '--mb', '2', '--seed', 'cli']);
    const result = JSON.parse(stdout) as MutateResult;
    expect(Math.abs(result.totals.bytesChanged - 2e6)).toBeLessThanOrEqual(1024);
    expect(diffFiles(before, await snapshotDir(path.join(dir, 'app-media')))).toEqual(
      diffFromSummary(result.changes, 'app-media'),
    );
  });

  it('exits 1 naming the bad argument', async () => {
    await expect(run(TSX, ['fixtures/mutate.ts', '--dir', pristine, '--mb', 'many'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--mb many'),
    });
    await expect(run(TSX, ['fixtures/mutate.ts', '--dir', pristine, '--bogus'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--bogus'),
    });
  });
});
