// `build -t 1.0.0-app --push REPO` replaced the app image of build 1.0.0 in REPO: its server tag is build 1.0.0's
// app tree tag. Build tags ending in -<tree> are refused (by build, and by push for a record an older gamelayer
// wrote), before anything is written to the registry.
import { cp } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { platformBuildTag } from '../src/cli/commands/platform-build.js';
import { mergePlatformBuilds } from '../src/registry/merge-index.js';
import { readBuildRecord, recordsDir } from '../src/state/records.js';
import { runCli } from './support/cli-process.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
let dir: string;
const repo = 'studio/clash';

/** Every tag of the repository with the digest it names. */
async function tagState(): Promise<Record<string, string>> {
  const list = (await (await fetch(`${registry.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] };
  const out: Record<string, string> = {};
  for (const tag of list.tags.sort()) {
    const head = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' } });
    out[tag] = head.headers.get('docker-content-digest')!;
  }
  return out;
}
const writes = async () => (await registry.accessLog()).filter((e) => e.method !== 'GET' && e.method !== 'HEAD');

beforeAll(async () => {
  dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
  registry = await startRegistry();
  const pushed = await runCli(['build', '--tag', '1.0.0', '--push', `${registry.host}/${repo}`], { cwd: dir });
  expect(pushed.code, pushed.stderr).toBe(0);
}, 180_000);
afterAll(async () => {
  await registry?.stop();
});

describe('a build tag in the form of another build\'s tree tag', () => {
  it('build -t 1.0.0-app --push: refused before any write, build 1.0.0\'s app image untouched', async () => {
    const before = await tagState();
    expect(before['1.0.0-app']).toMatch(/^sha256:/);
    await registry.resetAccessLog();
    for (const tag of ['1.0.0-app', '1.0.0-engine-media', 'v2-app-media', 'x-engine']) {
      const r = await runCli(['build', '--tag', tag, '--push', `${registry.host}/${repo}`], { cwd: dir });
      expect(r.code, tag).not.toBe(0);
      const tree = /-(engine-media|engine|app-media|app)$/.exec(tag)![1];
      expect(r.stderr).toContain(`error[build.bad-tag]: --tag "${tag}": it is the form of the ${tree} image tag of the build ${tag.slice(0, -tree!.length - 1)}`);
    }
    expect(await writes()).toEqual([]);
    expect(await tagState()).toEqual(before);
    // Tags that only look alike are builds like any other.
    const ok = await runCli(['build', '--tag', '1.0.0-app.1'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('push of a build record so tagged (an older gamelayer wrote it): refused as push.reserved-tag before any write', async () => {
    const config = await loadConfig(path.join(dir, 'gamelayer.yaml'));
    const record = await readBuildRecord(path.join(recordsDir(config.stateDir), 'build-1.0.0.json'));
    const renamed = { ...record, tags: record.tags.map((t) => t.replace(/^1\.0\.0/, '1.0.0-app')) };
    const before = await tagState();
    await registry.resetAccessLog();
    await expect(pushBuild({ store: config.store, record: renamed, repository: `${registry.host}/${repo}`, stateDir: config.stateDir })).rejects.toMatchObject({
      code: 'push.reserved-tag',
      message: expect.stringContaining('push of the build 1.0.0-app: it is the form of the app image tag of the build 1.0.0'),
    });
    expect(await writes()).toEqual([]);
    expect(await tagState()).toEqual(before);
  });

  it('a platform build (its tag suffixed with the platform) and index --tag refuse it too: index before any write', async () => {
    const config = { ...(await loadConfig(path.join(dir, 'gamelayer.yaml'))), platforms: ['linux/amd64', 'linux/arm64'] };
    expect(() => platformBuildTag(config, ['linux/arm64'], `${registry.host}/${repo}`, '1.0.0-app')).toThrow(expect.objectContaining({ code: 'build.bad-tag' }));
    expect(platformBuildTag(config, ['linux/arm64'], `${registry.host}/${repo}`, '1.0.0')).toBe('1.0.0-linux-arm64');
    const before = await tagState();
    await registry.resetAccessLog();
    await expect(mergePlatformBuilds({ repository: `${registry.host}/${repo}`, tag: '1.0.0-app', platforms: config.platforms })).rejects.toMatchObject({
      code: 'push.reserved-tag',
      message: expect.stringContaining('index --tag 1.0.0-app: it is the form of the app image tag of the build 1.0.0'),
    });
    expect(await writes()).toEqual([]);
    expect(await tagState()).toEqual(before);
  });
});
