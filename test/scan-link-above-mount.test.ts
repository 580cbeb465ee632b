// A tree mounted inside another's owns its mount path, and the outer tree leaves that path out. But a symlink (or a
// file) the outer tree holds at a folder *above* the inner mount (app-media at Content/Paks, app holding `Content ->
// /tmp`) replaced the folder in the image: the app layer sits above app-media's, so its link hid every pak (no
// /opt/…/Content/Paks in the container; umoci and docker agree), and a volume mounted there would be mounted through
// the link. Refused at the scan, naming the tree, the entry and the mount it would hide, before anything is built.
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeTree } from './support/trees.js';

const YAML = `game: nested
start: /opt/game/bin/server
trees:
  engine: {source: engine, mount: /opt/game/bin}
  engine-media: {source: engine-media, mount: /opt/game/media}
  app: {source: app, mount: /opt/game/app}
  app-media: {source: app-media, mount: /opt/game/app/Content/Paks}
`;

async function game(app: Parameters<typeof writeTree>[1]): Promise<string> {
  const dir = await tempDir();
  await writeTree(path.join(dir, 'engine'), { server: { mode: 0o755, content: Buffer.alloc(100, 7) } });
  await writeTree(path.join(dir, 'engine-media'), { 'a.txt': 'a' });
  await writeTree(path.join(dir, 'app'), app);
  await writeTree(path.join(dir, 'app-media'), { 'game.pak': Buffer.alloc(1000, 1) });
  await writeFile(path.join(dir, 'gamelayer.yaml'), YAML);
  return dir;
}

describe('an entry of the outer tree above an inner tree\'s mount', () => {
  it('a symlink there (to a folder outside the tree): scan.mount-hidden naming both trees and the entry; nothing built', async () => {
    const dir = await game({ 'game.ini': 'x', Content: { link: '/tmp' } });
    const r = await runCli(['build', '-t', 'v1'], { cwd: dir });
    expect(r.stderr).toContain(
      `error[scan.mount-hidden]: app: Content is a symlink (in ${path.join(dir, 'app')}), and it sits above /opt/game/app/Content/Paks, the mount of tree app-media: in the image it would hide that tree\nhint: make Content a folder, exclude it (trees.app.exclude), or mount app-media elsewhere\n`,
    );
    expect(r.code).toBe(1);
    expect(await readdir(path.join(dir, '.gamelayer', 'records')).catch(() => [])).not.toContain('build-v1.json');
    expect(await readdir(path.join(dir, '.gamelayer', 'oci', 'blobs', 'sha256')).catch(() => [])).toEqual([]);
  });

  it('a file there: the same refusal', async () => {
    const dir = await game({ 'game.ini': 'x', Content: 'not a folder' });
    const r = await runCli(['scan'], { cwd: dir });
    expect(r.stderr).toContain(`error[scan.mount-hidden]: app: Content is a file (in ${path.join(dir, 'app')}), and it sits above /opt/game/app/Content/Paks, the mount of tree app-media`);
    expect(r.code).toBe(1);
  });

  it('a folder there (the usual layout), or the entry excluded: built', async () => {
    const ok = await game({ 'game.ini': 'x', 'Content/readme.txt': 'r' });
    expect((await runCli(['build', '-t', 'v1'], { cwd: ok })).code).toBe(0);
    const excluded = await game({ 'game.ini': 'x', Content: { link: '/tmp' } });
    await writeFile(path.join(excluded, 'gamelayer.yaml'), YAML.replace('app: {source: app,', 'app: {source: app, exclude: [Content],'));
    const r = await runCli(['build', '-t', 'v1'], { cwd: excluded });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
  });
});
