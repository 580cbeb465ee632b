// inspect on a fresh host (CodeBuild: no .gamelayer, the previous build read from the registry): the layers the
// build kept from the registry's record were never built (nor downloaded) there, and inspect says `kept`, as the
// build's own table said `reused`; the layers it built are `new`.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

interface View {
  layers: { tree: string; status: string; digest: string }[];
}

describe('inspect after a fresh-host build', () => {
  it('layers kept from the registry are kept, not new', async () => {
    const repo = `${registry.host}/studio/game`;
    const day1 = await tempDir();
    copySample(day1);
    const first = await runCli(['build', '--push', repo, '--tag', 'd1', '--line', 'main'], { cwd: day1 });
    expect(first.code, first.stderr).toBe(0);
    const warm = JSON.parse((await runCli(['inspect', '--json'], { cwd: day1 })).stdout) as View;
    expect(warm.layers.filter((l) => l.status !== 'marker').map((l) => l.status)).toEqual(['new', 'new', 'new', 'new']);

    const day2 = await tempDir();
    copySample(day2);
    await writeFile(path.join(day2, 'app/config/day2.cfg'), 'tick=2\n');
    const second = await runCli(['build', '--push', repo, '--tag', 'd2', '--line', 'main', '--json'], { cwd: day2 });
    expect(second.code, second.stderr).toBe(0);
    const reused = (JSON.parse(second.stdout) as { summary: { layers: { digest: string; reused: boolean }[] } }).summary.layers.filter((l) => l.reused).map((l) => l.digest);
    expect(reused).toHaveLength(4);

    const fresh = JSON.parse((await runCli(['inspect', '--json'], { cwd: day2 })).stdout) as View;
    const content = fresh.layers.filter((l) => l.status !== 'marker');
    expect(content.filter((l) => l.status === 'kept').map((l) => l.digest).sort()).toEqual([...reused].sort());
    expect(content.filter((l) => l.status !== 'kept').map((l) => [l.tree, l.status])).toEqual([['app', 'patch']]);
  }, 240_000);

  // A new clone with no build of its own: inspect said only "no build yet, run gamelayer build", and of a pushed
  // build read from the registry it said "pushed: not recorded" (a record as pushed holds no pushes).
  it('with no local build, points at the pushed one; a pushed record says where it was read', async () => {
    const repo = `${registry.host}/studio/inspect-fresh`;
    const built = await tempDir();
    copySample(built);
    const b = await runCli(['build', '--push', repo, '--tag', 'v1', '--line', 'main'], { cwd: built });
    expect(b.code, b.stderr).toBe(0);
    const clone = await tempDir();
    copySample(clone);
    await writeFile(path.join(clone, 'gamelayer.yaml'), `${await readFile(path.join(clone, 'gamelayer.yaml'), 'utf8')}registry: ${repo}\n`);
    const none = await runCli(['inspect'], { cwd: clone });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`hint: on a host without the build (a fresh clone, a CI host), read the pushed one: gamelayer inspect ${repo}:TAG (gamelayer ls ${repo} lists them)`);
    const named = await runCli(['inspect', 'v1'], { cwd: clone });
    expect(named.stderr).toContain(`gamelayer inspect ${repo}:v1 (gamelayer ls`);
    const remote = await runCli(['inspect', `${repo}:v1`], { cwd: clone });
    expect(remote.code, remote.stderr).toBe(0);
    expect(remote.stdout).toContain(`pushed: ${repo} (where this record was read)`);
    expect(remote.stdout).not.toContain('pushed: not recorded');
  }, 240_000);
});
