// A local base (oci:, oci-archive:, docker-archive:) is held to the platform it is built for, as a registry base is:
// its config says what it runs on. An amd64 base under `platforms: [linux/arm64]`, or an index whose arm64 entry is an
// amd64 image (a broken or hostile index: the label is only a label), built arm64 images on amd64 binaries without a
// word; they failed on a node with "exec format error".
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { MT, tarOf, writeOneLayerLayout } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function gzLayer() {
  const tar = await tarOf([{ name: 'bin/sh', type: 'file', mode: 0o755, size: 4, mtime: new Date(0) }], new Map([['bin/sh', Buffer.from('ELF\n')]]));
  return { gz: gzipSync(tar), diffID: sha256(tar) };
}

async function game(prefix: string, platforms: string): Promise<string> {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: platform-base', 'start: [/opt/local/engine/run]', 'baseImage: oci:base:latest', `platforms: [${platforms}]`]);
  return dir;
}

/** A layout tagged `latest`: an index whose one entry, labelled `label`, is an image whose config says amd64. */
async function lyingIndex(dir: string, label: { os: string; architecture: string }): Promise<string> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Buffer) => {
    await writeFile(path.join(dir, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const l = await gzLayer();
  const layer = await put(l.gz);
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [l.diffID] } })));
  const manifest = await put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config: { mediaType: MT.config, ...config }, layers: [{ mediaType: MT.layerGzip, ...layer }] })));
  const index = await put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: [{ mediaType: MT.manifest, ...manifest, platform: label }] })));
  await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MT.index, ...index, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }));
  return manifest.digest;
}

describe('a local base of another platform than the one built', () => {
  it('an amd64 image under platforms [linux/arm64]: base.platform (was: built an arm64 image on it)', async () => {
    const dir = await game('gl-local-platform-', 'linux/arm64');
    const l = await gzLayer();
    await writeOneLayerLayout(path.join(dir, 'base'), l.gz, l.diffID);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain('error[base.platform]: base image oci:base:latest: its image is for linux/amd64, not linux/arm64\n');
    expect(r.code).toBe(1);
  });

  it("an index listing an amd64 image as arm64: refused naming the entry (was: built on it)", async () => {
    const dir = await game('gl-local-index-lie-', 'linux/arm64');
    const manifest = await lyingIndex(path.join(dir, 'base'), { os: 'linux', architecture: 'arm64' });
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(`error[base.platform]: base image oci:base:latest: its index lists ${manifest} as linux/arm64, but that image's config says linux/amd64\n`);
    expect(r.code).toBe(1);
  });

  it('the same index labelled amd64 builds for linux/amd64 (control)', async () => {
    const dir = await game('gl-local-index-true-', 'linux/amd64');
    await lyingIndex(path.join(dir, 'base'), { os: 'linux', architecture: 'amd64' });
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
  });
});

// The docker builder and `gamelayer dockerfile` read a local base after the scan: a base without the platform built
// failed only once every tree was hashed (minutes on a big game). The base's index and config are read first now.
describe('a local base without the platform: refused before any tree is hashed', () => {
  it.each([
    ['build --builder docker', ['build', '--builder', 'docker', '--platform', 'linux/arm64']],
    ['dockerfile', ['dockerfile', '--platform', 'linux/arm64', '--out', 'out']],
    ['build (daemonless)', ['build']],
  ])('%s', async (_name, args) => {
    const dir = await game('gl-local-platform-early-', 'linux/amd64, linux/arm64');
    const l = await gzLayer();
    await writeOneLayerLayout(path.join(dir, 'base'), l.gz, l.diffID);
    const r = await runCli(args, { cwd: dir });
    expect(r.stderr).toContain('error[base.platform]: base image oci:base:latest: its image is for linux/amd64, not linux/arm64\n');
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/files? hashed/);
  });
});
