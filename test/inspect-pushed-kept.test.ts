// `inspect REPO:TAG` of a daily build pushed from a fresh host, read on another fresh host: the layers the build kept
// from the build it was planned on are `kept`, as the local inspect says, not `new`. The pushed record names that
// build's record blob, where inspect reads its layers to tell them apart, also when every build has the same tag.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { dailyOnFreshHost } from './support/fresh-host-daily.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
let dir: string;

beforeAll(async () => {
  dir = await tempDir('gl-inspect-kept-');
  registry = await startRegistry();
}, 120_000);
afterAll(async () => registry.stop());

interface View {
  layers: { tree: string; index: number; status: string; digest: string }[];
}

async function inspect(ref: string, cwd: string): Promise<View> {
  const r = await runCli(['inspect', ref, '--json'], { cwd });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as View;
}

describe('inspect of a pushed daily build', () => {
  it('calls the layers kept from the previous build kept, and only the cold build\'s new', async () => {
    const repo = `${registry.host}/studio/game`;
    // Day 1 on a fresh host: one changed file, no .gamelayer/.
    await dailyOnFreshHost(dir, ['--push', repo]);

    // Read from a third host that has neither build.
    const reader = path.join(dir, 'reader');
    copySample(reader);
    const d0 = await inspect(`${repo}:d0`, reader);
    const d1 = await inspect(`${repo}:d1`, reader);
    const content = (v: View) => v.layers.filter((l) => l.status !== 'marker');
    expect(content(d0).map((l) => l.status)).toEqual(content(d0).map(() => 'new'));
    const d0Digests = new Set(d0.layers.map((l) => l.digest));
    const kept = content(d1).filter((l) => d0Digests.has(l.digest));
    expect(kept.length).toBe(4);
    expect(kept.map((l) => l.status)).toEqual(['kept', 'kept', 'kept', 'kept']);
    // Day 1's own layer is the app tree's patch.
    expect(content(d1).filter((l) => !d0Digests.has(l.digest)).map((l) => [l.tree, l.status])).toEqual([['app', 'patch']]);
    expect(content(d1).some((l) => l.status === 'new')).toBe(false);

    // Day 2: day 1's patch is kept now, as every other layer day 2 did not make ("patch" counted it as made).
    const day2 = path.join(dir, 'day2');
    copySample(day2);
    await appendFile(path.join(day2, 'app/config/server.cfg'), '\nmax_players=64\n');
    await appendFile(path.join(day2, 'app/game.xml'), '\n<!-- day 2 -->\n');
    expect((await runCli(['build', '--tag', 'd2', '--push', repo], { cwd: day2 })).code).toBe(0);
    const d2 = await inspect(`${repo}:d2`, reader);
    const d1Patch = content(d1).find((l) => l.status === 'patch')!.digest;
    const d1Digests = new Set(d1.layers.map((l) => l.digest));
    expect(content(d2).find((l) => l.digest === d1Patch)?.status).toBe('kept');
    expect(content(d2).filter((l) => !d1Digests.has(l.digest)).map((l) => l.status)).toEqual(['patch']);
  }, 180_000);

  it('tells kept from new when every build is pushed under the same tag (the version, bumped once a month)', async () => {
    const repo = `${registry.host}/studio/same-tag`;
    const first = path.join(dir, 'same0');
    copySample(first);
    expect((await runCli(['build', '--tag', 'nightly', '--push', repo], { cwd: first })).code).toBe(0);
    const next = path.join(dir, 'same1');
    copySample(next);
    await appendFile(path.join(next, 'app/config/server.cfg'), '\nmax_players=32\n');
    const r = await runCli(['build', '--tag', 'nightly', '--push', repo], { cwd: next });
    expect(r.code, r.stderr).toBe(0);
    const statuses = (await inspect(`${repo}:nightly`, next)).layers.filter((l) => l.status !== 'marker').map((l) => l.status);
    expect(statuses.sort()).toEqual(['kept', 'kept', 'kept', 'kept', 'patch']);
  }, 180_000);
});
