// `build --sbom` replaces the SBOMs gamelayer attached under another key annotation (sbom-replace-older.test.ts), found
// through the referrers tag index, which anyone who may push can write. An entry there naming any manifest of the
// repository (an earlier build's image) with a key annotation made the build DELETE that manifest: the image of tag v0
// went, at the hands of the build's role. Now a listed SBOM is deleted only when its manifest is an SBOM artifact of
// this image under gamelayer's key annotation; anything else is left (and sign and verify refuse the image, naming it).
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-sbom-replace-guard-');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

describe('build --sbom over a referrers index listing another image as an older SBOM', () => {
  it('deletes nothing that is not an SBOM of this image', async () => {
    const dir = path.join(fx.root, 'game');
    await writeGame(dir);
    const name = 'studio/replace-guard';
    const repo = `${fx.reg.host}/${name}`;
    const v2 = `${fx.reg.url}/v2/${name}`;
    const head = async (ref: string) => fetch(`${v2}/manifests/${ref}`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } });
    expect((await runCli(['build', '-t', 'v0', '--push', repo], { cwd: dir })).code).toBe(0);
    const v0 = await head('v0');
    const earlier = { digest: v0.headers.get('docker-content-digest')!, size: Number(v0.headers.get('content-length')) };
    await appendFile(path.join(dir, 'app/game.xml'), '<!-- v1 -->\n');
    const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const image = (await head('v1')).headers.get('docker-content-digest')!;
    const indexTag = image.replace(':', '-');
    const index = (await (await fetch(`${v2}/manifests/${indexTag}`, { headers: { accept: OCI_INDEX } })).json()) as { manifests: unknown[] };
    const planted = { mediaType: OCI_MANIFEST, artifactType: 'application/vnd.cyclonedx+json', ...earlier, annotations: { 'dev.gamelayer.sbom.key': `sha256:${'0'.repeat(64)}` } };
    const body = JSON.stringify({ ...index, manifests: [...index.manifests, planted] });
    expect((await fetch(`${v2}/manifests/${indexTag}`, { method: 'PUT', headers: { 'content-type': OCI_INDEX }, body })).status).toBe(201);

    const again = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect((await head('v0')).status).toBe(200);
    expect(again.stdout).not.toContain('replaces');
  });
});
