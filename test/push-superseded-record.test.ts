// A build pushed again under its tag at another time (a retry on another host, a killed run done over) makes the same
// images and a record that differs by its creation time: the record tag moves to a new index. The old index, left
// untagged, still listed the build's images, and the prune that removed the build deleted them: the registry then
// held an index naming deleted manifests. The old index now gets the pending tag before the record tag moves, and
// that prune deletes it first.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { storageProblems, storedTags } from './support/registry.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

async function ok(args: string[], cwd: string): Promise<void> {
  const r = await runCli(args, { cwd });
  expect(r.code, r.stderr).toBe(0);
}

describe('a build pushed again under its tag', () => {
  it('tags the record index it replaces for prune, which deletes it with the build', async () => {
    const repo = `${registry.host}/studio/superseded`;
    const first = path.join(await tempDir(), 'a');
    copySample(first);
    await ok(['build', '--push', repo, '--tag', 'v1'], first);
    const before = await storedTags(registry.storageDir, 'studio/superseded');

    // Another host built the same sources on its own and pushes that build: the same images, a new record.
    const retry = path.join(await tempDir(), 'b');
    copySample(retry);
    await ok(['build', '--tag', 'v1'], retry);
    await ok(['push', `${repo}:v1`], retry);
    const after = await storedTags(registry.storageDir, 'studio/superseded');
    expect(after['v1']).toBe(before['v1']);
    const old = before['v1.gamelayer-record']!;
    expect(after['v1.gamelayer-record']).not.toBe(old);
    expect(after[`${old.replace(':', '-')}.gamelayer-index`]).toBe(old);

    await appendFile(path.join(retry, 'app/config/server.cfg'), 'max_players=64\n');
    await ok(['build', '--push', repo, '--tag', 'v2'], retry);
    await ok(['prune', repo, '--keep', '1', '--apply'], retry);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    const left = await storedTags(registry.storageDir, 'studio/superseded');
    // v1's tree images that v2 shares stay tagged (a registry deletes a manifest, not a tag).
    expect(Object.keys(left).filter((t) => t === 'v1' || t === 'v1.gamelayer-record' || t.endsWith('.gamelayer-index'))).toEqual([]);
  }, 180_000);
});
