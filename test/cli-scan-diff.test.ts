// The scan and diff commands as a user runs them: a real process, real files.
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');

async function gamelayer(cwd: string, ...args: string[]) {
  return run(BIN, args, { cwd, env: { ...process.env, CI: 'true' } });
}

describe('gamelayer scan / diff', () => {
  it('scans, records, and shows what changed since', async () => {
    const dir = await tempDir();
    await writeGame(dir);
    const scan = JSON.parse((await gamelayer(dir, 'scan', '--json')).stdout);
    expect(scan.trees.map((t: { tree: string }) => t.tree)).toEqual(['engine', 'engine-media', 'app', 'app-media']);
    expect(scan.trees[3]).toMatchObject({ files: 2, bytes: 70_000 });
    expect(scan.record).toBe(path.join(dir, '.gamelayer/records/scan-last.json'));

    const table = (await gamelayer(dir, 'scan')).stdout;
    expect(table).toMatch(/^tree\s+files\s+bytes\s+digest\s+time\s+cache hits$/m);
    expect(table).toMatch(/^app-media\s+2\s+68\.4 KiB\s+sha256:[0-9a-f]{12}/m);

    await writeFile(path.join(dir, 'app-media/paks/a.pak'), Buffer.alloc(50_000, 9));
    await writeFile(path.join(dir, 'app-media/paks/new.pak'), 'new');
    await rm(path.join(dir, 'app/game.xml'));
    const text = (await gamelayer(dir, 'diff')).stdout;
    expect(text).toMatch(/^app\s+0\s+0\s+1\s+/m);
    expect(text).toMatch(/^app-media\s+1\s+1\s+0\s+/m);
    expect(text).toContain('  + paks/new.pak (3 B)');
    expect(text).toContain('  ~ paks/a.pak (48.8 KiB → 48.8 KiB)');
    expect(text).toContain('  - game.xml');

    const json = JSON.parse((await gamelayer(dir, 'diff', '--json')).stdout);
    expect(json.changed).toBe(true);
    await expect(gamelayer(dir, 'diff', '--exit-code')).rejects.toMatchObject({ code: 3 });
  });

  it('against the last build, says which layers the next build reuses and which it rebuilds', async () => {
    const dir = await tempDir();
    await writeGame(dir);
    await gamelayer(dir, 'build');
    await writeFile(path.join(dir, 'app/config/server.cfg'), 'port=40000\n');
    const json = JSON.parse((await gamelayer(dir, 'diff', '--json')).stdout);
    expect(json.before).toBe(path.join(dir, '.gamelayer/records/build-last.json'));
    expect(json.layers).toMatchObject({ reused: 3, rebuilt: 1, bytesToBuild: 11 + 8 }); // the app layer: server.cfg (edited) + game.xml
    expect(json.layers.layers.filter((l: { status: string }) => l.status === 'rebuilt').map((l: { tree: string }) => l.tree)).toEqual(['app']);
    const text = (await gamelayer(dir, 'diff')).stdout;
    expect(text).toMatch(/^app\s+0\s+2\s+\S+ B\s+rebuilt$/m);
    expect(text).toContain('layers: 3 reused, 1 to rebuild;');
  });

  it('diffs two directories without a config', async () => {
    const dir = await tempDir();
    await writeGame(dir);
    const copy = path.join(dir, 'copy');
    await run('cp', ['-a', path.join(dir, 'app'), copy]);
    await writeFile(path.join(copy, 'config/server.cfg'), 'port=1\n');
    const { stdout } = await gamelayer(dir, 'diff', path.join(dir, 'app'), copy);
    expect(stdout).toContain('  ~ config/server.cfg (11 B → 7 B)');
  });

  it('prints config errors with file, line and field and exits 1', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'gamelayer.yaml'), 'game: g\nstart: x\nplatforms: [linux/amd64]\ntrees: {}\n');
    const err = await gamelayer(dir, 'scan').catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain(`${dir}/gamelayer.yaml:4:8: trees.engine: missing; expected a map`);
  });
});
