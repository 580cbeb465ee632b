// gamelayer build --push against a real registry, checked by skopeo and the registry's own log and storage.
import { execFile, execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startFaultProxy } from './support/fault-proxy.js';
import { storageProblems, storedTags } from './support/registry.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');
const registry = useRegistry();

describe('gamelayer build --push', () => {
  it('pushes the server and tree images; a rebuild pushes nothing; an edit pushes one layer', async () => {
    const dir = await tempDir();
    copySample(dir);
    const repo = `${registry.host}/studio/sample`;
    const first = JSON.parse((await run(BIN, ['build', '--push', repo, '--tag', 'v1', '--json'], { cwd: dir })).stdout);
    expect(first.push.images.map((i: { tags: string[] }) => i.tags[0])).toEqual(['v1', 'v1-engine', 'v1-engine-media', 'v1-app', 'v1-app-media']);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${repo}:v1`]).toString());
    expect(inspect.Digest).toBe(first.images.find((i: { name: string }) => i.name === 'server').digest);
    expect(inspect.Layers).toHaveLength(4);

    await registry.resetAccessLog();
    const again = JSON.parse((await run(BIN, ['build', '--push', repo, '--tag', 'v1', '--json'], { cwd: dir })).stdout);
    expect(again.push.images.every((i: { upToDate: boolean }) => i.upToDate)).toBe(true);
    expect(await registry.completedUploads()).toBe(0);

    const pak = execFileSync('find', [path.join(dir, 'app-media'), '-name', '*.pak']).toString().split('\n')[0]!;
    await writeFile(pak, (await readFile(pak)).map((b) => b ^ 0x5a)); // same size, other content
    await registry.resetAccessLog();
    const edited = JSON.parse((await run(BIN, ['build', '--push', repo, '--tag', 'v2', '--json'], { cwd: dir })).stdout);
    expect(edited.summary.built).toBe(2); // the app-media layer and the app-media sentinel
    // Registry side: the patch layer, the sentinel, a config per changed image (server + app-media), the new record.
    expect(await registry.completedUploads()).toBe(5);
    const record = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}:v2.gamelayer-record`]).toString());
    expect(record.subject.digest).toBe(edited.images.find((i: { name: string }) => i.name === 'server').digest);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
  });

  it('diff --against a pushed build: changed files, layers, and the pull cost a node pays, as skopeo sees it', async () => {
    const dir = await tempDir();
    copySample(dir);
    const repo = `${registry.host}/studio/pullcost`;
    await run(BIN, ['build', '--push', repo, '--tag', 'v1'], { cwd: dir });
    await writeFile(path.join(dir, 'app-media/levels/harbor/extra.pak'), Buffer.alloc(9000, 9));
    await run(BIN, ['build', '--push', repo, '--tag', 'v2'], { cwd: dir });
    await writeFile(path.join(dir, 'app/config/game.xml'), '<game version="3"/>\n'); // a working-tree change not yet built

    const out = JSON.parse((await run(BIN, ['diff', '--against', `${repo}:v1`, '--json'], { cwd: dir })).stdout);
    expect(out.trees.find((t: { label: string }) => t.label === 'app-media').added.map((e: { path: string }) => e.path)).toEqual([
      'levels/harbor/extra.pak',
    ]);
    expect(out.trees.find((t: { label: string }) => t.label === 'app').modified).toHaveLength(1);
    expect(out.layers).toMatchObject({ rebuilt: 2 }); // a patch for app-media and one for app

    // Independent figure: layers of v2's tree images not in v1's, read from the registry by skopeo.
    const layersOf = (tag: string) =>
      JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}:${tag}`]).toString()).layers as { digest: string; size: number }[];
    const trees = ['engine', 'engine-media', 'app', 'app-media'];
    const v1 = new Set(trees.flatMap((t) => layersOf(`v1-${t}`).map((l) => l.digest)));
    const v2 = new Map(trees.flatMap((t) => layersOf(`v2-${t}`).map((l) => [l.digest, l.size] as const)));
    const expected = [...v2].filter(([d]) => !v1.has(d)).reduce((n, [, size]) => n + size, 0);
    expect(out.pullCost.pod.newBytes).toBe(expected);
    expect(out.pullCost.pod.newLayers).toBe(2); // the app-media patch and its new sentinel
    const text = (await run(BIN, ['diff', '--against', `${repo}:v1`], { cwd: dir })).stdout;
    expect(text).toContain(`pull cost: a node running ${repo}:v1 pulls to run the last build (v2) (linux/amd64):`);
    expect(text).toMatch(/^pod \(tree images\)\s+2\/\d+/m);
  });

  it('build --from on a machine without local state keeps the pushed layers: neither downloaded nor rebuilt', async () => {
    const dir = await tempDir();
    const first = path.join(dir, 'first');
    copySample(first);
    const repo = `${registry.host}/studio/fresh`;
    const v1 = JSON.parse((await run(BIN, ['build', '--push', repo, '--tag', 'v1', '--json'], { cwd: first })).stdout);

    const fresh = path.join(dir, 'fresh'); // another machine: the same sources, no .gamelayer/
    copySample(fresh);
    await writeFile(path.join(fresh, 'app/config/server.cfg'), 'port=4242\n');
    await registry.resetAccessLog();
    const v2 = JSON.parse((await run(BIN, ['build', '--from', `${repo}:v1`, '--push', repo, '--tag', 'v2', '--json'], { cwd: fresh })).stdout);
    expect(v2.summary.trees.map((t: { tree: string; decision: string }) => `${t.tree}:${t.decision}`)).toEqual([
      'engine:unchanged', 'engine-media:unchanged', 'app:patched', 'app-media:unchanged',
    ]);
    expect(v2.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:v1` });
    // Nothing of v1 was tarred or compressed again: only the app patch and app's new sentinel were built; the
    // unchanged trees' sentinels are v1's too.
    expect(v2.summary.built).toBe(2);
    const kept = v2.summary.layers.filter((l: { patch?: boolean; reused: boolean }) => !l.reused).map((l: { tree: string }) => l.tree);
    expect(kept).toEqual(['app']);
    expect(v2.summary.layers.filter((l: { reused: boolean }) => l.reused).map((l: { digest: string }) => l.digest)).toEqual(
      v1.summary.layers.map((l: { digest: string }) => l.digest),
    );
    // Registry side: no layer of v1 was downloaded (HEADs only); uploads are the patch, the sentinel, configs and the record.
    const log = await registry.accessLog();
    const v1Layers = new Set(v1.summary.layers.map((l: { digest: string }) => l.digest));
    expect(log.filter((e) => e.method === 'GET' && v1Layers.has(e.path.split('/blobs/')[1]))).toEqual([]);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${repo}:v2`]);
  });

  it('pushes the tree images side by side once the server image is up, and the record after all of them', async () => {
    const dir = await tempDir();
    copySample(dir);
    // The engine tree image's manifest is held back 1.5 s at a proxy. Pushed one after the other, no later tree
    // image could be in the registry before it; pushed side by side, app-media gets there first.
    const proxy = await startFaultProxy(registry.host, [
      { method: 'PUT', path: /^\/v2\/studio\/sidebyside\/manifests\/v1-engine$/, action: { kind: 'stall', ms: 1500 } },
    ]);
    const seen: Record<string, string>[] = [];
    let pushing = true;
    const watch = (async () => {
      while (pushing) {
        seen.push(await storedTags(registry.storageDir, 'studio/sidebyside'));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await run(BIN, ['build', '--push', `${proxy.host}/studio/sidebyside`, '--tag', 'v1'], { cwd: dir });
    } finally {
      pushing = false;
      await watch;
      await proxy.stop();
    }
    expect(proxy.fired).toEqual([1]);
    expect(seen.some((t) => t['v1-app-media'] && !t['v1-engine'])).toBe(true);
    // The server image came before every tree image, and the record only when all five were there.
    expect(seen.every((t) => !t['v1-app-media'] || t['v1'])).toBe(true);
    expect(seen.every((t) => !t['v1.gamelayer-record'] || ['v1', 'v1-engine', 'v1-engine-media', 'v1-app', 'v1-app-media'].every((k) => t[k]))).toBe(true);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
  });

  it('refuses a repository with a tag', async () => {
    const dir = await tempDir();
    copySample(dir);
    const err = await run(BIN, ['build', '--push', `${registry.host}/studio/sample:v1`], { cwd: dir }).catch((e: { stderr: string }) => e);
    expect((err as { stderr: string }).stderr).toContain(`error[push.repository-only]: ${registry.host}/studio/sample:v1: expected a repository without tag or digest`);
  });
});
