// prune keeps every tag that is no build's: images whose record someone deleted, a base image kept in the repository.
// It kept them without a word, so a repository whose record tags were removed by hand kept those images for good and
// nobody was told. They are now listed (text and --json `unclaimed`), never deleted.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
let reg: TestRegistry;
let dir: string;
beforeAll(async () => {
  reg = await startRegistry();
  dir = await tempDir('gl-prune-unclaimed-');
  await writeGame(dir);
}, 60_000);
afterAll(async () => {
  await reg?.stop();
});

describe('prune and tags no build record claims', () => {
  it('lists them, keeps them', async () => {
    const repo = `${reg.host}/studio/game`;
    for (const [tag, fill] of [['v1', 1], ['v2', 2], ['v3', 3]] as const) {
      await writeFile(path.join(dir, 'app-media/paks/a.pak'), Buffer.alloc(50_000, fill));
      const b = await runCli(['build', '--tag', tag, '--push', repo, '--line', 'main'], { cwd: dir });
      expect(b.code, b.stderr).toBe(0);
    }
    // Someone deletes v2's record (its own index: the line tag names v3's).
    const head = await fetch(`${reg.url}/v2/studio/game/manifests/v2.gamelayer-record`, { method: 'HEAD', headers: { accept: INDEX } });
    expect((await fetch(`${reg.url}/v2/studio/game/manifests/${head.headers.get('docker-content-digest')}`, { method: 'DELETE' })).status).toBe(202);

    const dry = await runCli(['prune', repo, '--keep', '1'], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('kept 1 build: v3');
    expect(dry.stdout).toContain(
      "left 5 tags that no build record here claims (v2, v2-app, v2-app-media, v2-engine, v2-engine-media): their build record is gone, or they are not gamelayer's; prune never deletes those (delete what is unused by hand)",
    );
    const json = await runCli(['prune', repo, '--keep', '1', '--apply', '--json'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { unclaimed: string[] }).unclaimed).toEqual(['v2', 'v2-app', 'v2-app-media', 'v2-engine', 'v2-engine-media']);
    const left = Object.keys(await storedTags(reg.storageDir, 'studio/game'));
    expect(left).toContain('v2-app');
    expect(left).not.toContain('v1.gamelayer-record');
  });
});

describe('prune and `<tag>.gamelayer-pruned` marks not of an interrupted prune', () => {
  // The mark an interrupted prune leaves on ECR with immutable tags (test/kill-prune.test.ts) makes the next prune
  // remove its build whatever --keep says; a tag of that form is taken for one only when it names the build's own
  // record manifest (anyone who may push can write a tag).
  it('an image, or another build\'s record manifest, under such a tag removes nothing', async () => {
    const repo = `${reg.host}/studio/marks`;
    for (const [tag, fill] of [['v1', 4], ['v2', 5], ['v3', 6]] as const) {
      await writeFile(path.join(dir, 'app-media/paks/a.pak'), Buffer.alloc(50_000, fill));
      const b = await runCli(['build', '--tag', tag, '--push', repo], { cwd: dir });
      expect(b.code, b.stderr).toBe(0);
    }
    const get = async (ref: string, accept: string) => {
      const r = await fetch(`${reg.url}/v2/studio/marks/manifests/${ref}`, { headers: { accept } });
      expect(r.status).toBe(200);
      return { bytes: Buffer.from(await r.arrayBuffer()), type: r.headers.get('content-type')! };
    };
    const put = async (ref: string, m: { bytes: Buffer; type: string }) =>
      expect((await fetch(`${reg.url}/v2/studio/marks/manifests/${ref}`, { method: 'PUT', headers: { 'content-type': m.type }, body: new Uint8Array(m.bytes) })).status).toBe(201);
    const OCI = 'application/vnd.oci.image.manifest.v1+json';
    const v1Index = JSON.parse((await get('v1.gamelayer-record', INDEX)).bytes.toString('utf8')) as { manifests: { digest: string; artifactType?: string }[] };
    const v1Record = v1Index.manifests.find((m) => m.artifactType?.startsWith('application/vnd.gamelayer.build-record'))!.digest;
    await put('v2.gamelayer-pruned', await get('v2-app-media', `${OCI}, ${INDEX}`));
    await put('v3.gamelayer-pruned', await get(v1Record, OCI));

    const plan = await runCli(['prune', repo, '--keep', '3', '--json'], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    const out = JSON.parse(plan.stdout) as { kept: { tag: string; interrupted?: boolean }[]; removed: unknown[]; unclaimed: string[] };
    expect(out.kept.map((b) => [b.tag, b.interrupted])).toEqual([['v3', undefined], ['v2', undefined], ['v1', undefined]]);
    expect(out.removed).toEqual([]);
    expect(out.unclaimed).toEqual(['v2.gamelayer-pruned', 'v3.gamelayer-pruned']);
  });
});
