// A local base (oci:, oci-archive:, docker-archive: with a compressed layer) whose config names a diff_id that is not
// its layer's tar: the copy into the store never checked it (a registry base's download did), so the build succeeded
// and wrote the lie into every image config it made, and each image was refused by the runtime at pull ("mismatched
// diff_id"). The copy now hashes the tar on its way in and holds it against the config, as a download does.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tarOf, writeOneLayerLayout, type TarEntry } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A layer's tar (one file), its gzip, and a diff_id that is another tar's. */
async function layer() {
  const tar = await tarOf([{ name: 'etc/motd', type: 'file', mode: 0o644, size: 6, mtime: new Date(0) }], new Map([['etc/motd', Buffer.from('hello\n')]]));
  return { tar, gz: gzipSync(tar), truth: sha256(tar), lie: sha256('another tar') };
}

/** A tar of every file below `dir` (an OCI archive of a layout: oci-layout, index.json, blobs). */
async function archiveOf(dir: string): Promise<Buffer> {
  const names = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
  const contents = new Map(await Promise.all(names.map(async (n) => [n, await readFile(path.join(dir, n))] as const)));
  return tarOf(names.map((n): TarEntry => ({ name: n, type: 'file', mode: 0o644, size: contents.get(n)!.length })), contents);
}

async function game(prefix: string, baseImage: string): Promise<string> {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: lying-base', 'start: [/opt/local/engine/run]', `baseImage: ${baseImage}`]);
  return dir;
}

const mismatch = (ref: string, digest: string, truth: string, lie: string) =>
  `error[base.diff-id-mismatch]: base image ${ref}: layer 0 (${digest}) decompresses to a tar whose digest is ${truth}, but the image config's rootfs.diff_ids[0] says ${lie}\n`;

describe('a local base whose config names another diff_id than its layer', () => {
  it('oci: refused naming the base and the layer (was: built, every image refused at pull); the truthful one builds, twice', async () => {
    const l = await layer();
    const dir = await game('gl-local-diffid-oci-', 'oci:base:latest');
    const digest = await writeOneLayerLayout(path.join(dir, 'base'), l.gz, l.lie);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(mismatch('oci:base:latest', digest, l.truth, l.lie));
    expect(r.code).toBe(1);

    const good = await game('gl-local-diffid-good-', 'oci:base:latest');
    await writeOneLayerLayout(path.join(good, 'base'), l.gz, l.truth);
    for (let i = 0; i < 2; i++) {
      const ok = await runCli(['build'], { cwd: good });
      expect(ok.stderr).not.toContain('error');
      expect(ok.code).toBe(0);
    }
  });

  it('oci-archive: refused the same way', async () => {
    const l = await layer();
    const dir = await game('gl-local-diffid-ocia-', 'oci-archive:base.tar:latest');
    const digest = await writeOneLayerLayout(path.join(dir, 'layout'), l.gz, l.lie);
    await writeFile(path.join(dir, 'base.tar'), await archiveOf(path.join(dir, 'layout')));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(mismatch('oci-archive:base.tar:latest', digest, l.truth, l.lie));
    expect(r.code).toBe(1);
  });

  it('docker-archive: (a gzip layer.tar) refused the same way', async () => {
    const l = await layer();
    const dir = await game('gl-local-diffid-docker-', 'docker-archive:base.tar');
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [l.lie] } }));
    const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['lying:1'], Layers: ['one/layer.tar'] }]));
    const contents = new Map([['one/layer.tar', l.gz], ['config.json', config], ['manifest.json', manifest]]);
    const entries: TarEntry[] = [...contents].map(([name, b]) => ({ name, type: 'file', mode: 0o644, size: b.length }));
    await writeFile(path.join(dir, 'base.tar'), await tarOf(entries, contents));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(mismatch('docker-archive:base.tar', sha256(l.gz), l.truth, l.lie));
    expect(r.code).toBe(1);
  });
});
