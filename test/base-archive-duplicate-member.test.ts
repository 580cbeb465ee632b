// A base archive (docker-archive:, oci-archive:) holding one member name twice, as `tar -r` appending to an archive
// leaves it: the docker-save reader hashed the last copy of a layer while the copy into the store took the first, so
// the build failed with a store-blob error whose hint ("build again") could never help. Such an archive is refused
// as it is read, naming the member.
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { packEntries } from '../src/oci/tar.js';
import { runCli } from './support/cli-process.js';
import { tarOf, writeOneLayerLayout } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A tar of `members` in order, a name given twice written twice (the product's tar writer). */
async function tarWithRepeats(members: [string, Buffer][]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of packEntries(members.map(([name, body]) => ({ header: { name, type: 'file' as const, mode: 0o644, size: body.length, mtime: new Date(0) }, body })))) {
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

const layerTar = (text: string) => tarOf([{ name: 'f', type: 'file', mode: 0o644, size: text.length, mtime: new Date(0) }], new Map([['f', Buffer.from(text)]]));

async function gameOn(prefix: string, baseImage: string): Promise<string> {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: repeated-member', 'start: [/opt/local/engine/run]', `baseImage: ${baseImage}`]);
  return dir;
}

describe('a base archive holding a member name twice', () => {
  it('docker-archive: a layer.tar twice is refused naming it (was: the store copy took the first, a store-blob error)', async () => {
    const dir = await gameOn('gl-dup-layer-', 'docker-archive:base.tar');
    const first = await layerTar('first\n');
    const last = await layerTar('last!\n');
    // The config names the last copy's tar, as the reader's hash of the archive saw it.
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(last)] } }));
    const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['dup:1'], Layers: ['one/layer.tar'] }]));
    await writeFile(path.join(dir, 'base.tar'), await tarWithRepeats([['one/layer.tar', first], ['config.json', config], ['manifest.json', manifest], ['one/layer.tar', last]]));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(
      `error[base.archive]: ${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage: ${path.join(dir, 'base.tar')}: holds the member one/layer.tar twice (an archive appended to?): which copy is meant is unknown\n`,
    );
    expect(r.code).toBe(1);
  });

  it('docker-archive: manifest.json twice (./manifest.json and manifest.json: one member) is refused naming it', async () => {
    const dir = await gameOn('gl-dup-manifest-', 'docker-archive:base.tar');
    const layer = await layerTar('only\n');
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(layer)] } }));
    const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['dup:1'], Layers: ['layer.tar'] }]));
    await writeFile(path.join(dir, 'base.tar'), await tarWithRepeats([['manifest.json', manifest], ['layer.tar', layer], ['config.json', config], ['./manifest.json', manifest]]));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(`${path.join(dir, 'base.tar')}: holds the member manifest.json twice (an archive appended to?): which copy is meant is unknown\n`);
    expect(r.stderr).toContain('error[base.archive]');
    expect(r.code).toBe(1);
  });

  it('oci-archive: index.json twice is refused the same way; the archive with each member once builds', async () => {
    const dir = await gameOn('gl-dup-oci-', 'oci-archive:base.tar:latest');
    const layout = path.join(dir, 'layout');
    const tar = await layerTar('oci\n');
    await writeOneLayerLayout(layout, gzipSync(tar), sha256(tar));
    const names = (await readdir(layout, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(layout, path.join(e.parentPath, e.name)));
    const members = await Promise.all(names.map(async (n) => [n, await readFile(path.join(layout, n))] as [string, Buffer]));
    await writeFile(path.join(dir, 'base.tar'), await tarWithRepeats([...members, ['index.json', Buffer.from('{"schemaVersion":2,"manifests":[]}')]]));
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(`error[base.archive]: ${path.join(dir, 'gamelayer.yaml')}:3:12: baseImage: ${path.join(dir, 'base.tar')}: holds the member index.json twice (an archive appended to?): which copy is meant is unknown\n`);
    expect(r.code).toBe(1);

    await writeFile(path.join(dir, 'base.tar'), await tarWithRepeats(members));
    const ok = await runCli(['build'], { cwd: dir });
    expect(ok.stderr).not.toContain('error');
    expect(ok.code).toBe(0);
  });
});
