// A base image layer mounted from the base's repository sends nothing: the push's line for it says "mounted" with its
// size and no transfer rate. It said "mounted 1.03 MiB (0.02s, 51.6 MB/s)", as if the base had gone up.
import { describe, expect, it } from 'vitest';
import { pushBusyboxBase } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { sampleOnBase } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';

const registry = useRegistry();

describe('push of a game on a base kept in the same registry', () => {
  it('reports the mounted base layer without a rate', async () => {
    const base = `${registry.host}/base/os-mount`;
    await pushBusyboxBase(`${base}:stable`);

    const game = await sampleOnBase(`${base}:stable`);
    const r = await runCli(['build', '--push', `${registry.host}/studio/mount-rate`, '--tag', 'v1'], { cwd: game });
    expect(r.code, r.stderr).toBe(0);
    const mounted = r.stderr.split('\n').filter((l) => /^blob [0-9a-f]{12} \(v1\): mounted /.test(l));
    expect(mounted.length, r.stderr).toBe(1);
    expect(mounted[0]).toMatch(/: mounted \d+(\.\d+)? (B|KiB|MiB) \(\d+\.\d\ds\)$/);
    // Uploaded blobs keep their rate.
    expect(r.stderr).toMatch(/^blob [0-9a-f]{12} \(v1\): uploaded .* \(\d+\.\d\ds, \d+\.\d MB\/s\)$/m);
  }, 120_000);
});
