// `gamelayer init` on a Unity build proposes the engine tree as the build folder itself with include globs: the
// player's file name among them. The old code wrote the name as it was, so glob characters in it changed what it
// matched: a player named `!Game.x86_64` made the include a negation, and the engine tree took every file of the
// folder but the player's glob (gamelayer.yaml itself included).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

describe('init on a Unity build whose player name holds glob characters', () => {
  // Each with a file the unescaped glob would also take (a leftover build), or none needed (the negation).
  for (const [name, decoy] of [['!Game', undefined], ['Game{1,2}', 'Game1.x86_64'], ['Ga*me', 'Ga-old-me.x86_64']] as const) {
    it(`${name}.x86_64: the engine tree is the player and UnityPlayer.so, nothing else`, async () => {
      const dir = path.join(await tempDir('gl-unity-glob-'), 'build');
      await mkdir(path.join(dir, `${name}_Data`, 'Managed'), { recursive: true });
      await writeFile(path.join(dir, `${name}_Data`, 'Managed', 'Game.dll'), 'dll');
      await writeFile(path.join(dir, `${name}.x86_64`), '#!/bin/sh\n');
      await chmod(path.join(dir, `${name}.x86_64`), 0o755);
      await writeFile(path.join(dir, 'UnityPlayer.so'), 'so');
      await writeFile(path.join(dir, 'notes.txt'), 'not the engine');
      if (decoy) await writeFile(path.join(dir, decoy), 'an old player');
      const init = await runCli(['init', dir]);
      expect(init.code, init.stderr).toBe(0);
      const scan = await runCli(['scan', '--json'], { cwd: dir });
      expect(scan.code, scan.stderr).toBe(0);
      const engine = (JSON.parse(scan.stdout) as { trees: { tree: string; files: number; bytes: number }[] }).trees.find((t) => t.tree === 'engine')!;
      expect([engine.files, engine.bytes]).toEqual([2, '#!/bin/sh\n'.length + 2]);
    });
  }
});
