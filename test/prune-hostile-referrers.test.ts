// prune deletes what is attached to a removed build's images: their signatures and the SBOMs their referrers index
// (tag `sha256-<hex>`) lists. A referrers index is whatever the registry holds under that tag (anyone who may push
// can write it): one listing a kept build's image must not get that image deleted. What a kept tag names survives.
import { createHash } from 'node:crypto';
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { storedTags } from './support/registry.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

const INDEX = 'application/vnd.oci.image.index.v1+json';

/** The sample game built and pushed as v1 then v2 (one app-media file differs) into `name` of the test registry. */
async function twoBuilds(name: string): Promise<{ repo: string; dir: string }> {
  const repo = `${registry.host}/${name}`;
  const dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
  for (const v of ['v1', 'v2']) {
    await writeFile(path.join(dir, `app-media/levels/${v}.dat`), Buffer.alloc(4000, v.charCodeAt(1)));
    const r = await runCli(['build', '--tag', v, '--push', repo], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  }
  return { repo, dir };
}

describe('gamelayer prune and a referrers index naming a kept image', () => {
  it('deletes the removed build, never the kept image the index names', async () => {
    const name = 'studio/referrers';
    const { repo, dir } = await twoBuilds(name);
    const stored = await storedTags(registry.storageDir, name);
    const v1 = stored['v1-app-media']!;
    const v2 = stored['v2-app-media']!;
    expect(v1).not.toBe(v2);
    // v2's app-media manifest, as the registry serves it (size and media type for the descriptor).
    const res = await fetch(`${registry.url}/v2/${name}/manifests/${v2}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(v2);
    // A "referrers index" of v1's app-media image that lists v2's.
    const index = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [{ mediaType: res.headers.get('content-type'), digest: v2, size: bytes.length, artifactType: 'application/spdx+json' }] });
    const put = await fetch(`${registry.url}/v2/${name}/manifests/sha256-${v1.slice('sha256:'.length)}`, { method: 'PUT', headers: { 'content-type': INDEX }, body: index });
    expect(put.status).toBe(201);

    const r = await runCli(['prune', repo, '--keep', '1', '--apply', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { removed: { tag: string }[]; attached: { digest: string }[] };
    expect(result.removed.map((b) => b.tag)).toEqual(['v1']);
    expect(result.attached.map((a) => a.digest)).not.toContain(v2);
    // v2's tree image is still there, whole.
    const after = await fetch(`${registry.url}/v2/${name}/manifests/v2-app-media`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(after.status).toBe(200);
    expect(after.headers.get('docker-content-digest')).toBe(v2);
  }, 240_000);

  it('a pending record index tag (sha256-<hex>.gamelayer-index) naming a kept build\'s record index deletes nothing of it', async () => {
    const name = 'studio/pending-index';
    const { repo, dir } = await twoBuilds(name);
    // The tag prune gives a record index before moving its record tag off it (src/registry/prune-records.ts), here
    // on the kept build's index: as a prune killed there would leave it, or anyone who may push could write it.
    const kept = (await storedTags(registry.storageDir, name))['v2.gamelayer-record']!;
    const res = await fetch(`${registry.url}/v2/${name}/manifests/${kept}`, { headers: { accept: INDEX } });
    const put = await fetch(`${registry.url}/v2/${name}/manifests/${kept.replace(':', '-')}.gamelayer-index`, { method: 'PUT', headers: { 'content-type': INDEX }, body: Buffer.from(await res.arrayBuffer()) });
    expect(put.status).toBe(201);

    const r = await runCli(['prune', repo, '--keep', '1', '--apply', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { removed: { tag: string }[]; deleted: { digest: string }[]; left: string[] };
    expect(result.removed.map((b) => b.tag)).toEqual(['v1']);
    expect(result.deleted.map((d) => d.digest)).not.toContain(kept);
    expect(result.left).toContain(`${kept.replace(':', '-')}.gamelayer-index`);
    expect((await storedTags(registry.storageDir, name))['v2.gamelayer-record']).toBe(kept);
    const v2 = await runCli(['inspect', `${repo}:v2`, '--json'], { cwd: dir });
    expect(v2.code, v2.stderr).toBe(0);
  }, 240_000);
});
