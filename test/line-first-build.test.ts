// A release branch cut from main: its line's first build finds no record of its own and plans every tree afresh
// (whole-tree layers: on a 3 GB game, 3 GB a node pulls), though the repository holds main's newest build. The build
// says so and names the tag to start from; with it, the release build sends only its change.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
}, 60_000);
afterAll(async () => {
  await registry?.stop();
});

/** A fresh host: the sample game, no .gamelayer, with `changes` written (path under the game → size). */
async function freshHost(changes: Record<string, number>): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  for (const [file, size] of Object.entries(changes)) await writeFile(path.join(dir, file), Buffer.alloc(size, file.length));
  return dir;
}

const sent = (stdout: string) => (JSON.parse(stdout) as { push: { bytesSent: number } }).push.bytesSent;

describe('the first build of a line', () => {
  it('warns that it plans afresh and names the line tag --from takes; with it, only the change is sent', async () => {
    const repo = `${registry.host}/studio/game`;
    const main1 = await runCli(['build', '--push', repo, '--tag', 'm1', '--line', 'main'], { cwd: await freshHost({}) });
    expect(main1.code, main1.stderr).toBe(0);
    expect(main1.stderr).not.toContain('has no build'); // an empty repository: nothing to start from
    const day2 = { 'app-media/levels/day2.dat': 20_000 };
    const main2 = await runCli(['build', '--push', repo, '--tag', 'm2', '--line', 'main'], { cwd: await freshHost(day2) });
    expect(main2.code, main2.stderr).toBe(0);

    // release-1.4 is cut from main at m2 and gets a hotfix.
    const hotfix = { ...day2, 'app/config/hotfix.cfg': 300 };
    const afresh = await runCli(['build', '--push', repo, '--tag', 'r1', '--line', 'release-1.4', '--json'], { cwd: await freshHost(hotfix) });
    expect(afresh.code, afresh.stderr).toBe(0);
    expect(afresh.stderr).toContain(
      `warning: line "release-1.4" has no build in ${repo} yet: every tree is planned afresh (whole-tree layers, which the push sends and nodes pull wherever the repository lacks them), ` +
        `though the repository holds other lines (main); to start this line from one of them (the branch it was cut from), pass --from ${repo}:gamelayer-line.main`,
    );

    // As the warning says, on another release line: planned on main's m2, only the hotfix's patch and manifests go.
    const from = await runCli(['build', '--push', repo, '--tag', 'r2', '--line', 'release-1.5', '--from', `${repo}:gamelayer-line.main`, '--json'], { cwd: await freshHost(hotfix) });
    expect(from.code, from.stderr).toBe(0);
    expect(from.stderr).not.toContain('has no build');
    expect(sent(from.stdout)).toBeLessThan(sent(afresh.stdout) / 4);
    // Its line's next build plans on its own record: no warning.
    const next = await runCli(['build', '--push', repo, '--tag', 'r3', '--line', 'release-1.5'], { cwd: await freshHost({ ...hotfix, 'app/config/hotfix2.cfg': 200 }) });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).not.toContain('has no build');
  }, 300_000);
});
