// Two games' configs side by side share the state folder (.gamelayer/: records, the layer cache), each with its own
// store. A build dropped every cache row of the layers it looked up whose blob was not in its own store: game B's
// build erased game A's rows when it took a layer of the same inputs from A's repository instead (`mountFrom:`, no
// local record vouching for A's row), and A's next build, with nothing changed, packed that layer again. A row now
// names its store, and only a build of that store drops it.
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { prng } from './support/prng.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeStudioGames } from './support/studio-folder.js';
import { writeTree } from './support/trees.js';

const registry = useRegistry();

interface BuildJson {
  summary: { built: number; layers: { tree: string; digest: string; reused: boolean }[]; studioLayers?: { repository: string; layers: number; markers: number }[] };
}

describe('configs sharing a state folder', () => {
  it("a build of game B leaves game A's layer cache rows: A's next build packs nothing", async () => {
    const dir = await tempDir('gl-shared-cache-');
    // A is on the new engine; B still on its old one (a folder of its own), until it takes the upgrade below.
    await writeTree(path.join(dir, 'engine'), { 'bin/server': { mode: 0o755, content: prng('engine 2', 64 * 1024) } });
    await writeTree(path.join(dir, 'game-b', 'engine'), { 'bin/server': { mode: 0o755, content: prng('engine 1', 64 * 1024) } });
    await writeTree(path.join(dir, 'engine-media'), { 'shaders/a.glsl': 'void main(){}\n' });
    await writeStudioGames(dir, [{ name: 'game-a' }, { name: 'game-b', engine: 'game-b/engine', extra: ['mountFrom: [studio/game-a]'] }], 32 * 1024);
    const build = async (game: string, ...args: string[]): Promise<BuildJson> => {
      const r = await runCli(['-c', `${game}.yaml`, 'build', ...args, '--json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as BuildJson;
    };

    const a1 = await build('game-a', '--tag', 'a1', '--push', `${registry.host}/studio/game-a`);
    // B's own work for a while: newer records than A's, none of A's engine (a build reads only the newest few to
    // vouch for a cache row).
    for (const n of [1, 2, 3, 4]) {
      await writeFile(path.join(dir, 'game-b', 'app', 'server.cfg'), `name=game-b\nround=${n}\n`);
      await build('game-b', '--tag', `b${n}`);
    }
    // B takes the engine upgrade: the same files as A's engine, so the same layer, taken from A's repository.
    await cp(path.join(dir, 'engine'), path.join(dir, 'game-b', 'engine'), { recursive: true, force: true });
    const b5 = await build('game-b', '--tag', 'b5', '--push', `${registry.host}/studio/game-b`);
    const engine = (b: BuildJson) => b.summary.layers.filter((l) => l.tree === 'engine').map((l) => [l.digest, l.reused]);
    expect(engine(b5)).toEqual(engine(a1).map(([d]) => [d, true]));
    expect(b5.summary.studioLayers).toEqual([{ repository: `${registry.host}/studio/game-a`, layers: 1, markers: 1 }]);

    // A again, nothing changed: every layer and marker from its own store, none packed.
    const a2 = await build('game-a', '--tag', 'a2');
    expect(a2.summary.built).toBe(0);
    expect(engine(a2)).toEqual(engine(a1).map(([d]) => [d, true]));
  }, 120_000);
});
