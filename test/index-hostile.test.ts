// `gamelayer index` fed platform builds it must not merge: another game's builds in the repository named (their
// merged record would become this game's last build, and `k8s` would deploy the other game), and a platform record
// that names another platform's manifests (the index would tell arm64 nodes to run amd64 binaries). Both stop the
// merge before anything is put, naming the tag.
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchBuildRecordFor } from '../src/registry/artifact.js';
import { pushBuildRecord } from '../src/registry/artifact.js';
import { runCli } from './support/cli-process.js';
import { useTwoPlatformSample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();
const sample = useTwoPlatformSample();

async function host(gameName?: string): Promise<string> {
  const dir = await tempDir();
  await cp(sample.dir, dir, { recursive: true, verbatimSymlinks: true });
  if (gameName) {
    const file = path.join(dir, 'gamelayer.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/^game: .*$/m, `game: ${gameName}`));
  }
  return dir;
}

async function cli(dir: string, ...args: string[]) {
  const r = await runCli(args, { cwd: dir });
  if (r.code !== 0) throw new Error(`gamelayer ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

async function tags(repo: string): Promise<string[]> {
  const res = await fetch(`${registry.url}/v2/${repo}/tags/list`);
  return (((await res.json()) as { tags: string[] | null }).tags ?? []).sort();
}

describe('gamelayer index refuses platform builds it must not merge', () => {
  it("refuses another game's platform builds (the config's game), naming it; nothing is put, no record written", async () => {
    const name = `studio/other-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    const other = await host('other-game');
    await cli(other, 'build', '--platform', 'linux/amd64', '--tag', 'v1', '--push', repo);
    await cli(other, 'build', '--platform', 'linux/arm64', '--tag', 'v1', '--push', repo);
    const before = await tags(name);

    const mine = await host();
    const r = await runCli(['index', repo, '--tag', 'v1'], { cwd: mine });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('index.game-differs');
    expect(r.stderr).toContain(`${repo}:v1-linux-amd64: a build of other-game, not of sample-game`);
    expect(await tags(name)).toEqual(before);
    await expect(readFile(path.join(mine, '.gamelayer/records/build-v1.json'))).rejects.toThrow(/ENOENT/);
  }, 240_000);

  it("refuses a platform record naming another platform's manifests, naming the image and both platforms", async () => {
    const name = `studio/liar-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    const amdHost = await host();
    const armHost = await host();
    await cli(amdHost, 'build', '--platform', 'linux/amd64', '--tag', 'v1', '--push', repo);
    await cli(armHost, 'build', '--platform', 'linux/arm64', '--tag', 'v1', '--push', repo);
    // The arm64 build's record rewritten to name the amd64 build's manifests (a hostile or damaged registry).
    const amd = (await fetchBuildRecordFor(`${repo}:v1-linux-amd64`)).record;
    const arm = (await fetchBuildRecordFor(`${repo}:v1-linux-arm64`)).record;
    const lie = {
      ...arm,
      images: arm.images.map((i) => ({ ...i, digest: amd.images.find((a) => a.name === i.name)!.digest })),
    };
    const armServer = arm.images.find((i) => i.name === 'server')!;
    const head = await fetch(`${registry.url}/v2/${name}/manifests/${armServer.digest}`, { method: 'HEAD', headers: { accept: armServer.mediaType } });
    const subject = { mediaType: armServer.mediaType, digest: armServer.digest, size: Number(head.headers.get('content-length')) };
    await pushBuildRecord({ to: repo, record: lie, subject, tags: ['v1-linux-arm64'] });
    expect((await fetchBuildRecordFor(`${repo}:v1-linux-arm64`)).record.images[0]!.digest).toBe(amd.images[0]!.digest);
    const before = await tags(name);

    const r = await runCli(['index', repo, '--tag', 'v1'], { cwd: await host() });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('index.platform-record');
    expect(r.stderr).toMatch(/the server image of the linux\/arm64 build \(sha256:[0-9a-f]{64}\) is an image of linux\/amd64, not of linux\/arm64/);
    expect(await tags(name)).toEqual(before);
  }, 240_000);
});
