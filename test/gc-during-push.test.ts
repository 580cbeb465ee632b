// `gc --apply` while `push` sends an older build from the same store: push held nothing, so gc deleted the blobs it
// was about to send and the push failed with "registry.network … (ENOENT)", blaming the network. A push (and a load)
// now holds the store as a reader: gc waits for it, then removes the build. The registry holds the push's first
// upload until gc is seen waiting (or, on the old code, finished), however loaded the machine.
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sleep, startCli } from './support/cli-process.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const net = useRegistryBehindFaultProxy();

describe('gc --apply while a push reads the store', () => {
  it('waits for the push, which sends every blob; then removes the build', async () => {
    const dir = await tempDir('gl-gc-push-');
    await writeTinyGame(dir, ['game: gcpush', 'start: [/opt/local/engine/run]']);
    expect((await runCli(['build', '--tag', 'v1'], { cwd: dir })).code).toBe(0);
    await writeFile(path.join(dir, 'app', 'f.txt'), 'app v2\n');
    expect((await runCli(['build', '--tag', 'v2'], { cwd: dir })).code).toBe(0);

    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    net.proxy.setRules([{ method: 'POST', path: /\/blobs\/uploads\/$/, action: { kind: 'hold', until: gate } }]);
    const push = startCli(['push', `${net.proxy.host}/studio/gcpush:v1`], { cwd: dir });
    while (!net.proxy.fired[0]) await sleep(20);

    const gc = startCli(['gc', '--apply', '--keep', '1'], { cwd: dir });
    let gcDone = false;
    void gc.result.then(() => (gcDone = true));
    const gcLock = path.join(dir, '.gamelayer', 'oci', '.holds', 'gc');
    while (!gcDone && !existsSync(gcLock)) await sleep(20);
    open();

    const [pushed, collected] = await Promise.all([push.result, gc.result]);
    expect(pushed.stderr).not.toContain('ENOENT');
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout).toContain('removed 1 build: v1');
    const tags = ((await (await fetch(`${net.registry.url}/v2/studio/gcpush/tags/list`)).json()) as { tags: string[] }).tags;
    expect(tags).toEqual(expect.arrayContaining(['v1', 'v1-app', 'v1.gamelayer-record']));
    // No hold is left behind.
    expect((await readdir(path.join(dir, '.gamelayer', 'oci', '.holds'))).filter((n) => n !== 'gc' && !n.startsWith('.'))).toEqual([]);
  });
});
