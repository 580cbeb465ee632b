// `build --push R1 --push R2` with R1 down (a region's outage): the build plans on R1's line, so it fails before
// anything is pushed, though a target that fails later gets nothing while the others are pushed. The error named
// only the connection; it now says the first --push is where the build plans, that nothing was pushed, and how to
// push the other regions meanwhile (give one of them first). Nothing reached R2.
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { freePort } from './support/registry.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const up = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-first-down-');
  await writeGame(dir);
});

describe('several --push with the first one unreachable', () => {
  it('says the build plans there, that nothing was pushed, and to give another one first', async () => {
    const down = `127.0.0.1:${await freePort()}/studio/game`;
    const other = `${up.host}/studio/game`;
    await up.resetAccessLog();
    // Two attempts per request (GAMELAYER_REGISTRY_RETRIES): the default six wait about 8 s longer for the same refusal.
    const env = { GAMELAYER_REGISTRY_RETRIES: '2' };
    const r = await runCli(['build', '--tag', 'v1', '--push', down, '--push', other], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error\\[registry\\.unreachable\\]: .* \\(the first --push, ${down.replace(/\./g, '\\.')}, is where this build reads its previous build: nothing was pushed\\)$`, 'm'));
    expect(r.stderr).toContain(`Meanwhile, to push the other repositories, give one of them first (--push ${other} --push …): the build plans on its line there\n`);
    expect((await up.accessLog()).filter((l) => l.method !== 'GET' && l.method !== 'HEAD')).toEqual([]);
    // Given first, the reachable one is pushed, and the unreachable one is the failed target.
    const swapped = await runCli(['build', '--tag', 'v1', '--push', other, '--push', down], { cwd: dir, env });
    expect(swapped.code).toBe(1);
    expect(swapped.stderr).toContain('error[push.targets-failed]: 1 of 2 targets failed');
    expect(swapped.stdout + swapped.stderr).toContain(`${other}: pushed`);
  });
});
