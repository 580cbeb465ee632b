// Issue 18: every tag gamelayer leaves in a repository is an image that ordinary clients pull. The build record's
// tag (<tag>.gamelayer-record) and the line tag (gamelayer-line.<line>) name an image index holding the server
// image's platform manifests and the record under unknown/unknown. `docker pull -a`, `skopeo inspect` and
// containerd's `ctr images pull` succeed on every tag; the record is still found from the image.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchBuildRecordFor, fetchLineRecord } from '../src/index.js';
import { startContainerd, type PrivateContainerd } from './support/private-containerd.js';
import { startRegistry, storageProblems, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';
import { writeFile } from 'node:fs/promises';
import { removeImagesAfterRun } from './support/docker-cleanup.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');
let registry: TestRegistry;
let containerd: PrivateContainerd;

beforeAll(async () => {
  registry = await startRegistry();
  containerd = await startContainerd();
}, 120_000);
afterAll(async () => {
  await containerd?.stop();
  await registry?.stop();
});

async function tags(repo: string): Promise<string[]> {
  const res = await fetch(`${registry.url}/v2/${repo}/tags/list`);
  return ((await res.json()) as { tags: string[] }).tags.sort();
}

describe('a repository gamelayer pushed to, with build records in it', () => {
  it('every tag is an image: docker pull -a, skopeo inspect and ctr images pull all succeed', async () => {
    const dir = await tempDir();
    copySample(dir);
    const name = `studio/alltags-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    await run(BIN, ['build', '--push', repo, '--tag', 'v1', '--line', 'main'], { cwd: dir });
    await writeFile(path.join(dir, 'app/config/server.cfg'), 'port=4242\n');
    const v2 = JSON.parse((await run(BIN, ['build', '--push', repo, '--tag', 'v2', '--line', 'main', '--json'], { cwd: dir })).stdout) as {
      images: { name: string; digest: string }[];
    };
    const server = v2.images.find((i) => i.name === 'server')!.digest;
    const all = await tags(name);
    expect(all).toEqual(expect.arrayContaining(['v1.gamelayer-record', 'v2.gamelayer-record', 'gamelayer-line.main']));
    expect(all).toHaveLength(13);

    // The record tags resolve, for a runtime, to the server image: an index whose only runnable entry is it.
    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}:v2.gamelayer-record`])).stdout) as {
      mediaType: string;
      manifests: { digest: string; platform: { os: string; architecture: string } }[];
      subject: { digest: string };
    };
    expect(raw.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(raw.subject.digest).toBe(server);
    expect(raw.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(['linux/amd64', 'unknown/unknown']);
    expect(raw.manifests[0]!.digest).toBe(server);

    for (const tag of all) {
      const inspect = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${repo}:${tag}`])).stdout) as { Architecture: string; Os: string };
      expect(`${tag}: ${inspect.Os}/${inspect.Architecture}`).toBe(`${tag}: linux/amd64`);
    }

    // docker pull -a stops at the first tag it cannot pull; every tag pulled means none stopped it.
    try {
      await run('docker', ['pull', '-a', repo], { maxBuffer: 16 << 20 });
      const pulled = (await run('docker', ['images', '--format', '{{.Tag}}', repo])).stdout.trim().split('\n').sort();
      expect(pulled).toEqual(all);
    } finally {
      removeImagesAfterRun(all.map((t) => `${repo}:${t}`));
    }

    for (const tag of all) await containerd.ctr('images', 'pull', '--plain-http', `${repo}:${tag}`);
    const listed = (await containerd.ctr('images', 'ls', '-q')).trim().split('\n').sort();
    expect(listed).toEqual(all.map((t) => `${repo}:${t}`).sort());
    // The record tag unpacks to the server image's root file system.
    const check = await containerd.ctr('images', 'check');
    for (const tag of all) expect(check).toMatch(new RegExp(`${repo.replace(/[.]/g, '\\.')}:${tag.replace(/[.]/g, '\\.')}\\s+application/\\S+\\s+sha256:[a-f0-9]{64}\\s+complete`));

    // The record is still found from the image, and through the line tag.
    expect((await fetchBuildRecordFor(`${repo}:v2`)).record.tags[0]).toBe('v2');
    expect((await fetchLineRecord(repo, 'main'))!.subject).toBe(server);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
  }, 300_000);
});
