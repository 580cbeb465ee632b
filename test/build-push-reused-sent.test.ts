// A build whose layers were all reused from the local store (a tree switched to chunks and back; a build made
// without --push first) said "0 built, 4 reused; new bytes 0 B", and the push below it "28.9 MiB sent": each true,
// together a contradiction. When the push sends layers the build reused, a line right below the bytes sent says how
// much of it they are and why ("the registry lacked them"); a push that sends none of them says nothing more.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-reused-sent-');
  copySample(dir);
  const local = await runCli(['build', '--tag', 'v1'], { cwd: dir });
  expect(local.code, local.stderr).toBe(0);
}, 120_000);

const REUSED_SENT = /^of that, ([\d.]+ (?:B|KiB|MiB|GiB)) is (\d+) layers? this build reused from the local store that (\S+) lacked \(the build's "new bytes" counts only layers built now\)$/m;

describe('build --push of layers reused from the local store', () => {
  it('says which part of the bytes sent is layers the build reused, right below them', async () => {
    const repo = `${registry.host}/studio/reused-sent`;
    const r = await runCli(['build', '--tag', 'v2', '--push', repo], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const summary = /^layers: 0 built, (\d+) reused; new bytes 0 B of /m.exec(r.stdout);
    expect(summary, r.stdout).not.toBeNull();
    const lines = r.stdout.split('\n');
    const blobs = lines.findIndex((l) => l.startsWith('blobs: '));
    const said = REUSED_SENT.exec(lines[blobs + 1] ?? '');
    expect(said, r.stdout).not.toBeNull();
    expect(said![2]).toBe(summary![1]);
    expect(said![3]).toBe(repo);

    // Pushed again: the registry has every layer, nothing is sent, and nothing more is said.
    const again = await runCli(['build', '--tag', 'v3', '--push', repo], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^blobs: 0 uploaded, 0 mounted, \d+ already there; 0 B sent/m);
    expect(again.stdout).not.toMatch(REUSED_SENT);
  });

  it('build --push A --push B: says it below each target that was sent layers the build reused (it was said for none)', async () => {
    const repos = [`${registry.host}/studio/reused-sent-a`, `${registry.host}/studio/reused-sent-b`];
    const r = await runCli(['build', '--tag', 'v4', '--push', repos[0]!, '--push', repos[1]!], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    for (const repo of repos) {
      const target = lines.findIndex((l) => l.startsWith(`${repo}: pushed (`));
      expect(target, r.stdout).toBeGreaterThanOrEqual(0);
      // Its line says what was sent there; the line below says how much of it is layers the build reused.
      const sent = /; ([\d.]+ (?:B|KiB|MiB|GiB)) sent\)$/.exec(lines[target]!);
      const said = REUSED_SENT.exec(lines[target + 1] ?? '');
      expect(said, r.stdout).not.toBeNull();
      expect(said![3]).toBe(repo);
      expect(sent, lines[target]).not.toBeNull();
    }
  });

  it('push of a build made without --push: the same line below the bytes sent (it was said by build --push alone)', async () => {
    // v1 was built first (beforeAll); v5 reuses every layer of it, and neither was pushed here.
    const built = await runCli(['build', '--tag', 'v5'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const reused = /^layers: 0 built, (\d+) reused/m.exec(built.stdout);
    expect(reused, built.stdout).not.toBeNull();
    const repo = `${registry.host}/studio/reused-sent-push`;
    const r = await runCli(['push', `${repo}:v5`], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const said = REUSED_SENT.exec(lines[lines.findIndex((l) => l.startsWith('blobs: ')) + 1] ?? '');
    expect(said, r.stdout).not.toBeNull();
    expect(said![2]).toBe(reused![1]);
    expect(said![3]).toBe(repo);

    // To several: below each target.
    const repos = [`${registry.host}/studio/reused-sent-push-a`, `${registry.host}/studio/reused-sent-push-b`];
    const many = await runCli(['push', ...repos.map((x) => `${x}:v5`)], { cwd: dir });
    expect(many.code, many.stderr).toBe(0);
    const manyLines = many.stdout.split('\n');
    for (const repo of repos) {
      const target = manyLines.findIndex((l) => l.startsWith(`${repo}: pushed (`));
      expect(target, many.stdout).toBeGreaterThanOrEqual(0);
      expect(REUSED_SENT.exec(manyLines[target + 1] ?? '')?.[3], many.stdout).toBe(repo);
    }
  });
});
