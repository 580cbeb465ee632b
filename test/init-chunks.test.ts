// gamelayer init chunks app-media when it holds a file of 64 MiB or more (issue 16: whole files re-send and re-unpack
// a pak for a partial rewrite; chunked, the month meets its targets), says so and why, and writes whole files under
// --whole-files or when no such file is there. Big files are sparse (truncate): nothing writes 64 MiB.
import { mkdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const MiB = 1024 * 1024;

/** An Unreal LinuxServer package whose paks folder holds `pak` bytes (sparse), and whatever `extra` adds. */
async function unreal(pak: number, extra?: (root: string) => Promise<void>): Promise<string> {
  const root = await tempDir('gl-init-paks-');
  const put = async (p: string, content: string, mode = 0o644) => {
    await mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await writeFile(path.join(root, p), content, { mode });
  };
  await put('Engine/Binaries/Linux/libUnrealServer.so', 'so');
  await put('Engine/Content/Slate/Cursor.uasset', 'c');
  await put('Shooter/Binaries/Linux/ShooterServer', 'ELF', 0o755);
  await put('Shooter/Content/Paks/Shooter-small.pak', 'small pak');
  await put('Shooter/Content/Paks/Shooter-LinuxServer.pak', '');
  await truncate(path.join(root, 'Shooter/Content/Paks/Shooter-LinuxServer.pak'), pak);
  await extra?.(root);
  return root;
}

describe('init: chunked app-media for big paks', () => {
  it('a pak of 64 MiB: app-media gets chunks: {} with why, the summary says so, and a build of it is chunked', async () => {
    const dir = await unreal(64 * MiB);
    const r = await runCli(['init', dir], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('chunks: app-media is chunked (chunks: {}), as Shooter/Content/Paks/Shooter-LinuxServer.pak is 64.0 MiB (≥ 64.0 MiB)');
    expect(r.stdout).toContain('deploy with --volumes init');
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    const media = yaml.slice(yaml.indexOf('\n  app-media:'));
    expect(media).toMatch(/\n {4}chunks: \{\}\n$/);
    expect(media).toContain("# the server image alone won't run the paks");
    expect(media).toContain('--volumes init');
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    expect(config.trees['app-media'].chunks).toEqual({ minFileSize: 64 * MiB, avgChunkSize: 256 * 1024 });
    for (const t of ['engine', 'engine-media', 'app'] as const) expect(config.trees[t].chunks).toBeUndefined();

    const build = await runCli(['build', '--tag', 'v1'], { cwd: dir });
    expect(build.code, build.stderr).toBe(0);
    const inspect = await runCli(['inspect', '--json'], { cwd: dir });
    expect(inspect.code, inspect.stderr).toBe(0);
    const trees = JSON.parse(inspect.stdout).trees as { tree: string; chunks?: number }[];
    expect(trees.find((t) => t.tree === 'app-media')!.chunks).toBeGreaterThan(0);
    expect(trees.find((t) => t.tree === 'app')!.chunks).toBeUndefined();
  });

  it('--whole-files: whole files, the chunks line commented out, and the summary and --json say why', async () => {
    const dir = await unreal(64 * MiB);
    const r = await runCli(['init', dir, '--whole-files'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('chunks: none, app-media is whole files (--whole-files), though Shooter/Content/Paks/Shooter-LinuxServer.pak is 64.0 MiB');
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    expect(yaml).toMatch(/\n {4}# chunks: \{\}\n$/);
    expect((await loadConfig(path.join(dir, 'gamelayer.yaml'))).trees['app-media'].chunks).toBeUndefined();

    const json = await runCli(['init', dir, '--whole-files', '--force', '--json'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).chunks).toEqual({ tree: 'app-media', file: 'Shooter/Content/Paks/Shooter-LinuxServer.pak', bytes: 64 * MiB, minFileSize: 64 * MiB, chunked: false });
  });

  it('a source holding a path a chunked tree reserves: whole files, the summary and the yaml say why, and the config builds', async () => {
    // `.gamelayer-chunks` in the paks folder: a build of `chunks: {}` refused it (chunks.reserved-path).
    const dir = await unreal(64 * MiB, async (root) => void (await mkdir(path.join(root, 'Shooter/Content/Paks/.gamelayer-chunks/r'), { recursive: true })));
    const r = await runCli(['init', dir], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'chunks: none, app-media is whole files, though Shooter/Content/Paks/Shooter-LinuxServer.pak is 64.0 MiB (≥ 64.0 MiB): ' +
        'its source holds Shooter/Content/Paks/.gamelayer-chunks, a path a chunked tree reserves (a build of chunks: {} refuses it, chunks.reserved-path)\n' +
        '  rename or remove it, then init --force to chunk app-media (docs/chunks.md)',
    );
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    expect(yaml).toMatch(/\n {4}# chunks: \{\}\n$/);
    expect(yaml).toContain('the source holds Shooter/Content/Paks/.gamelayer-chunks, a path a chunked tree');
    expect((await loadConfig(path.join(dir, 'gamelayer.yaml'))).trees['app-media'].chunks).toBeUndefined();
    const build = await runCli(['build', '--tag', 'v1'], { cwd: dir });
    expect(build.code, build.stderr).toBe(0);

    // `<pak>.gamelayer-tmp` beside a pak it would chunk (any big pak, not only the first): the same, in --json too.
    const tmp = await unreal(64 * MiB, async (root) => {
      await writeFile(path.join(root, 'Shooter/Content/Paks/Zz-big.pak'), '');
      await truncate(path.join(root, 'Shooter/Content/Paks/Zz-big.pak'), 64 * MiB);
      await writeFile(path.join(root, 'Shooter/Content/Paks/Zz-big.pak.gamelayer-tmp'), 'left over');
      // Beside a small file it is no clash: that file stays whole in a chunked tree too.
      await writeFile(path.join(root, 'Shooter/Content/Paks/Shooter-small.pak.gamelayer-tmp'), 'x');
    });
    const json = await runCli(['init', tmp, '--json'], { cwd: tmp });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).chunks).toEqual({
      tree: 'app-media',
      file: 'Shooter/Content/Paks/Shooter-LinuxServer.pak',
      bytes: 64 * MiB,
      minFileSize: 64 * MiB,
      chunked: false,
      reserved: 'Shooter/Content/Paks/Zz-big.pak.gamelayer-tmp',
    });
    expect((await loadConfig(path.join(tmp, 'gamelayer.yaml'))).trees['app-media'].chunks).toBeUndefined();
    const small = await unreal(64 * MiB, (root) => writeFile(path.join(root, 'Shooter/Content/Paks/Shooter-small.pak.gamelayer-tmp'), 'x'));
    const chunked = await runCli(['init', small, '--json'], { cwd: small });
    expect(JSON.parse(chunked.stdout).chunks.chunked).toBe(true);
  }, 120_000);

  it('no file of 64 MiB in app-media (big ones elsewhere, or a link to one): nothing about chunks', async () => {
    const dir = await unreal(64 * MiB - 1, async (root) => {
      await truncate(path.join(root, 'Shooter/Binaries/Linux/ShooterServer'), 200 * MiB);
      await writeFile(path.join(root, 'outside.pak'), '');
      await truncate(path.join(root, 'outside.pak'), 100 * MiB);
      await symlink('../../../outside.pak', path.join(root, 'Shooter/Content/Paks/linked.pak'));
    });
    const r = await runCli(['init', dir, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).chunks).toBeUndefined();
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    expect(yaml).not.toMatch(/chunk/i);
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    for (const t of ['engine', 'engine-media', 'app', 'app-media'] as const) expect(config.trees[t].chunks).toBeUndefined();
    const text = await runCli(['init', dir, '--force'], { cwd: dir });
    expect(text.stdout).not.toMatch(/chunk/i);
  });
});
