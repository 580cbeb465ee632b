// Two games pointed at one store (issue 14, item 3): tags in an OCI layout are plain (`latest`), so a store holds
// one game. The CLI refuses to build a second game into it and refuses to push another game's image.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame, writeTree } from './support/trees.js';

const run = promisify(execFile);
let reg: TestRegistry;
let dir: string;
let shared: string;

const yaml = (game: string) => `game: ${game}
start: /opt/local/engine/start.sh
store: ../shared-store
trees:
  engine: {source: engine}
  engine-media: {source: engine-media}
  app: {source: app}
  app-media: {source: app-media}
`;

beforeAll(async () => {
  reg = await startRegistry();
  dir = await tempDir('gl-games-');
  shared = path.join(dir, 'shared-store');
  for (const game of ['game-a', 'game-b']) {
    const root = path.join(dir, game);
    await writeGame(root);
    await writeTree(path.join(root, 'app'), { 'which.txt': `${game}\n` });
    await writeFile(path.join(root, 'gamelayer.yaml'), yaml(game));
  }
});
afterAll(async () => {
  await reg?.stop();
});

const cfg = (game: string) => path.join(dir, game, 'gamelayer.yaml');

async function labelsAt(ref: string): Promise<Record<string, string>> {
  const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]);
  return (JSON.parse(stdout) as { Labels: Record<string, string> }).Labels;
}

describe('one store, two games', () => {
  it("game B cannot build into game A's store; A's push of :latest still sends A's image", async () => {
    const a = await runCli(['build', '-c', cfg('game-a')]);
    expect(a.code).toBe(0);
    const b = await runCli(['build', '-c', cfg('game-b')]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toContain(`error[build.store-other-game]: ${shared}: this store holds images of the game "game-a" (tag latest); ${cfg('game-b')} builds "game-b", whose tags would replace them`);
    expect(b.stderr).toContain('hint: give each game its own store');
    const index = JSON.parse(await readFile(path.join(shared, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    expect(new Set(index.manifests.map((m) => m.annotations['dev.gamelayer.game']))).toEqual(new Set(['game-a']));

    const push = await runCli(['push', '-c', cfg('game-a'), `${reg.host}/studio/game-a:latest`]);
    expect(push.code).toBe(0);
    expect((await labelsAt(`${reg.host}/studio/game-a:latest`))['dev.gamelayer.game']).toBe('game-a');
  });

  it('a store written before tags named their game is recognised by the image labels', async () => {
    const file = path.join(shared, 'index.json');
    const index = JSON.parse(await readFile(file, 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    for (const m of index.manifests) delete m.annotations['dev.gamelayer.game'];
    await writeFile(file, `${JSON.stringify(index, null, 2)}\n`);
    const b = await runCli(['build', '-c', cfg('game-b')]);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toContain('this store holds images of the game "game-a" (tag latest)');
  });

  it("push refuses an image of another game under the pushing game's tag", async () => {
    const file = path.join(shared, 'index.json');
    const index = JSON.parse(await readFile(file, 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    for (const m of index.manifests) m.annotations['dev.gamelayer.game'] = 'game-a';
    await writeFile(file, `${JSON.stringify(index, null, 2)}\n`);
    const push = await runCli(['push', '-c', cfg('game-b'), `${reg.host}/studio/game-b:latest`]);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain(`error[push.other-game]: ${shared}: the image latest belongs to the game "game-a", not "game-b"`);
    const tags = await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${reg.host}/studio/game-b`]).then(
      (r) => (JSON.parse(r.stdout) as { Tags: string[] }).Tags,
      () => [],
    );
    expect(tags).toEqual([]);
  });
});
