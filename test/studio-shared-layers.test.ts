// Game B on the engine build game A pushed a moment before (same files, same mounts, same settings: the same layer
// inputs). B's push mounted A's engine layers, but B's build packed them first (tar + gzip of the whole engine, CPU
// for nothing). Now a layer whose inputs are one of A's newest build (`mountFrom:`) is taken from A's repository:
// not packed, not downloaded; the push mounts it. B's plan and digests are the ones it would pack on its own.
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { studioGame, type StudioBuildJson as BuildJson } from './support/studio-game.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { useRegistry } from './support/suite-registry.js';

const registry = useRegistry();
const game = (name: string, extra = '') => studioGame('gl-studio-shared-', name, extra);
const behindProxy = useRegistryBehindFaultProxy();

async function buildPush(dir: string, repo: string): Promise<BuildJson & { stderr: string }> {
  const r = await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/${repo}`, '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return { ...(JSON.parse(r.stdout) as BuildJson), stderr: r.stderr };
}

describe("a game on the studio's shared engine build", () => {
  it("takes the engine layers game A built from A's repository instead of packing them", async () => {
    const a = await buildPush(await game('game-a'), 'studio/game-a');
    const engine = a.summary.layers.filter((l) => l.tree === 'engine' || l.tree === 'engine-media').map((l) => l.digest);
    expect(engine.length).toBe(2);
    await registry.resetAccessLog();
    const b = await buildPush(await game('game-b', 'mountFrom: [studio/game-a]\n'), 'studio/game-b');
    // The same digests as A's (B's own inputs), reused: not packed. Only B's app layer and its marker were packed.
    const bEngine = b.summary.layers.filter((l) => l.tree === 'engine' || l.tree === 'engine-media');
    expect(bEngine.map((l) => [l.digest, l.reused])).toEqual(engine.map((d) => [d, true]));
    expect(b.summary.built).toBe(2);
    // --json says it too (the note on stderr is not printed there): every layer but B's app (the app media is the
    // sample's in both games), and those trees' markers.
    expect(b.summary.studioLayers).toEqual([{ repository: `${registry.host}/studio/game-a`, layers: 3, markers: 3 }]);
    const log = await registry.accessLog();
    for (const digest of engine) {
      // Never downloaded; mounted into B's repository, which holds it now.
      expect(log.filter((e) => e.method === 'GET' && e.path.endsWith(`/blobs/${digest}`))).toEqual([]);
      expect(log.some((e) => e.method === 'POST' && e.path.includes(`mount=${encodeURIComponent(digest)}`) && e.status === 201)).toBe(true);
      expect((await fetch(`${registry.url}/v2/studio/game-b/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
    }
    // A game that lists no other packs them itself, to the same digests: B's layers are its own inputs' tar.
    const c = await buildPush(await game('game-c'), 'studio/game-c');
    expect(c.summary.studioLayers).toBeUndefined();
    expect(c.summary.layers.filter((l) => l.tree === 'engine' || l.tree === 'engine-media').map((l) => [l.digest, l.reused])).toEqual(engine.map((d) => [d, false]));
  }, 120_000);
});

// The studio's layers are optional: a listed repository whose blobs cannot be asked about (a HEAD answered 403) leaves
// this build to pack them, says so once, and never fails the build.
describe("a studio game whose mountFrom repository's blobs cannot be asked about", () => {
  it('packs the layers itself and says which repository failed', async () => {
    const r = behindProxy;
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
