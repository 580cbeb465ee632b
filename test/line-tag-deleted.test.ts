// A repository whose line tag someone deleted (distribution's DELETE of the line tag's index by digest, an ECR
// BatchDeleteImage of the tag) still holds the line's earlier builds under their record tags, but a fresh host's next
// build said "no build of line main yet", planned every tree afresh and re-sent whole trees. With no line tag at all
// in the repository, it plans on the newest record tag (`<tag>.gamelayer-record`, one of its own line first), says so,
// and its push tags the line again.
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newestRecordTag } from '../src/registry/line-fallback.js';
import { RegistryClient } from '../src/registry/client.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const INDEX = 'application/vnd.oci.image.index.v1+json';
let reg: TestRegistry;
let dir: string;
beforeAll(async () => {
  reg = await startRegistry();
  dir = await tempDir('gl-line-deleted-');
  await writeGame(dir);
}, 60_000);
afterAll(async () => {
  await reg?.stop();
});

const build = async (tag: string) => {
  const r = await runCli(['build', '--tag', tag, '--push', `${reg.host}/studio/game`, '--line', 'main', '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return { ...r, json: JSON.parse(r.stdout) as { summary: { previous: { source: string; ref?: string; reason?: string } }; push: { bytesSent: number } } };
};

describe('the line tag deleted from the registry', () => {
  it('a fresh host plans on the newest record tag, says so, and the push tags the line again', async () => {
    await build('v1');
    await writeFile(path.join(dir, 'app-media/paks/a.pak'), Buffer.alloc(50_000, 3));
    const v2 = await build('v2');
    expect(v2.json.summary.previous.ref).toBe(`${reg.host}/studio/game:gamelayer-line.main`);
    // Someone deletes the line tag: distribution deletes its index by digest, and v2's record tag (the same index) with it.
    const head = await fetch(`${reg.url}/v2/studio/game/manifests/gamelayer-line.main`, { method: 'HEAD', headers: { accept: INDEX } });
    const digest = head.headers.get('docker-content-digest')!;
    expect((await fetch(`${reg.url}/v2/studio/game/manifests/${digest}`, { method: 'DELETE' })).status).toBe(202);

    await rm(path.join(dir, '.gamelayer'), { recursive: true, force: true }); // a fresh host
    await writeFile(path.join(dir, 'app/game.xml'), '<game v="3"/>\n');
    const v3 = await runCli(['build', '--tag', 'v3', '--push', `${reg.host}/studio/game`, '--line', 'main'], { cwd: dir });
    expect(v3.code, v3.stderr).toBe(0);
    expect(v3.stdout).toContain(`previous build: ${reg.host}/studio/game:v1.gamelayer-record (the repository's newest build record: it has no line tag), built `);
    expect(v3.stderr).toContain(`note: ${reg.host}/studio/game has no line tag (gamelayer-line.main, nor another line's; deleted?): planned on its newest build record (${reg.host}/studio/game:v1.gamelayer-record, line main, built `);
    // The trees unchanged since v1 keep v1's layers (kept in the registry, not built or sent again).
    const text = await runCli(['inspect', 'v3'], { cwd: dir });
    expect(text.stdout).toMatch(/^engine\s+0\s+kept/m);
    const tags = await new RegistryClient({ host: reg.host }).listTags('studio/game');
    expect(tags).toContain('gamelayer-line.main');
  });

  it('newestRecordTag: a record of the line wins over a newer one of another line; none when any line tag exists', async () => {
    const client = new RegistryClient({ host: reg.host });
    const put = (repo: string, tag: string, annotations: Record<string, string>) =>
      client.putManifest(repo, tag, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [], annotations })), INDEX);
    const at = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    await put('studio/recs', 'a.gamelayer-record', { 'org.opencontainers.image.created': at(3), 'dev.gamelayer.line': 'main' });
    await put('studio/recs', 'b.gamelayer-record', { 'org.opencontainers.image.created': at(2), 'dev.gamelayer.line': 'main' });
    await put('studio/recs', 'c.gamelayer-record', { 'org.opencontainers.image.created': at(1), 'dev.gamelayer.line': 'hotfix' });
    await put('studio/recs', 'd.gamelayer-record', { 'org.opencontainers.image.created': at(-48), 'dev.gamelayer.line': 'main' }); // clock ahead
    await put('studio/recs', 'v9', { 'org.opencontainers.image.created': at(0) });
    expect(await newestRecordTag(client, 'studio/recs', 'main')).toMatchObject({ line: 'main', recordTag: 'b.gamelayer-record' });
    expect((await newestRecordTag(client, 'studio/recs', 'release-2'))?.recordTag).toBe('c.gamelayer-record');
    await put('studio/recs', 'gamelayer-line.hotfix', { 'org.opencontainers.image.created': at(1) });
    expect(await newestRecordTag(client, 'studio/recs', 'main')).toBeUndefined();
  });
});
