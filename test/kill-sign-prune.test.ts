// kill -9 of `gamelayer prune --apply` and of `gamelayer sign` at the registry's first write: afterwards the
// registry stores no manifest with a missing blob, and the next run of the same command completes and leaves what an
// uninterrupted run leaves (no signature, SBOM or referrers index of a deleted image; the image signed and verified).
import { execFileSync } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { runCliKilledAtRequest } from './support/kill-at-request.js';
import { startRegistry, storageProblems, storedManifests, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
let proxy: FaultProxy;
let keys: string;
beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.host);
  keys = await tempDir('gl-kill-keys-');
  execFileSync('sh', ['-c', 'cd "$1" && openssl ecparam -genkey -name prime256v1 -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null', 'sh', keys]);
}, 60_000);
afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});

/** The sample game built and pushed with `extra` once per version, app-media changed each time. */
async function builds(repo: string, versions: string[], extra: string[]): Promise<string> {
  const dir = await tempDir();
  await cp('fixtures/sample-game', dir, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('.gamelayer') });
  for (const v of versions) {
    await writeFile(path.join(dir, `app-media/levels/${v}.dat`), Buffer.alloc(4000, v.charCodeAt(1)));
    const r = await runCli(['build', '--tag', v, '--push', repo, ...extra], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  }
  return dir;
}

const v2 = (storage: string) => path.join(storage, 'docker/registry/v2');
/** The sample's v1, pushed with its SBOM (unsigned) to SIGN_TEMPLATE once: what each sign test signs, copied to a repository of its own. */
const SIGN_TEMPLATE = 'studio/sign-template';
let signDir: string;
/** A copy (in the registry's storage: its blobs are shared) of the unsigned template repository, named `to`. */
async function copySignTemplate(to: string): Promise<void> {
  await mkdir(path.dirname(path.join(v2(registry.storageDir), 'repositories', to)), { recursive: true });
  await cp(path.join(v2(registry.storageDir), 'repositories', SIGN_TEMPLATE), path.join(v2(registry.storageDir), 'repositories', to), { recursive: true });
}

describe('kill -9 during prune --apply and sign', () => {
  // The sign tests sign the same unsigned build: built and pushed once, each test signs its own copy of the repository.
  beforeAll(async () => {
    signDir = await builds(`${registry.host}/${SIGN_TEMPLATE}`, ['v1'], ['--sbom']);
  }, 120_000);

  it('prune --apply killed after its first delete: no manifest lacks a blob; the next prune --apply leaves what one run leaves', async () => {
    const name = 'studio/kill-prune';
    const repo = `${proxy.host}/${name}`; // through the proxy, each run: a signature names the host it was made for
    const dir = await builds(repo, ['v1', 'v2', 'v3'], ['--sbom', '--sign', path.join(keys, 'key.pem')]);
    const before = await storedManifests(registry.storageDir, name);
    // Killed in the proxy once the registry answered the first delete, before the CLI reads that answer.
    const killed = await runCliKilledAtRequest(proxy, { method: 'DELETE', path: /\/manifests\//, at: 'answered' }, ['prune', repo, '--keep', '1', '--apply'], { cwd: dir });
    expect(killed.killed).toBe(true);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    // Something went, not everything (the first delete is a record index, its tag moved first: count manifests).
    // Prune writes its notes of the tags it leaves (`<build>.gamelayer-left`) before its first delete: not counted.
    const notes = new Set(Object.entries(await storedTags(registry.storageDir, name)).filter(([t]) => t.endsWith('.gamelayer-left')).map(([, d]) => d));
    const mid = (await storedManifests(registry.storageDir, name)).filter((d) => !notes.has(d));
    expect(mid.length).toBeLessThan(before.length);
    expect(mid.length).toBeGreaterThan(0);

    const again = await runCli(['prune', repo, '--keep', '1', '--apply'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    const after = await storedTags(registry.storageDir, name);
    // What one run leaves (test/prune.test.ts): v3's build, the line tag, and v1's and v2's tags of images v3 shares
    // (a plain registry deletes manifests, not tags); and what is attached to images that still exist.
    const own = Object.keys(after).filter((t) => !t.startsWith('sha256-'));
    const left = ['v1', 'v2'].flatMap((v) => ['app', 'engine', 'engine-media'].map((t) => `${v}-${t}`));
    const notesLeft = ['v1.gamelayer-left', 'v2.gamelayer-left'];
    expect(own.sort()).toEqual(['gamelayer-line.default', ...left, ...notesLeft, 'v3', 'v3-app', 'v3-app-media', 'v3-engine', 'v3-engine-media', 'v3.gamelayer-record'].sort());
    const alive = async (digest: string) =>
      (await fetch(`${registry.url}/v2/${name}/manifests/${digest}`, { method: 'HEAD', headers: { Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' } })).status === 200;
    const orphans: string[] = [];
    for (const t of Object.keys(after).filter((x) => x.startsWith('sha256-'))) {
      const subject = `sha256:${t.slice('sha256-'.length, 'sha256-'.length + 64)}`;
      if (!(await alive(subject))) orphans.push(t);
    }
    expect(orphans).toEqual([]);
    const v = await runCli(['verify', `${repo}:v3`, '--key', path.join(keys, 'pub.pem'), '--require-sbom'], { cwd: dir });
    expect(v.code, v.stderr).toBe(0);
  }, 300_000);

  it('sign killed after its first blob upload: no manifest lacks a blob; the next sign signs and verify passes', async () => {
    const name = 'studio/kill-sign';
    const repo = `${proxy.host}/${name}`; // through the proxy, each run: a signature names the host it was made for
    await copySignTemplate(name);
    const dir = signDir;
    const killed = await runCliKilledAtRequest(proxy, { method: 'PUT', path: /\/blobs\/uploads\//, at: 'answered' }, ['sign', `${repo}:v1`, '--key', path.join(keys, 'key.pem')], { cwd: dir });
    expect(killed.killed).toBe(true);
    expect(await storageProblems(registry.storageDir)).toEqual([]);

    const again = await runCli(['sign', `${repo}:v1`, '--key', path.join(keys, 'key.pem')], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    const v = await runCli(['verify', `${repo}:v1`, '--key', path.join(keys, 'pub.pem'), '--require-sbom'], { cwd: dir });
    expect(v.code, v.stderr).toBe(0);
  }, 300_000);

  it('sign killed after its first signature manifest: the next sign completes the rest and verify passes', async () => {
    const name = 'studio/kill-sign-2';
    const repo = `${proxy.host}/${name}`; // through the proxy, each run: a signature names the host it was made for
    await copySignTemplate(name);
    const dir = signDir;
    const sig = /\/manifests\/sha256-[0-9a-f]{64}\.sig$/;
    const killed = await runCliKilledAtRequest(proxy, { method: 'PUT', path: sig, at: 'answered' }, ['sign', `${repo}:v1`, '--key', path.join(keys, 'key.pem')], { cwd: dir });
    expect(killed.killed).toBe(true);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    const again = await runCli(['sign', `${repo}:v1`, '--key', path.join(keys, 'key.pem')], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    // Distinct digests are signed side by side: the one the killed run finished may be the image's or the SBOM's.
    expect(again.stdout).toMatch(/^already signed (image|sbom) /m);
    expect(await storageProblems(registry.storageDir)).toEqual([]);
    const v = await runCli(['verify', `${repo}:v1`, '--key', path.join(keys, 'pub.pem'), '--require-sbom'], { cwd: dir });
    expect(v.code, v.stderr).toBe(0);
  }, 300_000);
});
