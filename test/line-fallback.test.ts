// Which line a new line's first build plans on: the other line tag whose record index says it was created last.
// Line tags here name bare indexes with only a creation time (all newestOtherLine reads), in a real registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestOtherLine } from '../src/registry/line-fallback.js';
import { RegistryClient } from '../src/registry/client.js';
import { startRegistry, type TestRegistry } from './support/registry.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
let reg: TestRegistry;
let client: RegistryClient;
beforeAll(async () => {
  reg = await startRegistry();
  client = new RegistryClient({ host: reg.host });
}, 60_000);
afterAll(async () => {
  await reg?.stop();
});

/** Tags `tag` with an empty index whose annotations are `annotations`. */
async function tagIndex(repo: string, tag: string, annotations: Record<string, string>): Promise<void> {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [], annotations }));
  await client.putManifest(repo, tag, bytes, INDEX);
}
const created = (iso: string) => ({ 'org.opencontainers.image.created': iso });

describe('newestOtherLine', () => {
  it('picks the other line created last; passes over its own line, times ahead of the clock, unreadable times and other tags', async () => {
    const repo = 'studio/lines';
    const hour = 3_600_000;
    const now = Date.now();
    await tagIndex(repo, 'gamelayer-line.main', created(new Date(now - 2 * hour).toISOString()));
    await tagIndex(repo, 'gamelayer-line.release-1.3', created(new Date(now - 3 * hour).toISOString()));
    await tagIndex(repo, 'gamelayer-line.hotfix', created(new Date(now - 1 * hour).toISOString()));
    // Newer, but not to be believed or not a line of another name.
    await tagIndex(repo, 'gamelayer-line.release-1.4', created(new Date(now).toISOString()));
    await tagIndex(repo, 'gamelayer-line.wrong-clock', created(new Date(now + 24 * hour).toISOString()));
    await tagIndex(repo, 'gamelayer-line.no-time', {});
    await tagIndex(repo, 'gamelayer-line.bad-time', created('yesterday'));
    await tagIndex(repo, 'v9', created(new Date(now).toISOString()));
    expect(await newestOtherLine(client, repo, 'release-1.4')).toEqual({ line: 'hotfix', createdAt: new Date(now - hour).toISOString() });
    expect((await newestOtherLine(client, repo, 'hotfix'))?.line).toBe('release-1.4');
  });

  it('is undefined for a repository with no other line (or none at all)', async () => {
    await tagIndex('studio/one-line', 'gamelayer-line.main', created(new Date().toISOString()));
    await tagIndex('studio/one-line', 'v1', created(new Date().toISOString()));
    expect(await newestOtherLine(client, 'studio/one-line', 'main')).toBeUndefined();
    expect(await newestOtherLine(client, 'studio/empty', 'main')).toBeUndefined();
  });
});
