// A studio folder with one config per game side by side (game-a.yaml, game-b.yaml: the engine folder shared, each
// game its app trees and its own store) shares one state folder, and build-last.json is the last build of either
// game. A build of game A without --push planned on game B's last build: every tree that differs between the games
// (A's own app media) was packed again and reported as changed, whatever A itself had changed. It now plans on A's
// own newest build.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { prng } from './support/prng.js';
import { tempDir } from './support/tmp.js';
import { writeStudioGames } from './support/studio-folder.js';
import { writeTree } from './support/trees.js';

let dir: string;

interface BuildJson {
  summary: { previous: { source: string; ref?: string }; layers: { tree: string; reused: boolean; digest: string }[] };
}

async function build(game: string, tag: string): Promise<BuildJson> {
  const r = await runCli(['-c', `${game}.yaml`, 'build', '--tag', tag, '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as BuildJson;
}

beforeAll(async () => {
  dir = await tempDir('gl-studio-folder-');
  await writeTree(path.join(dir, 'engine'), { 'bin/server': { mode: 0o755, content: prng('engine', 64 * 1024) } });
  await writeTree(path.join(dir, 'engine-media'), { 'shaders/a.glsl': 'void main(){}\n' });
  await writeStudioGames(dir, [{ name: 'game-a' }, { name: 'game-b' }], 128 * 1024);
}, 60_000);

describe('two games built side by side in one folder', () => {
  it("plans each game's build on its own last build, not the other game's", async () => {
    const a1 = await build('game-a', 'a1');
    const b1 = await build('game-b', 'b1');
    // The engine trees are the same files: B's first build copies A's engine layers from A's store (same inputs, same
    // tar), it does not pack them again.
    const engine = (b: BuildJson) => b.summary.layers.filter((l) => l.tree === 'engine' || l.tree === 'engine-media');
    expect(engine(b1).map((l) => [l.digest, l.reused])).toEqual(engine(a1).map((l) => [l.digest, true]));
    for (const l of engine(b1)) expect(existsSync(path.join(dir, '.gamelayer/oci-game-b/blobs/sha256', l.digest.slice(7)))).toBe(true);
    await writeFile(path.join(dir, 'game-a', 'app', 'server.cfg'), 'name=game-a\nport=7777\n');
    const a2 = await build('game-a', 'a2');
    // (Its ref is a1's record or its store's last-build pointer, which held a1 then: each store has its own.)
    expect(a2.summary.previous.source).toBe('local');
    // Only the app changed: A's app media is A's layer of a1, not packed again.
    const media = (b: BuildJson) => b.summary.layers.filter((l) => l.tree === 'app-media');
    expect(media(a2).map((l) => [l.digest, l.reused])).toEqual(media(a1).map((l) => [l.digest, true]));

    // And game B's next build plans on b1, though a2 was built after it.
    await writeFile(path.join(dir, 'game-b', 'app', 'server.cfg'), 'name=game-b\nport=7778\n');
    const b2 = await build('game-b', 'b2');
    expect(b2.summary.previous.source).toBe('local');
    expect(media(b2).every((l) => l.reused)).toBe(true);
  }, 120_000);
});
