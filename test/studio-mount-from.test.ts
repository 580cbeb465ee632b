// A studio: three games on one engine build, each its own gamelayer.yaml and its own repository in one registry. Their
// engine layers are byte-identical (same digests), but game B's push sent them again to studio/game-b: a push mounted
// only from its base image's repository, and nothing told it where the studio's other games were. `mountFrom:` names
// them; each blob is mounted from the first that holds it (game C lists a repository holding nothing first).
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { prng } from './support/prng.js';
import { readStoredBlob } from './support/registry.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { GAME_YAML, writeGame } from './support/trees.js';

const run = promisify(execFile);
const registry = useRegistry();
const games: Record<string, string> = {};

interface PushJson {
  push: { bytesSent: number; images: { uploaded: string[]; mounted: string[] }[] };
}

async function manifestLayers(repo: string, tag: string): Promise<{ digest: string; size: number }[]> {
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { layers: { digest: string; size: number }[] }).layers;
}

async function buildPush(game: string, tag = 'v1'): Promise<PushJson> {
  const r = await runCli(['build', '--tag', tag, '--push', `${registry.host}/studio/${game}`, '--json'], { cwd: games[game]! });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PushJson;
}

/**
 * Pushes `game` and checks that every layer but its app's is one of game A's (`a`), that each was mounted, and that
 * none was uploaded to its repository (the registry's access log: no upload PUT names it).
 */
async function pushSharing(game: string, a: { digest: string }[]) {
  await registry.resetAccessLog();
  const pushed = await buildPush(game);
  const layers = await manifestLayers(`studio/${game}`, 'v1');
  // Every layer but the app's (its game.xml differs) is game A's, byte for byte.
  const shared = layers.filter((l) => a.some((x) => x.digest === l.digest));
  expect(shared.length).toBe(layers.length - 1);
  const mounted = new Set(pushed.push.images.flatMap((i) => i.mounted));
  expect(shared.filter((l) => !mounted.has(l.digest))).toEqual([]);
  const log = await registry.accessLog();
  const sent = log.filter((e) => e.method === 'PUT' && e.path.startsWith(`/v2/studio/${game}/blobs/uploads/`)).map((e) => decodeURIComponent(/[?&]digest=([^&]+)/.exec(e.path)?.[1] ?? ''));
  expect(sent.filter((d) => shared.some((l) => l.digest === d))).toEqual([]);
  return { shared, log, bytesSent: pushed.push.bytesSent };
}

beforeAll(async () => {
  const mounts: Record<string, string> = {
    'game-a': '',
    // The other game's `registry:` line copied whole (host and all) is taken for its repository.
    'game-b': `mountFrom: [${registry.host}/studio/game-a]\n`,
    'game-c': 'mountFrom: [studio/never-pushed, studio/game-b]\n',
  };
  for (const [game, mountFrom] of Object.entries(mounts)) {
    const dir = await tempDir(`gl-studio-${game}-`);
    await writeGame(dir);
    // The same engine build in every game: a binary that does not compress, as a real one barely does.
    await writeFile(path.join(dir, 'engine', 'bin', 'server'), prng('studio engine', 256 * 1024), { mode: 0o755 });
    await writeFile(path.join(dir, 'app', 'game.xml'), `<game name="${game}"/>\n`);
    await writeFile(path.join(dir, 'gamelayer.yaml'), `${GAME_YAML.replace('game: test-game', `game: ${game}`)}${mountFrom}`);
    games[game] = dir;
  }
}, 60_000);

describe('three games on one engine build, one repository each', () => {
  it("mounts the engine layers from the studio's other games instead of sending them again", async () => {
    await buildPush('game-a');
    const a = await manifestLayers('studio/game-a', 'v1');
    const b = await pushSharing('game-b', a);
    expect(b.log.filter((e) => e.method === 'POST' && e.path.includes('from=studio%2Fgame-a') && e.status === 201).length).toBeGreaterThanOrEqual(b.shared.length);
    // What went up is B's own: its app layer, configs and the record, far below the shared layers' bytes.
    expect(b.bytesSent).toBeLessThan(b.shared.reduce((n, l) => n + l.size, 0));
    const c = await pushSharing('game-c', a);
    // Mounted from game B, which holds them; never asked of the repository that holds nothing.
    expect(c.log.some((e) => e.method === 'POST' && e.path.includes('from=studio%2Fnever-pushed'))).toBe(false);
  }, 120_000);

  it("prune and the registry's garbage collection in game A's repository leave the blobs B and C mounted from it", async () => {
    const aV1 = await manifestLayers('studio/game-a', 'v1');
    await writeFile(path.join(games['game-a']!, 'app', 'game.xml'), '<game name="game-a" day="2"/>\n');
    await buildPush('game-a', 'v2');
    const aV2 = await manifestLayers('studio/game-a', 'v2');
    const pruned = await runCli(['prune', `${registry.host}/studio/game-a`, '--keep', '1', '--apply'], { cwd: games['game-a']! });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain('deleted 1 build: v1');
    await registry.collectGarbage();
    // The collection did run: A's old app layer, which no image names any more, is gone from the storage.
    const aApp = aV1.find((l) => !aV2.some((x) => x.digest === l.digest));
    expect(aApp).toBeDefined();
    expect(await readStoredBlob(registry.storageDir, aApp!.digest)).toBeUndefined();
    // B's and C's builds still pull whole, every blob checked against its digest by an independent client.
    for (const game of ['game-b', 'game-c']) {
      const out = path.join(games[game]!, 'pulled');
      await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${registry.host}/studio/${game}:v1`, `oci:${out}:v1`]);
    }
  }, 120_000);
});
