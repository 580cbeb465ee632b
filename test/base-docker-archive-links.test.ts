// `docker save` writes a layer that an image holds twice (two steps that made the same bytes) once, and the second as
// a symbolic link to the first: `<id2>/layer.tar -> ../<id1>/layer.tar` (docker 20.10 does, for `COPY f /f` twice).
// Such a base was refused: `error[base.blob-missing]: …: layer <id2>/layer.tar is missing`. The link is followed to a
// member of the archive; a link that leads out of it is refused by name, and nothing outside is read.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { tarOf, type TarEntry } from './support/make-layout.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A docker-save archive of a two-layer image whose second layer.tar is a symbolic link to `link`. */
async function gameOnSave(prefix: string, link: string) {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: save-links', 'start: [/opt/local/engine/run]', 'baseImage: docker-archive:base.tar']);
  const layer = await tarOf([{ name: 'f', type: 'file', mode: 0o644, size: 3, mtime: new Date(0) }], new Map([['f', Buffer.from('hi\n')]]));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [sha256(layer), sha256(layer)] } }));
  const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['dup:1'], Layers: ['one/layer.tar', 'two/layer.tar'] }]));
  const entries: TarEntry[] = [
    { name: 'one/', type: 'directory', mode: 0o755 },
    { name: 'one/layer.tar', type: 'file', mode: 0o644, size: layer.length },
    { name: 'two/', type: 'directory', mode: 0o755 },
    { name: 'two/layer.tar', type: 'symlink', mode: 0o777, linkname: link },
    { name: 'config.json', type: 'file', mode: 0o644, size: config.length },
    { name: 'manifest.json', type: 'file', mode: 0o644, size: manifest.length },
  ];
  const contents = new Map([['one/layer.tar', layer], ['config.json', config], ['manifest.json', manifest]]);
  await writeFile(path.join(dir, 'base.tar'), await tarOf(entries, contents));
  return { dir, layer: sha256(layer) };
}

describe('a docker-save archive whose repeated layer is a symbolic link', () => {
  it('to the first copy: built, the base layer listed twice in the server image', async () => {
    const g = await gameOnSave('gl-save-link-', '../one/layer.tar');
    const r = await runCli(['build', '--json'], { cwd: g.dir });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const server = (JSON.parse(r.stdout) as { images: { name: string; digest: string }[] }).images.find((i) => i.name === 'server')!;
    const manifest = JSON.parse(await readFile(path.join(g.dir, '.gamelayer', 'oci', 'blobs', 'sha256', server.digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
    expect(manifest.layers.slice(0, 3).map((l) => l.digest === g.layer)).toEqual([true, true, false]);
  });

  it('out of the archive: refused naming the layer and the link', async () => {
    const g = await gameOnSave('gl-save-outside-', '../../../etc/passwd');
    const r = await runCli(['build'], { cwd: g.dir });
    expect(r.stderr).toContain(`error[base.archive]: ${path.join(g.dir, 'gamelayer.yaml')}:3:12: baseImage: ${path.join(g.dir, 'base.tar')}: layer two/layer.tar is a link to ../../../etc/passwd, outside the archive\n`);
    expect(r.code).toBe(1);
  });
});
