// A blob file removed from the local store while a push is under way (by hand, or a gc on another host sharing the
// folder) failed the push as "registry.network … network error with <host> (ENOENT) after 1 attempts", with the hint
// that the registry or the network failed. It is the store's problem: the error names the file. The registry
// holds the push's uploads until the file is gone, however loaded the machine.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sleep, startCli } from './support/cli-process.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const net = useRegistryBehindFaultProxy();

describe('a store blob removed during a push', () => {
  it('is named as the store\'s file, not blamed on the network', async () => {
    const dir = await tempDir('gl-push-gone-');
    await writeTinyGame(dir, ['game: gone', 'start: [/opt/local/engine/run]']);
    expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    const record = JSON.parse(await readFile(path.join(dir, '.gamelayer', 'records', 'build-v1.json'), 'utf8')) as { layers: { tree: string; digest: string }[] };
    const layer = record.layers.find((l) => l.tree === 'app')!;
    const file = path.join(dir, '.gamelayer', 'oci', 'blobs', 'sha256', layer.digest.slice('sha256:'.length));

    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    // Every upload waits at its start: the blob is read only after the gate opens.
    net.proxy.setRules([{ method: 'POST', path: /\/blobs\/uploads\/$/, count: 1000, action: { kind: 'hold', until: gate } }]);
    const push = startCli(['push', `${net.proxy.host}/studio/gone:v1`, '--concurrency', '1'], { cwd: dir });
    while (!net.proxy.fired[0]) await sleep(20);
    await rm(file);
    open();
    const r = await push.result;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: the file is gone (removed while it was being read`);
    expect(r.stderr).not.toContain('net.registry.network');
  });
});
