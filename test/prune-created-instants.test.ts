// Prune ranked builds by their records' creation times as text: a time written in another zone, or with a fraction of
// a second beside one without, sorted wrong ("2026-12-07T10:00:00+01:00", 09:00 UTC, came out newer than
// "2026-12-07T09:30:00Z"; "…09:30:00Z" newer than "…09:30:00.250Z"), and --keep kept an older build, deleting a newer
// one. Builds are now ranked by the instant; a record whose time is no RFC 3339 date-time ranks oldest, as the output says.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const registry = useRegistry();
let dir: string;
beforeAll(async () => {
  dir = await tempDir('gl-prune-created-');
  await writeGame(dir);
});

const INDEX = 'application/vnd.oci.image.index.v1+json';

/** Puts the record tag of `tag` on a copy of its record index whose creation time reads `createdAt`. */
async function recordCreatedAt(name: string, tag: string, createdAt: string): Promise<void> {
  const url = `${registry.url}/v2/${name}/manifests/${tag}.gamelayer-record`;
  const got = await fetch(url, { headers: { accept: INDEX } });
  expect(got.headers.get('content-type')).toBe(INDEX);
  const doc = (await got.json()) as { annotations?: Record<string, string> };
  doc.annotations = { ...doc.annotations, 'org.opencontainers.image.created': createdAt };
  const put = await fetch(url, { method: 'PUT', headers: { 'content-type': INDEX }, body: JSON.stringify(doc) });
  expect(put.status).toBe(201);
}

describe('prune ranks builds by the instant their records name', () => {
  it('whatever the zone or fraction of a second, and ranks a record without such a time oldest, saying so', async () => {
    const name = 'studio/instants';
    const repo = `${registry.host}/${name}`;
    const times: Record<string, string> = {
      v1: '2026-12-07T10:00:00+01:00', // 09:00:00 UTC
      v2: '2026-12-07T09:30:00Z',
      v3: '2026-12-07T09:30:00.250Z', // the newest
      v4: 'Monday morning',
    };
    for (const tag of Object.keys(times)) {
      await writeFile(path.join(dir, 'app/game.xml'), `<game v="${tag}"/>\n`);
      const r = await runCli(['build', '--tag', tag, '--push', repo], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
    for (const [tag, at] of Object.entries(times)) await recordCreatedAt(name, tag, at);

    const r = await runCli(['prune', repo, '--keep', '2'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('kept 2 builds: v3, v2\n');
    expect(r.stdout).toMatch(/^would delete 2 builds: v1, v4 \(/m);
    expect(r.stdout).toContain('ranked oldest 1 build whose record\'s creation time is not an RFC 3339 date-time: v4 ("Monday morning")\n');
    const json = await runCli(['prune', repo, '--keep', '2', '--json'], { cwd: dir });
    expect(JSON.parse(json.stdout).undated).toEqual([{ tag: 'v4', createdAt: 'Monday morning' }]);
  });
});
