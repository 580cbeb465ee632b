// A fresh host keeps the layers of the line's record in the registry without downloading them: digest, size and
// diffID come from the record, and the diffID went into the new image's config unchecked. A record that lies about a
// diffID (its blob is what its digest names: anyone who can push wrote it) made an image a node refuses at pull. The
// record names its images; their configs list the true diff_ids: a kept layer's diffID must match, else the record
// is damaged and the build plans afresh, with a warning naming the record and the layer. Through the CLI.
import { cp } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchBuildRecordFor, pushBuildRecord } from '../src/registry/artifact.js';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();
let game: string;

beforeAll(async () => {
  game = await tempDir();
  copySample(game);
}, 120_000);

async function copyOf(dir: string): Promise<string> {
  const to = await tempDir();
  await cp(dir, to, { recursive: true });
  return to;
}

/** The diff_ids of a pushed image's config, read from the registry. */
async function configDiffIds(name: string, reference: string): Promise<string[]> {
  const m = (await (await fetch(`${registry.url}/v2/${name}/manifests/${reference}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { config: { digest: string } };
  const c = (await (await fetch(`${registry.url}/v2/${name}/blobs/${m.config.digest}`)).json()) as { rootfs: { diff_ids: string[] } };
  return c.rootfs.diff_ids;
}

describe("a registry record whose kept layer's diffID is not its image's", () => {
  it('is not built on: a fresh host warns, naming the record and the layer, plans afresh, and pushes the true diff_id', async () => {
    const name = `studio/diffid-lie-${process.pid}`;
    const repo = `${registry.host}/${name}`;
    const first = await runCli(['build', '--push', repo, '--tag', 'v1', '--line', 'main'], { cwd: await copyOf(game) });
    expect(first.code, first.stderr).toBe(0);

    // An honest record: a fresh host keeps every layer and says nothing of damage.
    const honest = await runCli(['build', '--push', repo, '--tag', 'v1b', '--line', 'main'], { cwd: await copyOf(game) });
    expect(honest.code, honest.stderr).toBe(0);
    expect(honest.stderr).not.toContain('damaged');
    expect(honest.stdout).toMatch(/layers: 0 built/);

    // The line's record again, one kept layer's diffID altered (the record blob then has a digest of its own: it checks out).
    const found = await fetchBuildRecordFor(`${repo}:v1b`);
    const victim = found.record.layers.find((l) => l.tree === 'engine-media')!;
    const truth = victim.diffID;
    const lie = `sha256:${'ab'.repeat(32)}`;
    const forged = { ...found.record, layers: found.record.layers.map((l) => (l.digest === victim.digest ? { ...l, diffID: lie } : l)) };
    const server = found.record.images.find((i) => i.name === 'server')!;
    const head = await fetch(`${registry.url}/v2/${name}/manifests/${server.digest}`, { method: 'HEAD', headers: { accept: server.mediaType } });
    await pushBuildRecord({ to: repo, record: forged, subject: { mediaType: server.mediaType, digest: server.digest, size: Number(head.headers.get('content-length')) }, tags: [], line: 'main' });

    // A build of other layer settings does not build on the record anyway: it says so, and calls nothing damaged.
    const other = await runCli(['build', '--compression', 'zstd', '--line', 'main', '--from', repo], { cwd: await copyOf(game) });
    expect(other.code, other.stderr).toBe(0);
    expect(other.stderr).not.toContain('damaged');
    expect(other.stdout + other.stderr).toContain(`previous build: none (${repo}:gamelayer-line.main was built with other layer settings`);

    const r = await runCli(['build', '--push', repo, '--tag', 'v2', '--line', 'main'], { cwd: await copyOf(game) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `warning: the previous build record is damaged: ${repo}:gamelayer-line.main: layer ${victim.digest} (engine-media layer ${victim.index}) has diffID ${lie} in the record, but the config of its image server ${server.platform} (${server.digest}) says ${truth}; planning every tree afresh`,
    );
    // The image pushed carries the layer's true diff_id, never the record's lie.
    const ids = await configDiffIds(name, 'v2');
    expect(ids).toContain(truth);
    expect(ids).not.toContain(lie);
  }, 240_000);
});
