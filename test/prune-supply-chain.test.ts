// prune of builds pushed with --sbom --sign: a removed build's signatures (`sha256-<hex>.sig`), its SBOM (an
// untagged artifact) with the SBOM's signature, and the referrers index tagged `sha256-<hex>` go with it. They
// stayed: tags naming manifests of images that no longer exist, one set per pruned build, forever (tagged, so an
// ECR lifecycle policy for untagged images never expires them either). The kept build still verifies whole.
import { execFileSync } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
let ecr: FakeEcr;
let keys: string;
beforeAll(async () => {
  [registry, ecr] = await Promise.all([startRegistry(), startFakeEcr()]);
  ecr.repositories.set('studio/game', { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
  keys = await tempDir('gl-prune-keys-');
  execFileSync('sh', ['-c', 'cd "$1" && openssl ecparam -genkey -name prime256v1 -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null', 'sh', keys]);
}, 60_000);
afterAll(async () => {
  await Promise.all([registry?.stop(), ecr?.stop()]);
});

const AWS_ENV = { AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'eu-west-3' };

/** The sample game built, SBOM'd, signed and pushed three times to `repo`, app-media changed each time. */
async function threeSignedBuilds(repo: string, extra: string[], env: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, filter: (src) => !src.includes('.gamelayer') });
  for (const v of ['v1', 'v2', 'v3']) {
    await writeFile(path.join(dir, `app-media/levels/${v}.dat`), Buffer.alloc(4000, v.charCodeAt(1)));
    const r = await runCli(['build', '--tag', v, '--push', repo, '--sbom', '--sign', path.join(keys, 'key.pem'), ...extra], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
  }
  return dir;
}

/** The digests the tags of builds `gone` name and the tags of other builds do not: the manifests prune deletes. */
function goneDigests(tags: Record<string, string>, gone: string[]): string[] {
  const ofBuild = (t: string) => /^(v\d+)/.exec(t)?.[1];
  const kept = new Set(Object.entries(tags).filter(([t]) => !t.startsWith('sha256-') && !gone.includes(ofBuild(t) ?? '')).map(([, d]) => d));
  return [...new Set(Object.entries(tags).filter(([t]) => gone.includes(ofBuild(t) ?? '')).map(([, d]) => d))].filter((d) => !kept.has(d));
}
const attachedTags = (digest: string) => [digest.replace(':', '-'), `${digest.replace(':', '-')}.sig`];

async function check(repo: string, storage: string, env: Record<string, string>, extra: string[]): Promise<void> {
  const dir = await threeSignedBuilds(repo, extra, env);
  const before = await storedTags(storage, 'studio/game');
  // v1: its five images and its SBOM; v2 and v3: the server and app-media images (the others did not change) and the SBOM.
  expect(Object.keys(before).filter((t) => t.endsWith('.sig')).length).toBe(6 + 3 + 3);

  const dry = await runCli(['prune', repo, '--keep', '1', '--json', ...extra], { cwd: dir, env });
  expect(dry.code, dry.stderr).toBe(0);
  const plan = JSON.parse(dry.stdout) as { attached: { digest: string; what: string }[] };
  // v1 and v2: a server image and an app-media image each (the others are v3's too), each signed; one SBOM each
  // with its signature and its referrers index.
  expect(plan.attached.map((a) => a.what).sort()).toEqual([...Array(4).fill('signature'), ...Array(2).fill('referrers index'), ...Array(2).fill('sbom'), ...Array(2).fill('signature')].sort());
  const sboms = plan.attached.filter((a) => a.what === 'sbom').map((a) => a.digest);
  const gone = goneDigests(before, ['v1', 'v2']);
  expect(gone.flatMap(attachedTags).filter((t) => t in before).length).toBe(6); // 4 signatures, 2 referrers indexes

  const applied = await runCli(['prune', repo, '--keep', '1', '--apply', ...extra], { cwd: dir, env });
  expect(applied.code, applied.stderr).toBe(0);
  expect(applied.stdout).toContain('deleted 2 builds: v2, v1 (6 manifests)');
  expect(applied.stdout).toContain('deleted their 10 attached manifests (signatures, SBOMs, referrers indexes)');
  const after = await storedTags(storage, 'studio/game');
  // Nothing left that names a deleted image or a deleted SBOM.
  expect([...gone, ...sboms].flatMap(attachedTags).filter((t) => t in after)).toEqual([]);
  // What stays: v3's own (its server and app-media images, and the unchanged ones v1 signed) — still verified.
  const v = await runCli(['verify', `${repo}:v3`, '--key', path.join(keys, 'pub.pem'), '--require-sbom', ...extra], { cwd: dir, env });
  expect(v.code, v.stderr).toBe(0);
  for (const tree of ['engine', 'app']) expect((await runCli(['verify', `${repo}:v3-${tree}`, '--key', path.join(keys, 'pub.pem'), ...extra], { cwd: dir, env })).code).toBe(0);
  if (!extra.includes('--ecr')) {
    // The untagged SBOMs are gone too, not only their tags.
    for (const d of sboms) expect((await fetch(`${registry.url}/v2/studio/game/manifests/${d}`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(404);
  }
}

describe('prune removes the signatures and SBOMs of the builds it removes', () => {
  it('on a registry (distribution API)', async () => {
    await check(`${registry.host}/studio/game`, registry.storageDir, {}, []);
  }, 240_000);
  it('on ECR (BatchDeleteImage)', async () => {
    await check(`${ecr.host}/studio/game`, ecr.registry.storageDir, { ...AWS_ENV, GAMELAYER_ECR_ENDPOINT: ecr.endpoint }, ['--ecr']);
  }, 240_000);
  it('several platforms: the signatures of a deleted index\'s platform manifests go, a kept index\'s stay', async () => {
    const repo = `${registry.host}/multi/game`;
    const dir = await tempDir();
    await cp('fixtures/sample-game', dir, { recursive: true, filter: (src) => !src.includes('.gamelayer') });
    const config = path.join(dir, 'gamelayer.yaml');
    const engine = './engine/BinLinux64.Dedicated.tar.gz';
    await writeFile(config, (await readFile(config, 'utf8')).replace('start:', 'platforms: [linux/amd64, linux/arm64]\nstart:').replace(`source: ${engine}`, `source: {linux/amd64: ${engine}, linux/arm64: ${engine}}`));
    for (const v of ['v1', 'v2']) {
      await writeFile(path.join(dir, `app-media/levels/${v}.dat`), Buffer.alloc(4000, v.charCodeAt(1)));
      const r = await runCli(['build', '--tag', v, '--push', repo, '--sbom', '--sign', path.join(keys, 'key.pem')], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
    const before = await storedTags(registry.storageDir, 'multi/game');
    expect(await deadAttachments(before, 'multi/game')).toEqual([]);
    const applied = await runCli(['prune', repo, '--keep', '1', '--apply'], { cwd: dir });
    expect(applied.code, applied.stderr).toBe(0);
    const after = await storedTags(registry.storageDir, 'multi/game');
    // v1's server and app-media indexes went, each with two platform manifests, all signed.
    expect(Object.keys(before).filter((t) => t.endsWith('.sig')).length - Object.keys(after).filter((t) => t.endsWith('.sig')).length).toBe(2 * 3 + 1);
    expect(await deadAttachments(after, 'multi/game')).toEqual([]);
    expect((await runCli(['verify', `${repo}:v2`, '--key', path.join(keys, 'pub.pem'), '--require-sbom'], { cwd: dir })).code).toBe(0);
  }, 240_000);
});

const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';
/** `sha256-<hex>[.sig]` tags whose subject nothing alive reaches (a tag, an index's platform manifest, a listed referrer). */
async function deadAttachments(tags: Record<string, string>, repo: string): Promise<string[]> {
  const alive = new Set(Object.entries(tags).filter(([t]) => !t.startsWith('sha256-')).map(([, d]) => d));
  const listed = async (ref: string) => {
    const doc = (await (await fetch(`${registry.url}/v2/${repo}/manifests/${ref}`, { headers: { Accept: ACCEPT } })).json()) as { manifests?: { digest: string }[] };
    return (doc.manifests ?? []).map((m) => m.digest);
  };
  for (const d of [...alive]) for (const c of await listed(d)) alive.add(c);
  for (const t of Object.keys(tags).filter((x) => /^sha256-[a-f0-9]{64}$/.test(x))) {
    if (alive.has(t.replace('-', ':'))) for (const r of await listed(t)) alive.add(r);
  }
  return Object.keys(tags)
    .filter((t) => t.startsWith('sha256-') && !alive.has(t.replace(/\.sig$/, '').replace('-', ':')))
    .sort();
}
