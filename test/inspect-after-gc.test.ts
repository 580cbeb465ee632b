// A build host that runs `gc --keep 1 --apply` after each build (README, "What grows on a build host") keeps no
// record of the build the last one was planned on. `inspect` then showed every layer that build kept as made by it
// ("4 new, 0 kept, 1 patch" for a build that made one patch), while a fresh host's inspect of the same build said
// kept. The kept layers are now read from the record blob the build names (`previous.blob`), as `inspect REPO:TAG` does.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-inspect-gc-');
  await writeGame(dir);
});

const cli = async (...args: string[]) => {
  const r = await runCli(args, { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r;
};

interface View {
  layers: { tree: string; status: string; digest: string }[];
}

describe('inspect of a build whose previous build gc removed', () => {
  it('shows the layers it kept from the registry build as kept, not new', async () => {
    const repo = `${registry.host}/studio/inspect-gc`;
    await cli('build', '--tag', 'v1', '--push', repo, '--line', 'main');
    await writeFile(path.join(dir, 'app-media/levels/l1/level.pak'), Buffer.alloc(20_000, 9));
    await cli('build', '--tag', 'v2', '--push', repo, '--line', 'main');
    const before = JSON.parse((await cli('inspect', 'v2', '--json')).stdout) as View;
    await cli('gc', '--keep', '1', '--apply');
    const after = await cli('inspect', 'v2', '--json');
    // The same statuses as while v1's record was here, and as a fresh host's inspect of the pushed build.
    expect((JSON.parse(after.stdout) as View).layers).toEqual(before.layers);
    const pushed = JSON.parse((await cli('inspect', `${repo}:v2`, '--json')).stdout) as View;
    expect(pushed.layers.map((l) => l.status)).toEqual(before.layers.map((l) => l.status));
    const statuses = before.layers.filter((l) => l.status !== 'marker').map((l) => `${l.tree} ${l.status}`);
    expect(statuses).toEqual(['engine-media kept', 'engine kept', 'app-media kept', 'app kept', 'app-media patch']);
    expect((await cli('inspect', 'v2')).stdout).toContain('layers: 5 (0 new, 4 kept, 1 patch) + 4 tree markers');
  });
});
