// gamelayer ls and inspect through the real CLI: the local store after two builds (one with a patch), and a real
// registry (docker-registry) after build --push.
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

let dir: string;
let registry: TestRegistry;

beforeAll(async () => {
  dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, filter: (src) => !src.includes('.gamelayer') });
  registry = await startRegistry();
  // Pushed too: build --push plans against the line's newest build in the registry (issue 15), so v2 patches v1.
  expect((await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/studio/sample`], { cwd: dir })).code).toBe(0);
  await writeFile(path.join(dir, 'app-media/levels/new-level.dat'), Buffer.alloc(3000, 7));
  const pushed = await runCli(['build', '--tag', 'v2', '--push', `${registry.host}/studio/sample`], { cwd: dir });
  expect(pushed.stderr).not.toContain('error');
  expect(pushed.code).toBe(0);
}, 180_000);
afterAll(async () => {
  await registry?.stop();
});

const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));

describe('gamelayer ls', () => {
  it('lists the local store: tags, images, sizes, dates, and which tags are builds with a record', async () => {
    const r = await runCli(['ls', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const { tags, builds } = JSON.parse(r.stdout);
    expect(builds.map((b: { tag: string }) => b.tag)).toEqual(['v2', 'v1']);
    expect(tags.map((t: { tag: string }) => t.tag).sort()).toEqual(
      ['v1', 'v2'].flatMap((v) => [v, `${v}-engine`, `${v}-engine-media`, `${v}-app`, `${v}-app-media`]).sort(),
    );
    const byTag = Object.fromEntries(tags.map((t: { tag: string }) => [t.tag, t]));
    expect(byTag.v2).toMatchObject({ image: 'server', build: 'v2', record: true });
    expect(byTag['v2-app-media']).toMatchObject({ image: 'app-media', build: 'v2', record: false });
    // v2's app-media image holds v1's layer plus a patch: bigger than v1's; the unchanged engine image is the same.
    expect(byTag['v2-app-media'].size).toBeGreaterThan(byTag['v1-app-media'].size);
    expect(byTag['v2-engine'].digest).toBe(byTag['v1-engine'].digest);
    expect(byTag.v1.createdAt < byTag.v2.createdAt).toBe(true);

    const text = (await runCli(['ls'], { cwd: dir })).stdout;
    expect(text).toMatch(/^v2 +server +[0-9a-f]{12} +[\d.]+ KiB +\d{4}-\d\d-\d\d \d\d:\d\d +yes$/m);
    expect(text).toContain('10 tags, 2 builds in');
    expect(widest(text)).toBeLessThanOrEqual(80);
  });

  it('lists a registry repository through the tags list API, build records marked', async () => {
    const r = await runCli(['ls', `${registry.host}/studio/sample`, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const { tags } = JSON.parse(r.stdout);
    const byTag = Object.fromEntries(tags.map((t: { tag: string }) => [t.tag, t]));
    expect(byTag.v2).toMatchObject({ kind: 'image' });
    expect(byTag['v2-app']).toMatchObject({ kind: 'image' });
    expect(byTag['v2.gamelayer-record']).toMatchObject({ kind: 'record', recordOf: 'v2' });
    // The line tag names the line's newest record (issue 15): a build record, not an image.
    expect(byTag['gamelayer-line.default']).toMatchObject({ kind: 'record', recordOf: 'v2', line: 'default', digest: byTag['v2.gamelayer-record'].digest });
    const local = JSON.parse((await runCli(['ls', '--json'], { cwd: dir })).stdout).tags;
    // The same image, the same digest and size on both sides.
    const localV2 = local.find((t: { tag: string }) => t.tag === 'v2');
    expect(byTag.v2.digest).toBe(localV2.digest);
    expect(byTag.v2.size).toBe(localV2.size);
    // A record's size is its own (the record blob and its manifests), not the server image its index also names.
    expect(byTag['v2.gamelayer-record'].size).toBeLessThan(byTag.v2.size);
    const text = (await runCli(['ls', `${registry.host}/studio/sample`], { cwd: dir })).stdout;
    expect(text).toMatch(/^v2\.gamelayer-record +record of v2 /m);
    expect(text).toMatch(/^gamelayer-line\.default +record of v2 \(line default\) /m);
    expect(text).toMatch(/ 2 build records\n$/);
    expect(widest(text)).toBeLessThanOrEqual(80);
  });
});

describe('gamelayer inspect', () => {
  it('shows the last local build: trees, layers kept / patch / markers, images', async () => {
    const r = await runCli(['inspect', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v.tags).toEqual(['v2']);
    expect(v.trees.map((t: { tree: string }) => t.tree)).toEqual(['engine', 'engine-media', 'app', 'app-media']);
    const status = (s: string) => v.layers.filter((l: { status: string }) => l.status === s);
    expect(status('patch').map((l: { tree: string; files: number }) => [l.tree, l.files])).toEqual([['app-media', 1]]);
    expect(status('kept')).toHaveLength(4); // every content layer of v1
    expect(status('marker')).toHaveLength(4);
    expect(status('new')).toHaveLength(0);
    expect(v.base).toEqual({ layers: 0, size: 0 });
    expect(v.images.map((i: { name: string }) => i.name)).toEqual(['server', 'engine', 'engine-media', 'app', 'app-media']);

    const text = (await runCli(['inspect', 'v1'], { cwd: dir })).stdout;
    expect(text).toMatch(/^build v1 of sample-game 1\.0\.0, /);
    expect(text).toContain('layers: 4 (4 new, 0 kept, 0 patch) + 4 tree markers');
    expect(text).toContain('record: .gamelayer/records/build-v1.json');
    // v1 was pushed: its record says where (issue 18), one readable line per push.
    expect(text).toMatch(new RegExp(`^pushed: ${registry.host.replace(/\./g, '\\.')}/studio/sample, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC \\(5 images\\)$`, 'm'));
    expect(widest(text)).toBeLessThanOrEqual(80);
  });

  it('reads a pushed build record from the registry', async () => {
    const r = await runCli(['inspect', `${registry.host}/studio/sample:v2`, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v.tags).toEqual(['v2']);
    expect(v.source).toContain(`${registry.host}/studio/sample:v2 (record sha256:`);
    expect(v.layers.filter((l: { status: string }) => l.status === 'patch')).toHaveLength(1);
  });

  it('names the builds there are when the tag is not one', async () => {
    const r = await runCli(['inspect', 'v9', '--json'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'record.no-build', hint: 'builds here: v2, v1' });
  });
});
