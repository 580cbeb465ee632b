// Reads ask a registry's token service for pull scope only; a push asks for pull,push (once, for all its checks).
// Against a real registry with a real token server that records every scope it is asked for.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchBuildRecordFor } from '../src/registry/artifact.js';
import { pushImage, pushTargetFor } from '../src/registry/index.js';
import { parseReference } from '../src/registry/reference.js';
import { addTag, randomContent } from './support/make-layout.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

let work: string;
let reg: TestRegistry;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-scope-'));
  await addTag(path.join(work, 'layout'), 'v1', [{ layers: [{ files: { 'a.bin': randomContent(10_000) } }] }]);
  reg = await startRegistry({ auth: 'token' });
});
afterAll(async () => {
  await reg?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('token scopes', () => {
  it('a push asks for pull,push; reads (manifests, blobs, tags, record lookups) ask for pull only', async () => {
    const u = reg.users[0]!;
    const credentials = { username: u.username, password: u.password };
    const pushed = await pushImage({ layout: path.join(work, 'layout'), to: `${reg.host}/team/game:v1`, credentials });
    const pushScopes = reg.tokenServer!.issued.flatMap((i) => i.scopes);
    expect(pushScopes).toContain('repository:team/game:pull,push');

    // A fresh client (no cached token) doing only reads.
    const seen = reg.tokenServer!.issued.length;
    const { client } = await pushTargetFor(parseReference(`${reg.host}/team/game:v1`), { credentials });
    const head = await client.headManifest('team/game', 'v1');
    expect(head?.digest).toBe(pushed.digest);
    const manifest = await client.getManifest('team/game', 'v1');
    const layer = (JSON.parse(manifest.bytes.toString('utf8')) as { layers: { digest: string }[] }).layers[0]!.digest;
    expect(await client.blobExists('team/game', layer)).toBe(true);
    (await client.getBlob('team/game', layer)).resume();
    expect(await client.listTags('team/game')).toEqual(['v1']);
    // A record lookup is a read too (this image has none: the lookup still asks before it says so).
    await expect(fetchBuildRecordFor(`${reg.host}/team/game:v1`, { credentials })).rejects.toMatchObject({ code: 'record.not-found' });

    const readScopes = reg.tokenServer!.issued.slice(seen).flatMap((i) => i.scopes);
    expect(readScopes.length).toBeGreaterThan(0);
    expect(new Set(readScopes)).toEqual(new Set(['repository:team/game:pull']));
  });
});
