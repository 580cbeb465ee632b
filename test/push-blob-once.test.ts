// A push sends each blob's bytes once per repository: the server image and the tree images (<tag>-<tree>) share
// their layers, and a push to several repositories sends each of them its own copy, once (how often the store is
// read is not counted here: the push's "read from the store" line says it). Counted on the wire, in a proxy in front of a real registry: every upload session's body bytes (its PATCHes) by the
// digest its PUT names, and every cross-repository mount. Stop 49 asked whether the tree images' pushes, which run
// side by side, could send a shared blob twice: they do not (this file holds the push to that).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { runCli } from './support/cli-process.js';
import { useCountingRegistry } from './support/counting-registry.js';
import { readStoredBlob } from './support/registry.js';
import { copySample, copyTwoPlatformSample } from './support/sample-copy.js';
import { tempDir } from './support/tmp.js';

// Relative Locations: the upload sessions stay behind the proxy.
const fx = useCountingRegistry('stream', { relativeUrls: true });

interface Sent {
  /** `repo digest` → body bytes of each upload session that ended in a PUT of that digest. */
  uploads: Map<string, number[]>;
  /** `repo digest` → cross-repository mounts asked (a refused one is the start of the blob's upload). */
  mounts: Map<string, number>;
  /** Body bytes of the manifest PUTs. */
  manifestBytes: number;
}

/** What the proxy saw since its last reset, by repository and digest. */
function sentByDigest(): Sent {
  const sessions = new Map<string, { repo: string; bytes: number; digest?: string }>();
  const mounts = new Map<string, number>();
  let manifestBytes = 0;
  for (const s of fx.proxy.seen) {
    const url = new URL(s.path, 'http://proxy');
    if (s.method === 'PUT' && /\/manifests\//.test(url.pathname)) manifestBytes += s.bytes;
    const mount = url.searchParams.get('mount');
    if (s.method === 'POST' && mount) {
      const key = `${/^\/v2\/(.+)\/blobs\/uploads\/$/.exec(url.pathname)![1]} ${mount}`;
      mounts.set(key, (mounts.get(key) ?? 0) + 1);
    }
    const m = /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/.exec(url.pathname);
    if (!m || (s.method !== 'PATCH' && s.method !== 'PUT')) continue;
    const session = sessions.get(m[2]!) ?? { repo: m[1]!, bytes: 0 };
    session.bytes += s.bytes;
    if (s.method === 'PUT') session.digest = url.searchParams.get('digest') ?? undefined;
    sessions.set(m[2]!, session);
  }
  const uploads = new Map<string, number[]>();
  for (const s of sessions.values()) {
    const key = `${s.repo} ${s.digest ?? '(no PUT)'}`;
    uploads.set(key, [...(uploads.get(key) ?? []), s.bytes]);
  }
  return { uploads, mounts, manifestBytes };
}

/** Runs `args` in `dir`, then checks that every blob went up once per repository, whole, and nothing else did. */
async function expectEachBlobOnce(dir: string, args: string[]): Promise<Sent> {
  fx.proxy.reset();
  const r = await runCli(args, { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const sent = sentByDigest();
  let blobBytes = 0;
  for (const [key, sessions] of sent.uploads) {
    const digest = key.split(' ')[1]!;
    const size = (await readStoredBlob(fx.registry.storageDir, digest))?.length;
    // One session per blob and repository, holding the blob's bytes once.
    expect(sessions, key).toEqual([size]);
    blobBytes += size!;
  }
  for (const [key, n] of sent.mounts) expect(n, `mounts of ${key}`).toBe(1);
  // Mounted blobs send no bytes; the uploaded ones theirs once, then the manifests: nothing more reached the proxy.
  expect(fx.proxy.received).toBe(blobBytes + sent.manifestBytes);
  return sent;
}

const images = (sent: Sent, repo: string) => [...sent.uploads.keys()].filter((k) => k.startsWith(`${repo} `)).length;

describe('a push sends each blob once per repository', () => {
  it('build --push of two platforms: the tree images share the server image\'s layers and send none of them again', async () => {
    const dir = await tempDir();
    await copyTwoPlatformSample(dir);
    const sent = await expectEachBlobOnce(dir, ['build', '--push', `${fx.proxy.host}/once/two`]);
    // Layers, configs, sentinels, the record and its config: all of them went up here.
    expect(images(sent, 'once/two')).toBeGreaterThan(10);
  }, 120_000);

  it('build --push to two repositories: once to each', async () => {
    const dir = await tempDir();
    await copyTwoPlatformSample(dir);
    const sent = await expectEachBlobOnce(dir, ['build', '--push', `${fx.proxy.host}/once/a`, '--push', `${fx.proxy.host}/once/b`]);
    expect(images(sent, 'once/a')).toBe(images(sent, 'once/b'));
  }, 120_000);

  it('build --push on a base in the same registry: its layers are mounted once, never sent', async () => {
    const layout = await tempDir();
    await writeBusyboxLayout(layout, { tag: 'busybox' });
    await promisify(execFile)('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:busybox`, `docker://${fx.registry.host}/base/busybox:1`]);
    const dir = await tempDir();
    copySample(dir);
    const file = path.join(dir, 'gamelayer.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('baseImage: scratch', `baseImage: ${fx.proxy.host}/base/busybox:1`));
    const sent = await expectEachBlobOnce(dir, ['build', '--push', `${fx.proxy.host}/once/based`]);
    // A mount the registry took (201, from its access log) is the blob's only request; a mount it refused went on as
    // the blob's one upload (its answer is the upload session).
    const mounted = (await fx.registry.accessLog())
      .filter((e) => e.method === 'POST' && e.status === 201 && e.path.startsWith('/v2/once/based/blobs/uploads/?'))
      .map((e) => `once/based ${new URL(e.path, 'http://registry').searchParams.get('mount')}`);
    expect(mounted.length).toBeGreaterThan(0);
    for (const key of mounted) expect(sent.uploads.has(key), key).toBe(false);
  }, 120_000);
});
