// `mountFrom:` on Amazon ECR (the fake: real SDK, SigV4 checked): the push asks BatchCheckLayerAvailability which
// blobs each listed repository holds and mounts those; with the registry's blob mounting off, ECR answers a mount with
// an upload session and the push uploads on it, asking no other mount for the rest of the run.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useEcrGame } from './support/ecr-game.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const t = useEcrGame('gl-studio-ecr-', { game: false });

async function game(name: string, mountFrom: string): Promise<string> {
  const dir = await tempDir(`gl-studio-ecr-${name}-`);
  await writeGame(dir);
  await writeFile(path.join(dir, 'app', 'game.xml'), `<game name="${name}"/>\n`);
  const yaml = path.join(dir, 'gamelayer.yaml');
  await writeFile(yaml, `${(await readFile(yaml, 'utf8')).replace('game: test-game', `game: ${name}`)}${mountFrom}`);
  return dir;
}

interface PushJson {
  push: { blobs: { mounted: number; uploaded: number } };
}

describe('three games in one ECR registry', () => {
  it('mounts from the repositories that hold the blobs, and uploads when blob mounting is off', async () => {
    const { ecr } = t;
    for (const r of ['studio/game-a', 'studio/game-b', 'studio/game-c']) ecr.repositories.set(r, { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    const push = async (name: string, dir: string): Promise<PushJson> => {
      const r = await t.buildPush(`studio/${name}`, 'v1', ['--json'], dir);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as PushJson;
    };
    await push('game-a', await game('game-a', ''));

    ecr.blobMounting = true;
    const b = await push('game-b', await game('game-b', 'mountFrom: [studio/not-there, studio/game-a]\n'));
    expect(b.push.blobs.mounted).toBeGreaterThan(0);
    const mountsB = ecr.frontSeen.filter((e) => e.method === 'POST' && e.path.startsWith('/v2/studio/game-b/blobs/uploads/') && e.path.includes('mount='));
    expect(mountsB.filter((e) => !e.path.includes('from=studio%2Fgame-a'))).toEqual([]);

    ecr.blobMounting = false;
    const seen = ecr.frontSeen.length;
    const c = await push('game-c', await game('game-c', 'mountFrom: [studio/game-a]\n'));
    expect(c.push.blobs.mounted).toBe(0);
    expect(c.push.blobs.uploaded).toBeGreaterThan(0);
    // The mount was asked (ECR said game A holds the blobs) and answered with the upload session the blob went up on:
    // once for the whole push. Each image and upload slot found out for itself before (six refused mounts).
    const mountsC = ecr.frontSeen.slice(seen).filter((e) => e.method === 'POST' && e.path.startsWith('/v2/studio/game-c/blobs/uploads/') && e.path.includes('mount='));
    expect(mountsC.length).toBe(1);
  }, 120_000);
});
