// A studio's game D built on game A's build (`build --from A:TAG --push D`), pushing to a repository that holds none of
// it. The kept layers were asked of game D's repository only: all "gone", so every tree was packed again, with a
// warning that A's layers were gone, and the push sent them again. Now the layers D's repository lacks are looked for
// in A's (the record's own repository), kept without being packed, and mounted from there by the push.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { studioGame, type StudioBuildJson as BuildJson } from './support/studio-game.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { useRegistry } from './support/suite-registry.js';

const registry = useRegistry();
const game = (name: string) => studioGame('gl-studio-from-', name);
const other = useRegistryBehindFaultProxy();

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
    const uploaded = await registry.uploadedBlobs('studio/game-d');
    expect(uploaded.filter((x) => engine.includes(x))).toEqual([]);
    for (const digest of engine) {
      expect(log.some((e) => e.method === 'POST' && e.path.includes(`mount=${encodeURIComponent(digest)}`) && e.path.includes('from=studio%2Fgame-a') && e.status === 201)).toBe(true);
      expect((await fetch(`${registry.url}/v2/studio/game-d/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
    }
    // What went up is game D's own: far below the engine's 256 KiB.
    expect(built.push.bytesSent).toBeLessThan(64 * 1024);
  }, 120_000);

  it('a build --from A pushed later with gamelayer push mounts A\'s layers too, downloading none of them', async () => {
    const a = await runCli(['build', '--tag', 'v2', '--push', `${registry.host}/studio/game-a2`, '--json'], { cwd: await game('game-a2') });
    expect(a.code, a.stderr).toBe(0);
    const engine = (JSON.parse(a.stdout) as BuildJson).summary.layers.filter((l) => l.tree === 'engine' || l.tree === 'engine-media').map((l) => l.digest);
    expect(engine.length).toBe(2);
    // Built here only: a partial layout whose engine layers are in game A's repository.
    const dir = await game('game-e');
    const e = await runCli(['build', '--tag', 'v1', '--from', `${registry.host}/studio/game-a2:v2`], { cwd: dir });
    expect(e.code, e.stderr).toBe(0);
    await registry.resetAccessLog();
    const pushed = await runCli(['push', `${registry.host}/studio/game-e:v1`], { cwd: dir });
    expect(pushed.code, pushed.stderr).toBe(0);
    // Before, the push downloaded them from game A's repository and uploaded them again ("fetched 2 blobs ...").
    expect(pushed.stderr).not.toContain('fetched');
    const log = await registry.accessLog();
    for (const digest of engine) {
      expect(log.filter((x) => x.method === 'GET' && x.path.endsWith(`/blobs/${digest}`))).toEqual([]);
      expect(log.some((x) => x.method === 'POST' && x.path.startsWith('/v2/studio/game-e/') && x.path.includes(`mount=${encodeURIComponent(digest)}`) && x.path.includes('from=studio%2Fgame-a2') && x.status === 201)).toBe(true);
      expect((await fetch(`${registry.url}/v2/studio/game-e/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
    }
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
