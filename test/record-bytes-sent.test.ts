// Bytes sent, as the registry received them, for the same content pushed again from fresh hosts (each a checkout in a
// folder of its own, as CodeBuild gives each build): the same commit built again by another CodeBuild run sends
// nothing and moves no tag; the same content under a new tag sends only manifests (issue 16). The record blob says
// what was built, not where or when: tags, creation time, the CodeBuild build and the previous record are the record
// manifest's annotations, and the trees' source paths on the build host are left out. Before, both re-sent the record
// blob (about 95 B per file: megabytes for a game of many files).
import { describe, expect, it } from 'vitest';
import { fetchBuildRecordFor } from '../src/registry/artifact.js';
import { runCli } from './support/cli-process.js';
import { storedTags } from './support/registry.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();

interface Pushed {
  push: { bytesSent: number; blobs: { uploaded: number }; record: { artifact: string; bytesSent: number } };
}

async function freshHost(): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  return dir;
}

const codebuild = (n: number) => ({
  CODEBUILD_BUILD_ARN: `arn:aws:codebuild:eu-west-1:123456789012:build/game:${n}`,
  CODEBUILD_BUILD_ID: `game:${n}`,
  CODEBUILD_RESOLVED_SOURCE_VERSION: `${n}`.repeat(40),
});

describe('the same content pushed again from fresh hosts', () => {
  it('the same tag from another CodeBuild run sends nothing; a new tag sends only manifests', async () => {
    const repo = `${registry.host}/studio/game`;
    const d1 = await runCli(['build', '--push', repo, '--tag', 'd1', '--line', 'main'], { cwd: await freshHost(), env: codebuild(1) });
    expect(d1.code, d1.stderr).toBe(0);
    const before = await storedTags(registry.storageDir, 'studio/game');

    // The nightly build of the same commit: another run, another checkout folder, an empty state.
    await registry.resetAccessLog();
    const again = await runCli(['build', '--push', repo, '--tag', 'd1', '--line', 'main', '--json'], { cwd: await freshHost(), env: codebuild(2) });
    expect(again.code, again.stderr).toBe(0);
    const pushed = (JSON.parse(again.stdout) as Pushed).push;
    expect(pushed.bytesSent).toBe(0);
    expect(await registry.completedUploads()).toBe(0);
    expect((await registry.accessLog()).filter((e) => e.method === 'PUT')).toEqual([]);
    expect(await storedTags(registry.storageDir, 'studio/game')).toEqual(before);
    // The record still names the run that first built this content.
    const found = await fetchBuildRecordFor(`${repo}:d1`);
    expect(found.record.codebuildArn).toBe(codebuild(1).CODEBUILD_BUILD_ARN);
    expect(found.record.revision).toBe(codebuild(1).CODEBUILD_RESOLVED_SOURCE_VERSION);

    // The same content under a new tag, from a third host: no blob, the record blob already there.
    await registry.resetAccessLog();
    const d2 = await runCli(['build', '--push', repo, '--tag', 'd2', '--line', 'main', '--json'], { cwd: await freshHost(), env: codebuild(3) });
    expect(d2.code, d2.stderr).toBe(0);
    const retag = (JSON.parse(d2.stdout) as Pushed).push;
    expect(retag.blobs.uploaded).toBe(0);
    expect(retag.record.bytesSent).toBe(0);
    expect(await registry.completedUploads()).toBe(0);
    const puts = (await registry.accessLog()).filter((e) => e.method === 'PUT');
    expect(puts.length).toBeGreaterThan(0);
    for (const p of puts) expect(p.path, 'only manifests go up').toMatch(/\/manifests\//);
    const second = await fetchBuildRecordFor(`${repo}:d2`);
    expect(second.record.tags[0]).toBe('d2');
    expect(second.record.codebuildArn).toBe(codebuild(3).CODEBUILD_BUILD_ARN);
    // The commit rides in the record's manifest (and tag index), not in the images: a new commit, the same images.
    expect(second.record.revision).toBe(codebuild(3).CODEBUILD_RESOLVED_SOURCE_VERSION);
    expect(second.record.images).toEqual(found.record.images);
    const listed = await runCli(['ls', repo, '--json'], { cwd: await freshHost() });
    const rows = (JSON.parse(listed.stdout) as { tags: { tag: string; revision?: string }[] }).tags;
    expect(rows.find((r) => r.tag === 'd2.gamelayer-record')?.revision).toBe(codebuild(3).CODEBUILD_RESOLVED_SOURCE_VERSION);
    expect(rows.find((r) => r.tag === 'd2')?.revision).toBeUndefined();
    expect(second.record.manifests.every((m) => m.root === '')).toBe(true);
  }, 240_000);
});
