// A tiny game (trees.ts writeTinyGame) for the deploy commands' tests (k8s, ecs, imagedefinitions): built once for a
// file, or left unbuilt and without a registry to check that a mistyped flag value is said first.
import { beforeAll, expect } from 'vitest';
import { runCli } from './cli-process.js';
import { tempDir } from './tmp.js';
import { writeTinyGame } from './trees.js';

/** Registers a `beforeAll` that writes the game (`head`: its gamelayer.yaml's first lines) and builds it. */
export function useBuiltTinyGame(prefix: string, head: string[]): { readonly dir: string } {
  let dir: string | undefined;
  beforeAll(async () => {
    const made = await tempDir(prefix);
    await writeTinyGame(made, head);
    const r = await runCli(['build'], { cwd: made });
    expect(r.code, r.stderr).toBe(0);
    dir = made;
  });
  return {
    get dir(): string {
      if (dir === undefined) throw new Error('the tiny game is used before beforeAll built it');
      return dir;
    },
  };
}

/**
 * `gamelayer COMMAND FLAGS…` in a game with no registry and no build: a usage error naming the flag's value
 * (`said`), not the registry, the record or the build it would look for next.
 */
export async function expectFlagValueSaidFirst(command: string, flags: string[], said: string): Promise<void> {
  const dir = await tempDir(`gl-${command}-flags-`);
  await writeTinyGame(dir, [`game: ${command}-flags-first`, 'start: [/opt/local/engine/run]']);
  const r = await runCli([command, ...flags], { cwd: dir });
  expect(r.code, r.stderr).toBe(2); // a usage error
  expect(r.stderr).toContain(`error[deploy.option]: ${said}`);
  expect(r.stderr).not.toContain('deploy.repository');
}
