// `gamelayer init` on builds whose project names hold YAML's special characters (" #" starts a comment, '"', ':').
// The mounts were written unquoted, so "/opt/game/My Game #1" was read back as "/opt/game/My Game" and init
// stopped with a mount clash in a gamelayer.yaml it had not written.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runCli } from './support/cli-process.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-init-odd-'));
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe('gamelayer init with awkward project names', () => {
  for (const project of ['My Game #1', 'Shooter: "Final"', "It's #2"]) {
    it(`Unreal project ${JSON.stringify(project)}: the config loads with the mounts init proposed`, async () => {
      const dir = path.join(root, `ue-${project.replace(/[^a-z0-9]/gi, '')}`);
      const pkg = path.join(dir, 'LinuxServer');
      await mkdir(path.join(pkg, 'Engine/Content'), { recursive: true });
      await mkdir(path.join(pkg, project, 'Binaries/Linux'), { recursive: true });
      await mkdir(path.join(pkg, project, 'Content/Paks'), { recursive: true });
      const server = path.join(pkg, project, 'Binaries/Linux', `${project}Server`);
      await writeFile(server, '#!/bin/sh\n');
      await chmod(server, 0o755);
      const r = await runCli(['init', dir, '--game', 'odd']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
      expect(config.trees.app.mount).toBe(`/opt/game/${project}`);
      expect(config.trees['app-media'].mount).toBe(`/opt/game/${project}/Content/Paks`);
      expect(config.start).toEqual([`/opt/game/${project}/Binaries/Linux/${project}Server`, project]);
    });
  }
});

describe('gamelayer init --game with a name game: refuses', () => {
  it('is a usage error naming the flag, and writes nothing (was: an error at a line of a gamelayer.yaml never written)', async () => {
    const dir = path.join(root, 'bad-game-name');
    for (const tree of ['engine', 'engine-media', 'app', 'app-media']) await mkdir(path.join(dir, tree), { recursive: true });
    const r = await runCli(['init', dir, '--game', 'Bad Name']);
    expect(r.stderr).toBe('error[cli.game]: --game "Bad Name": expected a lower-case name of letters, digits, ".", "_" or "-" such as my-game\n');
    expect(r.code).toBe(2);
    await expect(loadConfig(path.join(dir, 'gamelayer.yaml'))).rejects.toMatchObject({ code: 'config.missing' });
  });
});
