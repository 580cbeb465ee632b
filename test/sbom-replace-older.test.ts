// An SBOM attached by an earlier gamelayer carries another key (a format bumped since, or a gamelayer whose key held
// its own version): `build --sbom` made a fresh one and attached it beside the old, and with one SBOM per image the
// `--sign` that follows refused the image (sbom.several). Now the fresh SBOM replaces the old one: taken off the
// referrers tag index, and deleted (what the referrers API lists), so build --sign, verify --require-sbom and sbom
// see one. A foreign SBOM (no key annotation) is not gamelayer's to remove: sbom-forged-second.test.ts. The replaced
// SBOM's signature (`sha256-<hex>.sig`) was left behind, signing a manifest that is gone: now it goes with it.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startReferrersFront } from './support/referrers-front.js';
import { useSigningFixture } from './support/signing-fixture.js';
import { writeGame } from './support/trees.js';

const fx = useSigningFixture('gl-sbom-replace-');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
type Listed = { digest: string; size: number; annotations?: Record<string, string> };

/** build --sbom --sign to `host`/`name`, the SBOM swapped for an earlier gamelayer's, then build --sbom --sign again. */
async function replacesOlder(host: string, name: string, via: 'tag' | 'referrers'): Promise<void> {
  const dir = path.join(fx.root, `game-${via}`);
  await writeGame(dir);
  const repo = `${host}/${name}`;
  const v2 = `http://${host}/v2/${name}`;
  const key = path.join(fx.root, 'key.pem');
  const built = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
  expect(built.code, built.stderr).toBe(0);
  const image = (await fetch(`${v2}/manifests/v1`, { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest')!;
  const listed = async (): Promise<Listed[]> =>
    via === 'tag'
      ? ((await (await fetch(`${v2}/manifests/${image.replace(':', '-')}`, { headers: { accept: OCI_INDEX } })).json()) as { manifests: Listed[] }).manifests
      : ((await (await fetch(`${v2}/referrers/${image}`)).json()) as { manifests: Listed[] }).manifests.filter((m) => m.annotations?.['dev.gamelayer.sbom.key']);
  const [ours] = await listed();
  const ourKey = ours!.annotations?.['dev.gamelayer.sbom.key'];
  expect(ourKey).toMatch(/^sha256:/);

  // The earlier gamelayer's SBOM: the same artifact under another key annotation, signed, and the only one listed.
  const artifact = (await (await fetch(`${v2}/manifests/${ours!.digest}`, { headers: { accept: OCI_MANIFEST } })).json()) as { annotations: Record<string, string> };
  const olderKey = `sha256:${'0'.repeat(64)}`;
  artifact.annotations['dev.gamelayer.sbom.key'] = olderKey;
  const older = Buffer.from(JSON.stringify(artifact));
  expect((await fetch(`${v2}/manifests/${sha256(older)}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: older })).status).toBe(201);
  if (via === 'tag') {
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...ours!, digest: sha256(older), size: older.length, annotations: { ...ours!.annotations, 'dev.gamelayer.sbom.key': olderKey } }] };
    expect((await fetch(`${v2}/manifests/${image.replace(':', '-')}`, { method: 'PUT', headers: { 'content-type': OCI_INDEX }, body: JSON.stringify(index) })).status).toBe(201);
  }
  expect((await fetch(`${v2}/manifests/${ours!.digest}`, { method: 'DELETE' })).status).toBe(202);
  expect((await listed()).map((m) => m.digest)).toEqual([sha256(older)]);
  expect((await runCli(['sign', `${repo}@${sha256(older)}`, '--key', key], { cwd: dir })).code).toBe(0);
  const olderSig = `${sha256(older).replace(':', '-')}.sig`;
  expect((await fetch(`${v2}/manifests/${olderSig}`, { headers: { accept: OCI_MANIFEST } })).status).toBe(200);

  const again = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
  expect(again.code, again.stderr).toBe(0);
  // The older SBOM's signature went with it: left, it signed a manifest that is gone.
  expect((await fetch(`${v2}/manifests/${olderSig}`, { headers: { accept: OCI_MANIFEST } })).status).toBe(404);
  expect(again.stdout).toContain(`; it replaces ${sha256(older)} (under gamelayer's SBOM key annotation but not this build's document`);
  const now = await listed();
  expect(now.map((m) => m.annotations?.['dev.gamelayer.sbom.key'])).toEqual([ourKey]);
  expect((await fetch(`${v2}/manifests/${sha256(older)}`, { headers: { accept: OCI_MANIFEST } })).status).toBe(404);
  // The image's and the new SBOM's signatures are there, and every manifest a tag names has its blobs.
  const sigs = ((await (await fetch(`${v2}/tags/list`)).json()) as { tags: string[] }).tags.filter((t) => t.endsWith('.sig'));
  expect(sigs).toContain(`${image.replace(':', '-')}.sig`);
  expect(sigs).toContain(`${now[0]!.digest.replace(':', '-')}.sig`);
  await expectBlobsOfEveryTag(v2);

  const verified = await runCli(['verify', `${repo}:v1`, '--key', path.join(fx.root, 'pub.pem'), '--require-sbom'], { cwd: dir });
  expect(verified.code, verified.stderr).toBe(0);
  expect(verified.stdout).toContain(`verified sbom ${now[0]!.digest}`);
  expect((await runCli(['sbom', `${repo}:v1`], { cwd: dir })).code).toBe(0);
  // A no-op build after it: the same SBOM, nothing replaced.
  const noop = await runCli(['build', '-t', 'v1', '--push', repo, '--sbom', '--sign', key], { cwd: dir });
  expect(noop.code, noop.stderr).toBe(0);
  expect(noop.stdout).toContain(`SBOM ${now[0]!.digest}`);
  expect(noop.stdout).not.toContain('replaces');
}

/** Every blob the manifest of every tag of the repository names is there. */
async function expectBlobsOfEveryTag(v2: string): Promise<void> {
  const tags = ((await (await fetch(`${v2}/tags/list`)).json()) as { tags: string[] }).tags;
  for (const t of tags) {
    const m = (await (await fetch(`${v2}/manifests/${t}`, { headers: { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } })).json()) as { config?: { digest: string }; layers?: { digest: string }[] };
    for (const d of [m.config, ...(m.layers ?? [])].filter((x) => x !== undefined)) {
      expect((await fetch(`${v2}/blobs/${d.digest}`, { method: 'HEAD' })).status, `${t}: ${d.digest}`).toBe(200);
    }
  }
}

describe('build --sbom --sign over an SBOM an earlier gamelayer attached under another key', () => {
  it('replaces it through the referrers tag: one SBOM, signed; verify --require-sbom and sbom pass', async () => {
    await replacesOlder(fx.reg.host, 'studio/replace-tag', 'tag');
  });

  it('replaces it on a registry with the referrers API (deleted, so no longer listed)', async () => {
    const front = await startReferrersFront(fx.reg.host);
    try {
      await replacesOlder(front.host, 'studio/replace-api', 'referrers');
      expect(front.seen.some((s) => s.method === 'GET' && s.path.includes('/referrers/'))).toBe(true);
    } finally {
      await front.stop();
    }
  });
});
