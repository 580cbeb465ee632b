// The OS base kept in the game's ECR registry (its own repository), on a fresh host: the build reads the base's
// layers once for the folders at the mounts (streamed from the registry, not kept), and the push, which cannot mount
// them into the game's repository (ECR without BLOB_MOUNTING answers a mount with an upload session), downloaded each
// of them again to upload it. The first build, and every day the OS patch brings new layers, cost the base twice.
// Now the layers read for the folders are kept in the store; the push still tries the mount first.
import { describe, expect, it } from 'vitest';
import { pushBusyboxBase } from './support/busybox-layout.js';
import { useEcrGame } from './support/ecr-game.js';
import { sampleOnBase } from './support/sample.js';

const t = useEcrGame('gl-ecr-base-once-', { game: false });

describe('a base image in the same ECR registry, no blob mounting', () => {
  it('a fresh host downloads each base layer once, and the push still sends it', async () => {
    const { ecr } = t;
    ecr.repositories.set('base/os', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    ecr.repositories.set('studio/game', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
    const pw = ecr.registry.users[0]!;
    await pushBusyboxBase(`${ecr.host}/base/os:stable`, `${pw.username}:${pw.password}`);
    const dir = await sampleOnBase(`${ecr.host}/base/os:stable`, 'gl-ecr-base-once-game-');
    const seen = ecr.frontSeen.length;
    const r = await t.buildPush('studio/game', 'd0', [], dir);
    expect(r.code, r.stderr).toBe(0);
    const baseGets = ecr.frontSeen.slice(seen).filter((e) => e.method === 'GET' && e.path.startsWith('/v2/base/os/blobs/sha256:')).map((e) => e.path);
    // The base's config and its layer.
    expect(baseGets.length).toBeGreaterThanOrEqual(2);
    expect(baseGets.filter((p, i) => baseGets.indexOf(p) !== i)).toEqual([]);
    // The mount was asked (and answered with an upload session): the layer went up from the store.
    expect(ecr.frontSeen.slice(seen).some((e) => e.method === 'POST' && e.path.includes('/v2/studio/game/blobs/uploads/') && e.path.includes('mount='))).toBe(true);
  }, 120_000);
});
