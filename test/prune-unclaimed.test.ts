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
