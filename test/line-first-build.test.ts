// A release branch cut from main: its line's first build finds no record of its own, though the repository holds
// main's newest build. It plans on that (the newest record among the repository's other lines), so it sends only its
// change, not whole-tree layers (on a 3 GB game, 3 GB a node pulls); --from none still plans afresh.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

/** A fresh host: the sample game, no .gamelayer, with `changes` written (path under the game → size). */
async function freshHost(changes: Record<string, number>): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  for (const [file, size] of Object.entries(changes)) await writeFile(path.join(dir, file), Buffer.alloc(size, file.length));
  return dir;
}

interface BuildJson {
  push: { bytesSent: number };
  summary: { previous: { source: string; ref?: string; line?: string; plannedOn?: string; reason?: string } };
}
const json = (stdout: string) => JSON.parse(stdout) as BuildJson;

describe('the first build of a line', () => {
  it('plans on the newest build of the repository\'s other lines: only its change is sent', async () => {
    const repo = `${registry.host}/studio/game`;
    const main1 = await runCli(['build', '--push', repo, '--tag', 'm1', '--line', 'main', '--json'], { cwd: await freshHost({}) });
    expect(main1.code, main1.stderr).toBe(0);
    expect(main1.stderr).not.toContain('has no build'); // an empty repository: nothing to start from
    expect(json(main1.stdout).summary.previous).toEqual({ source: 'none', line: 'main', reason: `no build of line "main" in ${repo} yet` });
    const day2 = { 'app-media/levels/day2.dat': 20_000 };
    // An older line: cut long ago, its newest build is older than main's.
    const old = await runCli(['build', '--push', repo, '--tag', 'o1', '--line', 'release-1.3', '--json'], { cwd: await freshHost({ 'app/config/old.cfg': 100 }) });
    expect(old.code, old.stderr).toBe(0);
    expect(json(old.stdout).summary.previous).toMatchObject({ source: 'registry', plannedOn: 'main' });
    const main2 = await runCli(['build', '--push', repo, '--tag', 'm2', '--line', 'main', '--json'], { cwd: await freshHost(day2) });
    expect(main2.code, main2.stderr).toBe(0);
    expect(json(main2.stdout).summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.main`, line: 'main' });
    expect(json(main2.stdout).summary.previous.plannedOn).toBeUndefined();

    // release-1.4 is cut from main at m2 and gets a hotfix. Afresh (--from none; to a repository of its own, whose
    // layers are not shared), every tree is sent whole.
    const hotfix = { ...day2, 'app/config/hotfix.cfg': 300 };
    const afresh = await runCli(['build', '--push', `${registry.host}/studio/scratch`, '--tag', 'x1', '--line', 'release-1.4', '--from', 'none', '--json'], { cwd: await freshHost(hotfix) });
    expect(afresh.code, afresh.stderr).toBe(0);
    expect(json(afresh.stdout).summary.previous.source).toBe('none');

    // Its first build plans on main's m2 (newer than release-1.3's o1): only the hotfix's patch and manifests go.
    const first = await runCli(['build', '--push', repo, '--tag', 'r1', '--line', 'release-1.4', '--json'], { cwd: await freshHost(hotfix) });
    expect(first.code, first.stderr).toBe(0);
    expect(json(first.stdout).summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.main`, line: 'release-1.4', plannedOn: 'main' });
    expect(json(first.stdout).push.bytesSent).toBeLessThan(json(afresh.stdout).push.bytesSent / 4);

    // Without --json, the build says which line it planned on: now release-1.4's r1, the newest build of any line.
    const shown = await runCli(['build', '--push', repo, '--tag', 'r2', '--line', 'release-1.5'], { cwd: await freshHost(hotfix) });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stderr).toMatch(new RegExp(`note: line release-1\\.5 has no build in ${repo.replace(/[.]/g, '\\.')} yet: planned on line release-1\\.4's newest build \\(${repo.replace(/[.]/g, '\\.')}:gamelayer-line\\.release-1\\.4, built `));

    // The buildspec's diff step before a new line's first build compares with what that build plans on.
    const diff = await runCli(['diff', '--against', repo, '--line', 'release-1.6'], { cwd: await freshHost(hotfix) });
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).not.toContain('every layer is new');
    expect(diff.stderr).toContain(`note: line release-1.6 has no build in ${repo} yet: compared with line release-1.5's newest build, which its first build plans on`);

    // Its line's next build plans on its own record, and asks for no other line's (no tags list, no other line tag).
    await registry.resetAccessLog();
    const next = await runCli(['build', '--push', repo, '--tag', 'r3', '--line', 'release-1.4', '--json'], { cwd: await freshHost({ ...hotfix, 'app/config/hotfix2.cfg': 200 }) });
    expect(next.code, next.stderr).toBe(0);
    expect(json(next.stdout).summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.release-1.4`, line: 'release-1.4' });
    expect(json(next.stdout).summary.previous.plannedOn).toBeUndefined();
    await new Promise((r) => setTimeout(r, 50)); // the access log is written as each answer completes
    const asked = (await registry.accessLog()).map((e) => e.path);
    expect(asked.filter((p) => p.includes('/tags/list') || /gamelayer-line\.(?!release-1\.4$)/.test(p))).toEqual([]);
    expect(asked).toContain('/v2/studio/game/manifests/gamelayer-line.release-1.4');
  }, 300_000);

  it('a repository that will not list its tags: the first build warns and plans afresh, as with no other line', async () => {
    const main = await runCli(['build', '--push', `${registry.host}/studio/unlisted`, '--tag', 'm1', '--line', 'main'], { cwd: await freshHost({}) });
    expect(main.code, main.stderr).toBe(0);
    const proxy = await startFaultProxy(registry.host, [{ method: 'GET', path: /\/tags\/list/, count: 1000, action: { kind: 'status', status: 403, body: '{"errors":[{"code":"DENIED"}]}' } }]);
    try {
      const repo = `${proxy.host}/studio/unlisted`;
      const first = await runCli(['build', '--push', repo, '--tag', 'r1', '--line', 'release-2.0', '--json'], { cwd: await freshHost({ 'app/config/hotfix.cfg': 300 }) });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain(`warning: line "release-2.0" has no build in ${repo} yet, and the tags of ${repo} could not be listed to find the line it came from (`);
      expect(json(first.stdout).summary.previous).toMatchObject({ source: 'none', line: 'release-2.0' });
      expect(proxy.fired[0]).toBeGreaterThan(0);
    } finally {
      await proxy.stop();
    }
  }, 300_000);
});
