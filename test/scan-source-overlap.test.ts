// Two trees taking the same files: app-media's source inside app's (Unreal's ShooterGame/Content/Paks inside
// ShooterGame) with app-media mounted elsewhere and no exclude in app, or one folder named as two trees' source.
// Every pak went into both images (packed, pushed and pulled twice) and scan and build said nothing. They now warn,
// naming both trees, what is held twice and the fix; init's nested layout (the outer tree leaves the inner mount
// out) and an exclude say nothing.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-overlap-');
  await mkdir(path.join(dir, 'Engine', 'Content'), { recursive: true });
  await mkdir(path.join(dir, 'Game', 'Content', 'Paks'), { recursive: true });
  await writeFile(path.join(dir, 'Engine', 'server'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(path.join(dir, 'Engine', 'Content', 'font'), 'f\n');
  await writeFile(path.join(dir, 'Game', 'Game.ini'), 'ini\n');
  await writeFile(path.join(dir, 'Game', 'Content', 'Paks', 'a.pak'), Buffer.alloc(3000, 1));
  await writeFile(path.join(dir, 'Game', 'Content', 'Paks', 'b.pak'), Buffer.alloc(1000, 2));
  await symlink(path.join('Game', 'Content', 'Paks'), path.join(dir, 'PaksLink'));
});

async function scanWith(trees: string[]): Promise<{ code: number | null; warnings: string[] }> {
  const yaml = ['game: overlap', 'start: /opt/game/Engine/server', 'trees:', ...trees.map((t) => `  ${t}`), ''].join('\n');
  await writeFile(path.join(dir, 'gamelayer.yaml'), yaml);
  const r = await runCli(['scan'], { cwd: dir });
  return { code: r.code, warnings: r.stderr.split('\n').filter((l) => l.startsWith('warning:')) };
}

const ENGINE = [
  'engine: {source: Engine, exclude: ["Content/**"], mount: /opt/game/Engine}',
  'engine-media: {source: Engine/Content, mount: /opt/game/Engine/Content}',
];

describe('a tree whose source lies inside another tree that still takes its files', () => {
  // The paks folder named directly, or through a symlink to it (a source is compared as the file system sees it).
  it.each([['Game/Content/Paks'], ['PaksLink']])('app-media at %s: scan warns with both trees, the files held twice and the exclude that fixes it', async (source) => {
    const r = await scanWith([...ENGINE, 'app: {source: Game, mount: /opt/game/Game}', `app-media: {source: ${source}, mount: /opt/paks}`]);
    expect(r.code).toBe(0);
    expect(r.warnings).toEqual([
      `warning: trees.app-media.source ${path.join(dir, source)} lies inside trees.app.source ${path.join(dir, 'Game')}, and app still holds 2 files (3.91 KiB) of it ` +
        '(at /opt/game/Game/Content/Paks, and trees.app-media at /opt/paks): every such file is packed, pushed and pulled twice; ' +
        'leave them out of app (trees.app.exclude: ["Content/Paks/**"]), or mount app-media at /opt/game/Game/Content/Paks, which app then leaves out',
    ]);
  });

  it('the same folder as two trees\' source: one warning for the pair', async () => {
    const r = await scanWith([...ENGINE, 'app: {source: Game, mount: /opt/game/Game}', 'app-media: {source: Game, include: ["**/*.pak"], mount: /opt/paks}']);
    expect(r.warnings).toEqual([
      `warning: trees.app and trees.app-media have the same source ${path.join(dir, 'Game')}, and both hold 2 files (3.91 KiB) of it: every such file is packed, pushed and pulled twice; ` +
        'give each tree its own folder, or split the folder between them with include / exclude',
    ]);
  });

  it.each([
    ['the nested mount gamelayer init writes', 'app: {source: Game, mount: /opt/game/Game}', 'app-media: {source: Game/Content/Paks, mount: /opt/game/Game/Content/Paks}'],
    ['an exclude in the outer tree', 'app: {source: Game, exclude: ["Content/Paks/**"], mount: /opt/game/Game}', 'app-media: {source: Game/Content/Paks, mount: /opt/paks}'],
  ])('%s: no warning', async (_name, app, appMedia) => {
    const r = await scanWith([...ENGINE, app, appMedia]);
    expect(r.code).toBe(0);
    expect(r.warnings).toEqual([]);
  });
});
