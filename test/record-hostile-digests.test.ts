// A registry whose build record names its layers and images by strings that are not digests (`sha256:<hex>/../…`,
// which a URL resolves to another path of the registry): a fresh host must take that record as damaged (it plans
// afresh with a warning, as for any invalid record) and never put such a string into a request or a manifest.
import { cp, readlink } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchBuildRecordFor, pushBuildRecord } from '../src/registry/artifact.js';
import type { BuiltLayer } from '../src/types.js';
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

async function host(): Promise<string> {
  const dir = await tempDir();
  // verbatimSymlinks: without it fs.cp makes a relative symlink absolute, pointing into the original copy.
  await cp(game, dir, { recursive: true, verbatimSymlinks: true });
  expect(await readlink(path.join(dir, 'app/config/current.cfg'))).toBe('server.cfg');
  return dir;
}

/**
 * A first build pushed to a repository of its own, its record replaced by one whose first layer `lie` rewrites (a
 * newer record of the same line, its subject the same image), then a fresh host's build of the same game.
 */
async function freshOnLie(slug: string, lie: (l: BuiltLayer) => BuiltLayer) {
  const name = `studio/${slug}-${process.pid}`;
  const repo = `${registry.host}/${name}`;
  const first = await runCli(['build', '--push', repo, '--tag', 'v1', '--line', 'main'], { cwd: await host() });
  expect(first.code, first.stderr).toBe(0);
  const found = await fetchBuildRecordFor(`${repo}:v1`);
  const record = {
    ...found.record,
    createdAt: new Date(Date.parse(found.record.createdAt) + 60_000).toISOString(),
    layers: found.record.layers.map((l, i) => (i === 0 ? lie(l) : l)),
  };
  const server = found.record.images.find((i) => i.name === 'server')!;
  const head = await fetch(`${registry.url}/v2/${name}/manifests/${server.digest}`, { method: 'HEAD', headers: { accept: server.mediaType } });
  const subject = { mediaType: server.mediaType, digest: server.digest, size: Number(head.headers.get('content-length')) };
  await pushBuildRecord({ to: repo, record, subject, tags: ['v1'], line: 'main' });
  const fresh = await runCli(['build', '--push', repo, '--tag', 'v2', '--line', 'main'], { cwd: await host() });
  expect(fresh.code, fresh.stderr).toBe(0);
  return { repo, found, layer: found.record.layers[0]!, fresh };
}

describe('a build record whose digests are not digests', () => {
  it('a fresh host plans afresh with a warning naming the field, and pushes a sound image', async () => {
    // Resolves (URL dot segments) to the layer's own blob: a HEAD of it answers 200.
    const hexOf = (l: BuiltLayer) => l.digest.slice('sha256:'.length);
    const { repo, found, fresh } = await freshOnLie('digests', (l) => ({ ...l, digest: `sha256:${hexOf(l)}/../sha256:${hexOf(l)}` }));
    expect(fresh.stderr).toMatch(/layers\[0\]\.digest: "sha256:[0-9a-f]{64}\/\.\.\/sha256:[0-9a-f]{64}" is not a digest/);
    // The image it pushed is the first build's: same content, same layers.
    const v2 = (await fetchBuildRecordFor(`${repo}:v2`)).record;
    expect(v2.layers.map((l) => l.digest)).toEqual(found.record.layers.map((l) => l.digest));
    // The library's reader says the same.
    await expect(fetchBuildRecordFor(`${repo}:v1`)).rejects.toThrow(/invalid build record: layers\[0\]\.digest: .* is not a digest/);
  }, 240_000);

  it('a record whose layer size is wrong: a fresh host plans afresh with a warning naming the record and the layer', async () => {
    const { repo, found, layer, fresh } = await freshOnLie('sizes', (l) => ({ ...l, size: l.size + 1 }));
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(fresh.stderr).toMatch(
      new RegExp(
        `warning: the previous build record is damaged: ${esc(repo)}:[^ ]+: layer ${layer.digest} \\(${layer.tree} layer ${layer.index}\\) has ${layer.size + 1} bytes in the record, ${layer.size} in ${esc(repo)}; planning every tree afresh`,
      ),
    );
    expect(fresh.stderr).not.toMatch(/registry copy is damaged|build\.registry-blob-size/);
    // Planned afresh, the same content gives the same layers, with their true sizes; none was sent again.
    const v2 = (await fetchBuildRecordFor(`${repo}:v2`)).record;
    expect(v2.layers.map((l) => `${l.digest} ${l.size}`)).toEqual(found.record.layers.map((l) => `${l.digest} ${l.size}`));
    expect(fresh.stdout + fresh.stderr).not.toMatch(/[1-9][0-9]* uploaded/);
  }, 240_000);
});
