// gamelayer build --push against a real registry, checked by skopeo and the registry's own log and storage.
import { execFile, execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, storageProblems, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');
let registry: TestRegistry;

beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => registry?.stop());

describe('gamelayer build --push', () => {
  it('pushes the server and tree images; a rebuild pushes nothing; an edit pushes one layer', async () => {
    const dir = await tempDir();
    copySample(dir);
    const repo = `${registry.host}/studio/sample`;
    const first = JSON.parse((await run(BIN, ['build', '--push', repo, '--tag', 'v1', '--json'], { cwd: dir })).stdout);
    expect(first.push.images.map((i: { tags: string[] }) => i.tags[0])).toEqual(['v1', 'v1-engine', 'v1-engine-media', 'v1-app', 'v1-app-media']);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${repo}:v1`]).toString());
    expect(inspect.Digest).toBe(first.images.find((i: { name: string }) => i.name === 'server').digest);
    expect(inspect.Layers).toHaveLength(4);

    await registry.resetAccessLog();
    const again = JSON.parse((await run(BIN, ['build', '--push', repo, '--tag', 'v1', '--json'], { cwd: dir })).stdout);
    expect(again.push.images.every((i: { upToDate: boolean }) => i.upToDate)).toBe(true);
    expect(await registry.completedUploads()).toBe(0);

    const pak = execFileSync('find', [path.join(dir, 'app-media'), '-name', '*.pak']).toString().split('\n')[0]!;
    await writeFile(pak, (await readFile(pak)).map((b) => b ^ 0x5a)); // same size, other content
    await registry.resetAccessLog();
    const edited = JSON.parse((await run(BIN, ['build', '--push', repo, '--tag', 'v2', '--json'], { cwd: dir })).stdout);
    expect(edited.summary.built).toBe(2); // the app-media layer and the app-media sentinel
    // Registry side: the patch layer, the sentinel, a config per changed image (server + app-media), the new record.
    expect(await registry.completedUploads()).toBe(5);
    const record = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}:v2.gamelayer-record`]).toString());
    expect(record.subject.digest).toBe(edited.images.find((i: { name: string }) => i.name === 'server').digest);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
  });

  it('refuses a repository with a tag', async () => {
    const dir = await tempDir();
    copySample(dir);
    const err = await run(BIN, ['build', '--push', `${registry.host}/studio/sample:v1`], { cwd: dir }).catch((e: { stderr: string }) => e);
    expect((err as { stderr: string }).stderr).toContain(`error: ${registry.host}/studio/sample:v1: expected a repository without tag or digest`);
  });
});
