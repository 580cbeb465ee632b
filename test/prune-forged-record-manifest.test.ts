// prune moves a removed build's record tag from its index to its record manifest before deleting the index: it read
// that manifest by digest and put whatever bytes came back under the tag, unhashed. A proxy or registry answering
// with another manifest (here the kept build's record) got the removed build's tag put on it: `ls` then showed a
// build v1 whose record is v2's, and the next prune kept it. The bytes must hash to the digest before any tag moves.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { storedTags } from './support/registry.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const reg = useRegistry();
let root: string;
beforeAll(async () => {
  root = await tempDir('gl-prune-forged-');
});

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
async function recordManifest(tag: string): Promise<string> {
  const index = (await fetch(`${reg.url}/v2/studio/game/manifests/${tag}.gamelayer-record`, { headers: { Accept: INDEX } }).then((r) => r.json())) as { manifests: { digest: string; artifactType?: string }[] };
  return index.manifests.find((m) => m.artifactType)!.digest;
}

describe('prune --apply when the registry answers a record manifest with other bytes', () => {
  it('moves no tag and deletes nothing of that build; the error names the manifest', async () => {
    const dir = path.join(root, 'game');
    await writeGame(dir);
    for (const v of ['v1', 'v2']) {
      await writeFile(path.join(dir, 'app', `${v}.txt`), v);
      expect((await runCli(['build', '-t', v, '--push', `${reg.host}/studio/game`], { cwd: dir })).code).toBe(0);
    }
    const v1 = await recordManifest('v1');
    const v2Text = await fetch(`${reg.url}/v2/studio/game/manifests/${await recordManifest('v2')}`, { headers: { Accept: MANIFEST } }).then((r) => r.text());
    const before = await storedTags(reg.storageDir, 'studio/game');

    const proxy = await startFaultProxy(reg.host, [
      { method: 'GET', path: new RegExp(`/manifests/${v1}$`), count: 100, action: { kind: 'status', status: 200, headers: { 'content-type': MANIFEST }, body: v2Text } },
    ]);
    try {
      const r = await runCli(['prune', `${proxy.host}/studio/game`, '--keep', '1', '--apply'], { cwd: dir });
      const after = await storedTags(reg.storageDir, 'studio/game');
      // v1's record tag still names v1's record index, not v2's record manifest.
      expect(after['v1.gamelayer-record']).toBe(before['v1.gamelayer-record']);
      expect(r.stderr).toContain(`error[registry.digest]: ${proxy.host}/studio/game@${v1}: the manifest the registry sent hashes to sha256:`);
      expect(r.code).toBe(1);
    } finally {
      await proxy.stop();
    }
  });
});
