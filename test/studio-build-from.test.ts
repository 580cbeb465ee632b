// A studio's game D built on game A's build (`build --from A:TAG --push D`), pushing to a repository that holds none of
// it. The kept layers were asked of game D's repository only: all "gone", so every tree was packed again, with a
// warning that A's layers were gone, and the push sent them again. Now the layers D's repository lacks are looked for
// in A's (the record's own repository), kept without being packed, and mounted from there by the push.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { prng } from './support/prng.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { GAME_YAML, writeGame } from './support/trees.js';

const registry = useRegistry();
const other = useRegistryBehindFaultProxy();

interface BuildJson {
  summary: { layers: { tree: string; digest: string; reused: boolean }[]; previous: { source: string; ref?: string } };
  push: { bytesSent: number };
}

async function game(name: string): Promise<string> {
  const dir = await tempDir(`gl-studio-from-${name}-`);
  await writeGame(dir);
  await writeFile(path.join(dir, 'engine', 'bin', 'server'), prng('studio engine', 256 * 1024), { mode: 0o755 });
  await writeFile(path.join(dir, 'app', 'game.xml'), `<game name="${name}"/>\n`);
  await writeFile(path.join(dir, 'gamelayer.yaml'), GAME_YAML.replace('game: test-game', `game: ${name}`));
  return dir;
}

describe('build --from another game --push a repository holding none of it', () => {
  it("keeps the other game's layers (not packed again, no warning) and mounts them from its repository", async () => {
    const a = await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/studio/game-a`, '--json'], { cwd: await game('game-a') });
    expect(a.code, a.stderr).toBe(0);
    const engine = (JSON.parse(a.stdout) as BuildJson).summary.layers.filter((l) => l.tree === 'engine' || l.tree === 'engine-media').map((l) => l.digest);
    expect(engine.length).toBe(2);
    await registry.resetAccessLog();
    const d = await runCli(['build', '--tag', 'v1', '--from', `${registry.host}/studio/game-a:v1`, '--push', `${registry.host}/studio/game-d`, '--json'], { cwd: await game('game-d') });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).not.toContain('gone from');
    const built = JSON.parse(d.stdout) as BuildJson;
    // The engine trees are game A's layers, reused: not packed again.
    const dEngine = built.summary.layers.filter((l) => engine.includes(l.digest));
    expect(dEngine.map((l) => l.reused)).toEqual([true, true]);
    expect(built.summary.previous).toMatchObject({ source: 'registry', ref: `${registry.host}/studio/game-a:v1` });
    // Mounted from game A's repository, never uploaded to game D's; game D's repository holds them now.
    const log = await registry.accessLog();
    const uploaded = log.filter((e) => e.method === 'PUT' && e.path.startsWith('/v2/studio/game-d/blobs/uploads/')).map((e) => decodeURIComponent(/[?&]digest=([^&]+)/.exec(e.path)?.[1] ?? ''));
    expect(uploaded.filter((x) => engine.includes(x))).toEqual([]);
    for (const digest of engine) {
      expect(log.some((e) => e.method === 'POST' && e.path.includes(`mount=${encodeURIComponent(digest)}`) && e.path.includes('from=studio%2Fgame-a') && e.status === 201)).toBe(true);
      expect((await fetch(`${registry.url}/v2/studio/game-d/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
    }
    // What went up is game D's own: far below the engine's 256 KiB.
    expect(built.push.bytesSent).toBeLessThan(64 * 1024);
  }, 120_000);

  it('--from on another registry host: no mount of its repository path is asked of the pushed-to registry', async () => {
    const a = await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/studio/game-a2`], { cwd: await game('game-a2') });
    expect(a.code, a.stderr).toBe(0);
    const seen = other.proxy.seen.length;
    const d = await runCli(['build', '--tag', 'v1', '--from', `${registry.host}/studio/game-a2:v1`, '--push', `${other.proxy.host}/studio/game-d2`], { cwd: await game('game-d2') });
    expect(d.code, d.stderr).toBe(0);
    // Before: the push was given studio/game-a2 as a mount source on this other registry, which has no such repository.
    const mounts = other.proxy.seen.slice(seen).filter((e) => e.method === 'POST' && e.path.includes('mount='));
    expect(mounts.map((e) => e.path)).toEqual([]);
  }, 120_000);
});
