// `store:` naming a tree's own source folder (`store: app` beside `app: {source: app}`). gamelayer leaves its own
// folders out of a tree that holds them (`store: app/oci`), but not one that IS the tree: the old code wrote the OCI
// layout into the game's folder (blobs/, oci-layout, index.json beside its files; a game's own index.json stopped
// the build after blobs/ and oci-layout were made there) and the next build put the store into the app image.
import { readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

async function game(extra: string, sources: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir('gl-store-src-');
  await writeTinyGame(dir, ['game: store-src', 'start: [/opt/local/engine/run]', extra], { files: false, source: (t) => sources[t] ?? t });
  await writeFile(path.join(dir, 'app', 'index.json'), '{"the":"game\'s own"}\n');
  return dir;
}

describe('a folder of gamelayer\'s own as a tree\'s source', () => {
  it('store: the app folder: refused at store:, the game\'s folder untouched', async () => {
    const dir = await game('store: app');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[config.invalid]: ${path.join(dir, 'gamelayer.yaml')}:3:8: store: ${path.join(dir, 'app')} is the source of trees.app`);
    expect((await readdir(path.join(dir, 'app'))).sort()).toEqual(['index.json']);
    expect(await readFile(path.join(dir, 'app', 'index.json'), 'utf8')).toBe('{"the":"game\'s own"}\n');
  });

  // The old code compared the paths as written: a symlink to the source got past both checks.
  it('store: a symlink to the app folder: refused as the app folder itself', async () => {
    const dir = await game('store: oci-link');
    await symlink('app', path.join(dir, 'oci-link'));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[config.invalid]: ${path.join(dir, 'gamelayer.yaml')}:3:8: store: ${path.join(dir, 'oci-link')} is the source of trees.app`);
    expect((await readdir(path.join(dir, 'app'))).sort()).toEqual(['index.json']);
  });

  it('store: inside a symlink to the app folder (link/oci): left out of the tree, with the warning', async () => {
    const dir = await game('store: link/oci');
    await symlink('app', path.join(dir, 'link'));
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("warning: app: oci (the local OCI store) lies inside the tree's source; it is left out of the tree");
  });

  it('a tree whose source is .gamelayer: refused at that source', async () => {
    const dir = await game('', { 'app-media': '.gamelayer' });
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(dir, 'gamelayer.yaml')}:8:23: trees.app-media.source: ${path.join(dir, '.gamelayer')} is gamelayer's state folder`);
  });

  it('store: inside a tree (app/oci) is still left out of it, as before', async () => {
    const dir = await game('store: app/oci');
    const r = await runCli(['build'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    await writeFile(path.join(dir, 'app', 'index.json'), '{"the":"game\'s own","v":2}\n');
    const again = await runCli(['build', '--tag', 'v2'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    const inspect = await runCli(['inspect', 'v2', '--json'], { cwd: dir });
    const scan = JSON.parse(inspect.stdout) as { trees: { tree: string; files: number }[] };
    expect(scan.trees.find((t) => t.tree === 'app')?.files).toBe(1);
  });
});
