// The last-build pointer names the build that recorded last. A real build copied its record to the pointer outside
// the records lock, under which a push notes itself in the pointer (markPushed: is the pointer this build's? then it
// gets the noted copy): a build of v2 that recorded while v1's push was noting itself had its pointer replaced by
// v1's, the older build, and `k8s`, `ecs` and `diff --previous` without a tag took v1. The copy now takes the lock.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startWatched, until } from './support/hold-points.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();

describe('the last-build pointer of two builds at once', () => {
  it('names the build that recorded while the other one\'s push noted itself in the pointer', async () => {
    const dir = await tempDir('gl-pointer-race-');
    await writeTinyGame(dir, ['game: pointer-race', 'start: [/opt/local/engine/run]']);
    const records = path.join(dir, '.gamelayer', 'records');
    const points = await tempDir('gl-pointer-race-points-');
    // v1's push, noting itself under the records lock, is held before it puts the noted copy in the pointer (the
    // build's own copy is the first rename onto it).
    const hold = { GL_TEST_HOLD_AT_RENAME: JSON.stringify({ target: 'records/build-last\\.json$', nth: 2, dir: points }) };
    const v1 = startWatched(['build', '--tag', 'v1', '--push', `${registry.host}/studio/pointer-race`, '--line', 'main'], { cwd: dir, env: hold });
    await until(points, ['held-'], v1.ended);
    expect(v1.ended()).toBe(false);
    // v2 builds meanwhile: it goes on until its copy is in the pointer, or it waits for the records lock.
    const marks = { GL_TEST_MARK_AT: JSON.stringify({ dir: points, link: 'records\\.lock$', renamed: 'records/build-last\\.json$' }) };
    const v2 = startWatched(['build', '--tag', 'v2'], { cwd: dir, env: marks });
    await until(points, ['renamed-', 'link-'], v2.ended);
    await writeFile(path.join(points, 'go'), '');
    const [r1, r2] = await Promise.all([v1.result, v2.result]);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r2.code, r2.stderr).toBe(0);
    const pointer = await readFile(path.join(records, 'build-last.json'));
    expect((JSON.parse(pointer.toString('utf8')) as { tags: string[] }).tags[0]).toBe('v2');
    expect(pointer.equals(await readFile(path.join(records, 'build-v2.json')))).toBe(true);
  });
});
