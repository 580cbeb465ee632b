// `diff --against REPO --previous` compares with the build the last run was planned on. A no-op (the same build made
// again: a CodeBuild retry, a re-run pipeline) keeps its record byte for byte, `previous` too (what that content was
// first planned on), so the old code compared with the build before the last real one: "nodes running v1 pull …"
// after a run that changed nothing. The run was planned on the last build itself: nothing changed since.
import { appendFile, cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const registry = useRegistry();

describe('diff --previous after a no-op build', () => {
  it('compares with the last build itself (no changes), on the same host and a fresh one; a real change compares with the build before it again', async () => {
    const dir = await tempDir('gl-previous-noop-');
    await writeTinyGame(dir, ['game: previous-noop', 'start: [/opt/local/engine/run]']);
    const repo = `${registry.host}/studio/previous-noop`;
    const build = async (cwd: string, tag: string) => {
      const r = await runCli(['build', '--tag', tag, '--push', repo, '--line', 'main'], { cwd });
      expect(r.code, r.stderr).toBe(0);
    };
    const previousDiff = async (cwd: string) => {
      const r = await runCli(['diff', '--against', repo, '--previous', '--exit-code'], { cwd });
      expect([0, 3]).toContain(r.code);
      return r;
    };
    await build(dir, 'v1');
    await appendFile(path.join(dir, 'app-media', 'f.txt'), 'changed\n');
    await build(dir, 'v2');
    const afterReal = await previousDiff(dir);
    expect(afterReal.code, afterReal.stdout).toBe(3);
    expect(afterReal.stdout).toContain(`${repo}:v1 (the line's previous build, which v2 was planned on)`);

    // The same build again, on a fresh host (the record comes from the registry) and on this one.
    const fresh = await tempDir('gl-previous-noop-fresh-');
    await cp(dir, fresh, { recursive: true, filter: (p) => !p.includes('.gamelayer') });
    for (const host of [fresh, dir]) {
      await build(host, 'v2');
      const r = await previousDiff(host);
      expect([host === dir ? 'same host' : 'fresh host', r.code, r.stdout]).toEqual([host === dir ? 'same host' : 'fresh host', 0, expect.stringContaining('no changes')]);
      expect(r.stdout).toContain(`${repo}:v2 (the line's previous build: the last build itself, which the last run made again unchanged)`);
      expect(r.stdout).toMatch(/^the pod pulls 0 B of /m);
    }

    // A record of an older version names no tag of the build it was planned on (before stop 48): after a no-op
    // the last build itself is still compared with.
    for (const name of ['build-v2.json', 'build-last.json']) {
      const file = path.join(dir, '.gamelayer', 'records', name);
      const record = JSON.parse(await readFile(file, 'utf8')) as { previous: { tag?: string } };
      delete record.previous.tag;
      await writeFile(file, JSON.stringify(record));
    }
    expect((await previousDiff(dir)).stdout).toContain(`${repo}:v2 (the line's previous build: the last build itself`);

    // A real change: the note of the no-op no longer counts.
    await appendFile(path.join(dir, 'app', 'f.txt'), 'changed\n');
    await build(dir, 'v3');
    const next = await previousDiff(dir);
    expect(next.code).toBe(3);
    expect(next.stdout).toContain(`${repo}:v2 (the line's previous build, which v3 was planned on)`);
  }, 180_000);

  // The no-op says the last build is the baseline only in the repository it was read from: a no-op of a build never
  // pushed, or pushed to another repository, looked up REPO:<its tag> (retried, then failed as unreachable or absent).
  it('of a build never pushed, or pushed to another repository, has no baseline there', async () => {
    const noBaseline = "the last build (v1) was planned on no earlier build in a registry: no baseline to compare with";
    const local = await tempDir('gl-previous-noop-local-');
    await writeTinyGame(local, ['game: previous-noop', 'start: [/opt/local/engine/run]']);
    for (let i = 0; i < 2; i++) expect((await runCli(['build', '--tag', 'v1'], { cwd: local })).code).toBe(0);
    // Nothing listens there: any lookup fails.
    const unpushed = await runCli(['diff', '--against', '127.0.0.1:9/studio/x', '--previous'], { cwd: local });
    expect([unpushed.code, unpushed.stdout, unpushed.stderr]).toEqual([0, expect.stringContaining(noBaseline), '']);

    const pushed = await tempDir('gl-previous-noop-other-');
    await writeTinyGame(pushed, ['game: previous-noop', 'start: [/opt/local/engine/run]']);
    const repo = `${registry.host}/studio/previous-noop-a`;
    for (let i = 0; i < 2; i++) expect((await runCli(['build', '--tag', 'v1', '--push', repo], { cwd: pushed })).code).toBe(0);
    const other = await runCli(['diff', '--against', `${registry.host}/studio/previous-noop-b`, '--previous'], { cwd: pushed });
    expect([other.code, other.stdout, other.stderr]).toEqual([0, expect.stringContaining(noBaseline), '']);
    // Where it was read from, the last build itself.
    const same = await runCli(['diff', '--against', repo, '--previous'], { cwd: pushed });
    expect([same.code, same.stdout]).toEqual([0, expect.stringContaining(`${repo}:v1 (the line's previous build: the last build itself`)]);
  }, 180_000);
});
