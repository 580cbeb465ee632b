// A base image's documents (index, manifest, config, a docker-save manifest.json) are someone else's: a layout or an
// archive from anywhere, or a registry's answer. Each field gamelayer uses is checked before it is used, and a bad
// one is refused naming the document and the field (`base.json`). The old code crashed on most of them
// (`error[internal]: Cannot read properties of undefined (reading 'map')`), and took a diff_id that is not a digest
// into the config of every image it built. A config whose Env is null (docker's word for none) builds.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { addTag, MT, tarOf } from './support/make-layout.js';
import { useRegistryBehindFaultProxy } from './support/registry-behind-fault-proxy.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Docs {
  manifest: Record<string, unknown>;
  config: Record<string, unknown>;
}

/**
 * A game on `oci:base:b`, a one-layer base layout whose manifest and config `edit` changes (both written again under
 * their new digests, index.json pointing at the new manifest).
 */
async function gameOnEditedLayout(prefix: string, edit: (d: Docs) => void) {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: hostile-base', 'start: [/bin/sh]', 'baseImage: oci:base:b']);
  const layout = path.join(dir, 'base');
  const written = await addTag(layout, 'b', [{ layers: [{ files: { 'etc/os-release': 'ID=test\n' } }] }]);
  const blob = (d: string) => path.join(layout, 'blobs', 'sha256', d.slice('sha256:'.length));
  const docs: Docs = {
    manifest: JSON.parse(await readFile(blob(written.top.digest), 'utf8')) as Record<string, unknown>,
    config: JSON.parse(await readFile(blob(written.images[0]!.config.digest), 'utf8')) as Record<string, unknown>,
  };
  edit(docs);
  const put = async (value: unknown) => {
    const bytes = Buffer.from(JSON.stringify(value));
    await writeFile(blob(sha256(bytes)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const config = await put(docs.config);
  if (typeof docs.manifest.config === 'object' && docs.manifest.config !== null) Object.assign(docs.manifest.config, config);
  const manifest = await put(docs.manifest);
  const index = { schemaVersion: 2, manifests: [{ mediaType: MT.manifest, ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'b' } }] };
  await writeFile(path.join(layout, 'index.json'), JSON.stringify(index));
  return { dir, layout, manifest: manifest.digest, config: config.digest };
}

describe('a base layout with documents of the wrong shape', () => {
  it('a manifest without layers is refused naming the manifest and the field', async () => {
    const g = await gameOnEditedLayout('gl-hb-nolayers-', (d) => delete d.manifest.layers);
    const r = await runCli(['build'], { cwd: g.dir });
    expect(r.stderr).toContain(`error[base.json]: ${g.layout} manifest ${g.manifest}: layers: missing, not a list\n`);
    expect(r.code).toBe(1);
  });

  it('a layer descriptor that is null, or whose digest is not one, is refused naming the entry', async () => {
    const g = await gameOnEditedLayout('gl-hb-nulllayer-', (d) => ((d.manifest.layers as unknown[])[0] = null));
    const r = await runCli(['build'], { cwd: g.dir });
    expect(r.stderr).toContain(`error[base.json]: ${g.layout} manifest ${g.manifest}: layers[0]: null, not a descriptor\n`);
    expect(r.code).toBe(1);
    const h = await gameOnEditedLayout('gl-hb-dotdot-', (d) => ((d.manifest.layers as { digest: string }[])[0]!.digest = 'sha256:../../../etc/passwd'));
    const s = await runCli(['build'], { cwd: h.dir });
    expect(s.stderr).toContain(`error[base.json]: ${h.layout} manifest ${h.manifest}: layers[0].digest: "sha256:../../../etc/passwd" is not a sha256 digest\n`);
    expect(s.code).toBe(1);
  });

  it('a diff_id that is not a digest is refused, not copied into the images built on it (was: built)', async () => {
    const g = await gameOnEditedLayout('gl-hb-diffid-', (d) => ((d.config.rootfs as { diff_ids: string[] }).diff_ids = ['not-a-digest']));
    const r = await runCli(['build'], { cwd: g.dir });
    expect(r.stderr).toContain(`error[base.json]: ${g.layout} config ${g.config}: rootfs.diff_ids[0]: "not-a-digest" is not a digest\n`);
    expect(r.code).toBe(1);
  });

  it('an Env that is a string is refused; an Env of null (none) builds', async () => {
    const g = await gameOnEditedLayout('gl-hb-env-', (d) => (d.config.config = { Env: 'PATH=/bin' }));
    const r = await runCli(['build'], { cwd: g.dir });
    expect(r.stderr).toContain(`error[base.json]: ${g.layout} config ${g.config}: config.Env: "PATH=/bin", not a list\n`);
    expect(r.code).toBe(1);
    const h = await gameOnEditedLayout('gl-hb-envnull-', (d) => (d.config.config = { Env: null, Cmd: null, Labels: null }));
    const ok = await runCli(['build'], { cwd: h.dir });
    expect(ok.stderr).not.toContain('error');
    expect(ok.code).toBe(0);
  });
});

describe('archives with documents of the wrong shape', () => {
  it('an oci-archive whose index.json is not JSON is refused naming the member', async () => {
    const dir = await tempDir('gl-hb-ociarch-');
    await writeTinyGame(dir, ['game: hostile-base', 'start: [/bin/sh]', 'baseImage: oci-archive:base.tar']);
    await addTag(path.join(dir, 'layout'), 'b', [{ layers: [{ files: { 'etc/os-release': 'ID=test\n' } }] }]);
    await writeFile(path.join(dir, 'layout', 'index.json'), '{"schemaVersion": 2, "manifests": [');
    execFileSync('tar', ['-cf', path.join(dir, 'base.tar'), '-C', path.join(dir, 'layout'), '.']);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toMatch(new RegExp(`^error\\[base\\.json\\]: ${path.join(dir, 'base.tar')}:index\\.json: not valid JSON: `));
    expect(r.code).toBe(1);
  });

  it('a docker-archive whose manifest.json entry has no Layers is refused naming the entry', async () => {
    const dir = await tempDir('gl-hb-dockerarch-');
    await writeTinyGame(dir, ['game: hostile-base', 'start: [/bin/sh]', 'baseImage: docker-archive:base.tar']);
    const layer = await tarOf([{ name: 'etc/os-release', type: 'file', mode: 0o644, size: 8 }], new Map([['etc/os-release', Buffer.from('ID=test\n')]]));
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(layer)] } });
    const d = path.join(dir, 'save');
    await mkdir(d);
    await writeFile(path.join(d, 'layer.tar'), layer);
    await writeFile(path.join(d, 'config.json'), config);
    await writeFile(path.join(d, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['base:1'] }]));
    execFileSync('tar', ['-cf', path.join(dir, 'base.tar'), '-C', d, 'manifest.json', 'config.json', 'layer.tar']);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(`error[base.json]: ${path.join(dir, 'base.tar')}:manifest.json: [0].Layers: missing, not a list\n`);
    expect(r.code).toBe(1);
  });
});

describe('a registry answering a base manifest of the wrong shape', () => {
  const net = useRegistryBehindFaultProxy();

  it('a layer entry of null is refused naming the base and the entry', async () => {
    const dir = await tempDir('gl-hb-registry-');
    await writeTinyGame(dir, ['game: hostile-base', 'start: [/bin/sh]', `baseImage: ${net.proxy.host}/os/base:b`]);
    const config = { mediaType: MT.config, digest: sha256('{}'), size: 2 };
    const body = JSON.stringify({ schemaVersion: 2, mediaType: MT.manifest, config, layers: [null] });
    const headers = { 'content-type': MT.manifest, 'docker-content-digest': sha256(body) };
    net.proxy.setRules([{ path: /^\/v2\/os\/base\/manifests\/b$/, count: 10, action: { kind: 'status', status: 200, headers, body } }]);
    const r = await runCli(['build'], { cwd: dir });
    expect(r.stderr).toContain(`base image ${net.proxy.host}/os/base:b: manifest ${sha256(body)}: layers[0]: null, not a descriptor\n`);
    expect(r.stderr).toMatch(/^error\[base\.json\]: /);
    expect(r.code).toBe(1);
  });
});
