// Bytes sent, as the registry received them: a new tag of unchanged content on a fresh host sends no layer but a new
// build record blob (megabytes for a game of many files), and the push counts it; the no-op after it sends nothing.
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

interface Pushed {
  push: { bytesSent: number; blobs: { uploaded: number }; record: { artifact: string; bytesSent: number } };
}

async function freshHost(): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  return dir;
}

/** The size of the record blob a record artifact manifest names, as the registry serves it. */
async function recordBlobSize(repo: string, artifact: string): Promise<number> {
  const res = await fetch(`http://${registry.host}/v2/${repo}/manifests/${artifact}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  const manifest = (await res.json()) as { layers: { size: number }[] };
  return manifest.layers[0]!.size;
}

describe('bytes sent count the build record', () => {
  it('a new tag of the same content: only the record blob, counted; the same tag again: 0 B', async () => {
    const repo = `${registry.host}/studio/game`;
    const d1 = await runCli(['build', '--push', repo, '--tag', 'd1', '--line', 'main'], { cwd: await freshHost() });
    expect(d1.code, d1.stderr).toBe(0);

    const host = await freshHost();
    await registry.resetAccessLog();
    const d2 = await runCli(['build', '--push', repo, '--tag', 'd2', '--line', 'main', '--json'], { cwd: host });
    expect(d2.code, d2.stderr).toBe(0);
    const pushed = (JSON.parse(d2.stdout) as Pushed).push;
    expect(pushed.blobs.uploaded).toBe(0); // no layer, no config: the same images
    const size = await recordBlobSize('studio/game', pushed.record.artifact);
    expect(pushed.record.bytesSent).toBe(size);
    expect(pushed.bytesSent).toBe(size);
    // What the registry completed: one blob upload, the record's.
    expect(await registry.completedUploads()).toBe(1);

    const again = await runCli(['build', '--push', repo, '--tag', 'd2', '--line', 'main'], { cwd: host });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^blobs: 0 uploaded, 0 mounted, \d+ already there; 0 B sent$/m);
    const text = await runCli(['build', '--push', repo, '--tag', 'd3', '--line', 'main'], { cwd: host });
    expect(text.stdout).toMatch(/^blobs: 0 uploaded, 0 mounted, \d+ already there; [\d.]+ KiB sent \(the build record's [\d.]+ KiB included\)$/m);
  }, 240_000);
});
