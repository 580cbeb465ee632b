// What else wrote the records outside the records lock, under which a push notes itself in its build's records
// (markPushed: reads a record, puts the noted copy back), each interleaving held at an exact point:
// - `gamelayer index` wrote the merged record to the last-build pointer outside it: a build's push noting itself put
//   that build's copy back over it, and `k8s`, `ecs` without a tag took the older build;
// - a real build dropped the re-run note beside the pointer after it: a no-op making its build the last one again in
//   between lost its note, and `diff --previous` compared with the build before the last;
// - a build wrote its tag's record outside it: another build of the same tag, noting its push, put its own record
//   (and then the pointer) back over the later build's.
import { appendFile, cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startWatched, until, waitsOnLock } from './support/hold-points.js';
import { useTwoPlatformSample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();
const sample = useTwoPlatformSample();

async function cli(cwd: string, ...args: string[]) {
  const r = await runCli(args, { cwd });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

/** Marks of a CLI in `points`: taking the records lock, and renames onto paths matching `renamed`. */
const marksAt = (points: string, renamed: string) => ({ GL_TEST_MARK_AT: JSON.stringify({ dir: points, link: 'records\\.lock$', renamed }) });

describe('records written under the records lock', () => {
  it('index: the merged record stays the last build while another build\'s push notes itself in the pointer', async () => {
    const dir = await tempDir('gl-merge-race-');
    await cp(sample.dir, dir, { recursive: true });
    const repo = `${registry.host}/studio/merge-race`;
    for (const platform of ['linux/amd64', 'linux/arm64']) await cli(dir, 'build', '--platform', platform, '--tag', 'v1', '--push', repo);
    const records = path.join(dir, '.gamelayer', 'records');
    const points = await tempDir('gl-merge-race-points-');
    // v2's push held noting itself in the pointer (its build's own copy is the first rename onto it).
    const hold = { GL_TEST_HOLD_AT_RENAME: JSON.stringify({ target: 'records/build-last\\.json$', nth: 2, dir: points }) };
    const v2 = startWatched(['build', '--platform', 'linux/amd64', '--tag', 'v2', '--push', repo], { cwd: dir, env: hold });
    await until(points, ['held-'], v2.ended);
    expect(v2.ended()).toBe(false);
    // The merge of v1 meanwhile: on until its record is in the pointer, or it waits for the lock v2 holds.
    const merge = startWatched(['index', repo, '--tag', 'v1'], { cwd: dir, env: marksAt(points, 'records/build-last\\.json$') });
    await until(points, [`renamed-${merge.pid}`], async () => merge.ended() || (await waitsOnLock(points, merge, path.join(dir, '.gamelayer', 'records.lock'), v2.pid)));
    await writeFile(path.join(points, 'go'), '');
    for (const r of await Promise.all([v2.result, merge.result])) expect(r.code, r.stderr).toBe(0);
    const pointer = await readFile(path.join(records, 'build-last.json'));
    expect((JSON.parse(pointer.toString('utf8')) as { tags: string[] }).tags[0]).toBe('v1');
    expect(pointer.equals(await readFile(path.join(records, 'build-v1.json')))).toBe(true);
  }, 240_000);

  it('a no-op made its build the last again while a real build dropped the re-run note: diff --previous compares with it', async () => {
    const dir = await tempDir('gl-note-race-');
    await writeTinyGame(dir, ['game: note-race', 'start: [/opt/local/engine/run]']);
    const repo = `${registry.host}/studio/note-race`;
    await cli(dir, 'build', '--tag', 'v1', '--push', repo, '--line', 'main');
    await appendFile(path.join(dir, 'app-media', 'f.txt'), 'changed\n');
    await cli(dir, 'build', '--tag', 'v2', '--push', repo, '--line', 'main');
    const points = await tempDir('gl-note-race-points-');
    // v3, a real build, held as it drops the note (after its record is the pointer).
    const hold = { GL_TEST_HOLD_AT_RM: JSON.stringify({ target: 'records/rerun-last\\.json$', nth: 1, dir: points }) };
    const v3 = startWatched(['build', '--tag', 'v3'], { cwd: dir, env: hold });
    await until(points, ['held-'], v3.ended);
    expect(v3.ended()).toBe(false);
    // v2 again, a no-op planned on the registry's v2: run to its end, or until it waits for the lock v3 holds.
    const noop = startWatched(['build', '--tag', 'v2', '--push', repo, '--line', 'main'], { cwd: dir, env: marksAt(points, '^$') });
    await until(points, [], async () => noop.ended() || (await waitsOnLock(points, noop, path.join(dir, '.gamelayer', 'records.lock'), v3.pid)));
    await writeFile(path.join(points, 'go'), '');
    for (const r of await Promise.all([v3.result, noop.result])) expect(r.code, r.stderr).toBe(0);
    const diff = await runCli(['diff', '--against', repo, '--previous', '--exit-code'], { cwd: dir });
    expect([diff.code, diff.stdout]).toEqual([0, expect.stringContaining(`${repo}:v2 (the line's previous build: the last build itself`)]);
  }, 240_000);

  it('two builds of one tag: the later build\'s record stays while the earlier one\'s push notes itself in it', async () => {
    const dir = await tempDir('gl-tag-race-');
    await writeTinyGame(dir, ['game: tag-race', 'start: [/opt/local/engine/run]']);
    const repo = `${registry.host}/studio/tag-race`;
    const records = path.join(dir, '.gamelayer', 'records');
    const points = await tempDir('gl-tag-race-points-');
    // The first build's push held noting itself in the tag's record (its own write is the first rename onto it).
    const hold = { GL_TEST_HOLD_AT_RENAME: JSON.stringify({ target: 'records/build-v1\\.json$', nth: 2, dir: points }) };
    const first = startWatched(['build', '--tag', 'v1', '--push', repo], { cwd: dir, env: hold });
    await until(points, ['held-'], first.ended);
    expect(first.ended()).toBe(false);
    // v1 built again from changed trees: on until its record is written, or it waits for the lock the first holds.
    await appendFile(path.join(dir, 'app', 'f.txt'), 'changed\n');
    const later = startWatched(['build', '--tag', 'v1'], { cwd: dir, env: marksAt(points, 'records/build-v1\\.json$') });
    await until(points, [`renamed-${later.pid}`], async () => later.ended() || (await waitsOnLock(points, later, path.join(dir, '.gamelayer', 'records.lock'), first.pid)));
    await writeFile(path.join(points, 'go'), '');
    for (const r of await Promise.all([first.result, later.result])) expect(r.code, r.stderr).toBe(0);
    // The last build is the later one: the working trees as they are now, nothing pushed.
    const diff = await runCli(['diff', '--exit-code'], { cwd: dir });
    expect([diff.code, diff.stdout]).toEqual([0, expect.stringContaining('no changes')]);
    const record = await readFile(path.join(records, 'build-v1.json'));
    expect((JSON.parse(record.toString('utf8')) as { pushed?: unknown }).pushed).toBeUndefined();
    expect(record.equals(await readFile(path.join(records, 'build-last.json')))).toBe(true);
  }, 240_000);
});
