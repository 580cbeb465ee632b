// gamelayer init on the usual dedicated-server build folders, through the real CLI; each written config must load
// and scan (and the Unreal one build, nested mounts and all). Also: every tree source is checked before hashing.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

async function put(root: string, files: Record<string, string | Buffer>, exec: string[] = []): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await writeFile(path.join(root, p), content, { mode: exec.includes(p) ? 0o755 : 0o644 });
  }
}

async function scanJson(dir: string): Promise<{ tree: string; files: number; digest: string }[]> {
  const r = await runCli(['scan', '--json'], { cwd: dir });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).trees;
}

describe('gamelayer init', () => {
  it('an Unreal LinuxServer package: Engine and project split into binaries and content, paks apart; it builds', async () => {
    const dir = await tempDir();
    const ls = path.join(dir, 'LinuxServer');
    await put(
      ls,
      {
        'ShooterServer.sh': '#!/bin/sh\n',
        'Engine/Binaries/Linux/libUnrealServer.so': 'so',
        'Engine/Config/BaseEngine.ini': '[x]\n',
        'Engine/Content/Slate/Cursor.uasset': 'c',
        'Shooter/Binaries/Linux/ShooterServer': 'ELF',
        'Shooter/Binaries/Linux/ShooterServer.debug': 'symbols',
        'Shooter/Config/DefaultGame.ini': '[g]\n',
        'Shooter/Content/Paks/Shooter-LinuxServer.pak': Buffer.alloc(4096, 1),
      },
      ['ShooterServer.sh', 'Shooter/Binaries/Linux/ShooterServer'],
    );
    const r = await runCli(['init', dir], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('layout: unreal');
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    expect(config.game).toBe('shooter');
    expect(config.start).toEqual(['/opt/game/Shooter/Binaries/Linux/ShooterServer', 'Shooter']);
    expect(config.trees['app-media'].sources['*']).toBe(path.join(ls, 'Shooter/Content/Paks'));
    expect(config.trees['app-media'].mount).toBe('/opt/game/Shooter/Content/Paks');
    expect(config.trees.engine.mount).toBe('/opt/game/Engine');
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    expect(yaml).toMatch(/^# Layout: Unreal Engine/m);
    expect(yaml).toContain('#   - debug symbols (*.debug, *.sym) are excluded');

    const trees = await scanJson(dir);
    const files = Object.fromEntries(trees.map((t) => [t.tree, t.files]));
    // engine: Binaries/Linux/libUnrealServer.so + Config/BaseEngine.ini (Content excluded); app: the server and its ini, not the .debug nor the pak.
    expect(files).toEqual({ engine: 2, 'engine-media': 1, app: 2, 'app-media': 1 });
    const build = await runCli(['build', '--json'], { cwd: dir });
    expect(build.code).toBe(0);
    expect(JSON.parse(build.stdout).images.length).toBeGreaterThanOrEqual(5);
  });

  it('a Lumberyard / O3DE folder (the sample game without its yaml) gives the same trees as the shipped config', async () => {
    const dir = await tempDir();
    await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
    const shipped = await scanJson(dir);
    await rm(path.join(dir, 'gamelayer.yaml'));
    await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true });
    const r = await runCli(['init', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const proposal = JSON.parse(r.stdout);
    expect(proposal.layout).toBe('o3de');
    expect(proposal.start).toEqual(['/opt/local/engine/start.sh']);
    expect(proposal.trees.engine.source).toBe('engine/BinLinux64.Dedicated.tar.gz');
    expect(proposal.notes.join('\n')).toContain('several folders could be the app tree (app, engine-src); took app');
    const guessed = await scanJson(dir);
    expect(guessed.map((t) => [t.tree, t.digest])).toEqual(shipped.map((t) => [t.tree, t.digest]));
  });

  it('a Unity Linux server build: player and runtime as the engine, _Data split into code and streaming assets', async () => {
    const dir = await tempDir();
    await put(
      dir,
      {
        'Arena.x86_64': 'ELF',
        'UnityPlayer.so': 'so',
        'GameAssembly.so': 'il2cpp',
        'MonoBleedingEdge/etc/mono/config': 'x',
        'Arena_Data/globalgamemanagers': 'g',
        'Arena_Data/level0': 'l',
        'Arena_Data/Managed/Assembly-CSharp.dll': 'dll',
        'Arena_Data/Resources/unity default resources': 'r',
        'Arena_Data/StreamingAssets/bundles/maps.bundle': Buffer.alloc(2048, 2),
      },
      ['Arena.x86_64'],
    );
    const r = await runCli(['init', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const proposal = JSON.parse(r.stdout);
    expect(proposal.layout).toBe('unity');
    expect(proposal.start).toEqual(['/opt/game/Arena.x86_64', '-batchmode', '-nographics']);
    const files = Object.fromEntries((await scanJson(dir)).map((t) => [t.tree, t.files]));
    // engine: Arena.x86_64, UnityPlayer.so, GameAssembly.so, mono config; app: globalgamemanagers, level0, the dll.
    expect(files).toEqual({ engine: 4, 'engine-media': 1, app: 3, 'app-media': 1 });
  });

  it('an unknown folder: defaults it says it guessed, empty trees where nothing fits; never overwrites without --force', async () => {
    const dir = await tempDir();
    await put(dir, { 'app/server.cfg': 'port=1\n' });
    const r = await runCli(['init'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('note: the layout was not recognised');
    expect(r.stdout).toContain('note: start is a guess');
    expect(await readdir(path.join(dir, 'gamelayer-empty'))).toEqual([]);
    expect(Object.fromEntries((await scanJson(dir)).map((t) => [t.tree, t.files]))).toEqual({ engine: 0, 'engine-media': 0, app: 1, 'app-media': 0 });

    await writeFile(path.join(dir, 'gamelayer.yaml'), '# mine\n');
    const again = await runCli(['init', '--json'], { cwd: dir });
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).error.code).toBe('init.exists');
    expect(again.stderr).toBe(`error[init.exists]: ${dir}/gamelayer.yaml already exists\nhint: edit it, or pass --force to replace it with a fresh proposal\n`);
    expect(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')).toBe('# mine\n');
    expect((await runCli(['init', '--force'], { cwd: dir })).code).toBe(0);
    expect(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')).toContain('# Layout: not recognised');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    const missing = await runCli(['init', path.join(dir, 'nope')], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error\[init\.target\]: .*nope: no such folder\n/);
  });
});

describe('tree sources are checked before any hashing', () => {
  it('a typo in the fourth tree fails before the first tree is hashed', async () => {
    const dir = await tempDir();
    await writeGame(dir);
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace(/^(  app-media: \{source: )[^,}]+/m, '$1app-mediaa'));
    // Where the config writes the path: errors about a config field name gamelayer.yaml:LINE:COL.
    const yamlLines = (await readFile(yaml, 'utf8')).split('\n');
    const typoLine = yamlLines.findIndex((l) => l.includes('app-mediaa'));
    const typoCol = yamlLines[typoLine]!.indexOf('app-mediaa');
    const r = await runCli(['build'], { cwd: dir, env: { CI: 'true' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error[scan.source-missing]: ${yaml}:${typoLine + 1}:${typoCol + 1}: trees.app-media.source: ${dir}/app-mediaa does not exist\nhint: check the path in gamelayer.yaml (relative paths start at the yaml's folder)\n`,
    );
    // Nothing was hashed: no "hash engine: …" line, and no stat cache for any tree.
    expect(execFileSync('find', [dir, '-path', '*/.gamelayer/cache/*', '-type', 'f'], { encoding: 'utf8' })).toBe('');
  });
});
