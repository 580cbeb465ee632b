// The studio's other games' layers (`mountFrom:`) are optional: a repository whose blobs cannot be asked about (a
// HEAD answered 403) leaves this build to pack them, says so once, and never fails the build.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { prng } from './support/prng.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { tempDir } from './support/tmp.js';
import { GAME_YAML, writeGame } from './support/trees.js';

const r = useRegistryBehindFaultProxy();

async function game(name: string, extra = ''): Promise<string> {
  const dir = await tempDir(`gl-studio-unreadable-${name}-`);
  await writeGame(dir);
  await writeFile(path.join(dir, 'engine', 'bin', 'server'), prng('studio engine', 64 * 1024), { mode: 0o755 });
  await writeFile(path.join(dir, 'app', 'game.xml'), `<game name="${name}"/>\n`);
  await writeFile(path.join(dir, 'gamelayer.yaml'), `${GAME_YAML.replace('game: test-game', `game: ${name}`)}${extra}`);
  return dir;
}

describe("a studio game whose mountFrom repository's blobs cannot be asked about", () => {
  it('packs the layers itself and says which repository failed', async () => {
    const a = await runCli(['build', '--tag', 'v1', '--push', `${r.proxy.host}/studio/game-a`], { cwd: await game('game-a') });
    expect(a.code, a.stderr).toBe(0);
    const denied = JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] });
    r.proxy.setRules([{ method: 'HEAD', path: /^\/v2\/studio\/game-a\/blobs\//, count: 1000, action: { kind: 'status', status: 403, body: denied } }]);
    try {
      const b = await runCli(['build', '--tag', 'v1', '--push', `${r.proxy.host}/studio/game-b`], { cwd: await game('game-b', 'mountFrom: [studio/game-a]\n') });
      // Before: the failed HEAD failed the whole build.
      expect(b.code, b.stderr).toBe(0);
      expect(r.proxy.fired[0]).toBeGreaterThan(0);
      const said = b.stderr.split('\n').filter((l) => l.includes('studio/game-a') && l.includes('could not be asked'));
      expect(said).toHaveLength(1);
      expect(said[0]).toContain('403');
      // Packed here: the summary's engine row.
      expect(b.stdout).toMatch(/^engine\s+0\s.*\sbuilt\s/m);
    } finally {
      r.proxy.setRules([]);
    }
  }, 120_000);
});
