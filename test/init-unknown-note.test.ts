// init on a folder of no known layout said "each tree defaults to a folder of its name" also when there was no such
// folder and every tree had been set to the empty folder gamelayer-empty: the note now says which it is.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('init note on an unrecognised layout', () => {
  it('no tree folder: every tree is the empty folder, and the note says so', async () => {
    const dir = path.join(await tempDir(), 'server');
    await mkdir(dir);
    const r = await runCli(['init', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('no engine/, engine-media/, app/ or app-media/ folder either, so every tree is the empty folder gamelayer-empty (a build of it holds no game)');
    expect(r.stdout).not.toContain('a folder of its name');
  });

  it('some tree folders: the note says the others are empty', async () => {
    const dir = path.join(await tempDir(), 'server');
    await mkdir(path.join(dir, 'app'), { recursive: true });
    const r = await runCli(['init', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('each tree is the folder of its name where there is one, else the empty folder gamelayer-empty');
  });
});

describe('init start on an unrecognised layout', () => {
  it('engine/start.sh there: start is that script, not called a guess; without it, a guess', async () => {
    const dir = path.join(await tempDir(), 'server');
    await mkdir(path.join(dir, 'engine'), { recursive: true });
    await writeFile(path.join(dir, 'engine/start.sh'), '#!/bin/sh\nexec ./server\n', { mode: 0o755 });
    const r = await runCli(['init', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const proposal = JSON.parse(r.stdout) as { start: string[]; notes: string[] };
    expect(proposal.start).toEqual(['/opt/local/engine/start.sh']);
    expect(proposal.notes.join('\n')).not.toContain('start is a guess');

    const bare = path.join(await tempDir(), 'server');
    await mkdir(path.join(bare, 'engine'), { recursive: true });
    const b = await runCli(['init', bare, '--json']);
    expect((JSON.parse(b.stdout) as { notes: string[] }).notes.join('\n')).toContain('start is a guess');
  });
});
