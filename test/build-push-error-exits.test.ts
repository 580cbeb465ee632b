// `build --push` whose registry fails while other requests of the same step are still out (the previous build's
// blobs asked side by side): the command printed its error, then waited until each of the others had run out its
// retries (GAMELAYER_REGISTRY_RETRIES, 6 by default: seconds against a registry that is gone) before exiting. It
// exits once its error is printed now; what it leaves is what a kill there leaves (nothing half-written).
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { storageProblems } from './support/registry.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { tempDir } from './support/tmp.js';

const net = useRegistryBehindFaultProxy();

describe('build --push when the registry fails one of several requests', () => {
  it('exits once its error is printed, while the other requests are still unanswered', async () => {
    const dir = await tempDir();
    await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
    const repo = `${net.proxy.host}/studio/exits`;
    const first = await runCli(['build', '--tag', 'v1', '--push', repo], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    await writeFile(path.join(dir, 'app-media/levels/v2.dat'), Buffer.alloc(4000, 2));

    // The next build reads v1's record and asks for its blobs side by side: the first is refused (not retried),
    // the others get no answer until the test lets them go, which it does only once the command has ended.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    net.proxy.setRules([
      { method: 'HEAD', path: /\/blobs\/sha256:[0-9a-f]{64}$/, action: { kind: 'status', status: 400 } },
      { method: 'HEAD', path: /\/blobs\/sha256:[0-9a-f]{64}$/, count: 1000, action: { kind: 'hold', until: released } },
    ]);
    const second = await runCli(['build', '--tag', 'v2', '--push', repo], { cwd: dir });
    const held = net.proxy.fired[1]!;
    release();
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^error\[registry\.[a-z-]+\]: .*400/m);
    // It did leave requests unanswered behind it (else this test would not tell).
    expect(held).toBeGreaterThan(0);
    await net.proxy.idle();
    expect(await storageProblems(net.registry.storageDir)).toEqual([]);
  }, 120_000);
});
