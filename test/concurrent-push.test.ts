// Several hosts pushing the same content into one repository at once (the platforms of a CodeBuild batch graph).
// distribution 2.8's filesystem driver rewrites a repository link in place (truncate, then write) each time an upload
// of that blob, or a PUT of that manifest, completes; a manifest PUT of another host that reads the link in between
// finds it empty and is refused with DIGEST_INVALID (distribution/distribution#4478). Measured with two hosts pushing
// the sample build together: 2 of 60 pushes failed so (bench/concurrent-push.ts). Here the real registry gives that
// answer at a known point: the fault proxy empties the links just before forwarding the manifest PUT and restores them
// before the answer reaches the client, as the other host's write would. The push must check, put again and succeed;
// a blob really gone is sent again; a refusal that persists fails clearly. Storage stays whole after every test.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { pushBuildRecord, recordTag } from '../src/registry/artifact.js';
import { pushImage } from '../src/registry/push.js';
import { silentReporter, type Reporter } from '../src/report/reporter.js';
import type { BuildRecord } from '../src/types.js';
import type { FaultProxy } from './support/fault-proxy.js';
import { useFaultRegistry } from './support/fault-registry.js';
import { randomContent, type WrittenTag } from './support/make-layout.js';
import { storedTags, type TestRegistry } from './support/registry.js';

const shared = { files: { 'media/level.pak': randomContent(200_000) } };
const fx = useFaultRegistry('gl-concurrent-', [
  { platform: { os: 'linux', architecture: 'amd64' }, layers: [shared, { files: { 'bin/server': randomContent(50_000) } }] },
  { platform: { os: 'linux', architecture: 'arm64' }, layers: [shared, { files: { 'bin/server': randomContent(50_000) } }] },
]);
let layout: string;
let image: WrittenTag;
let reg: TestRegistry;
let proxy: FaultProxy;
beforeAll(() => ({ layout, image, registry: reg, proxy } = fx));

const fast = { baseDelayMs: 5, maxDelayMs: 20 };
let counter = 0;
const nextRepo = () => `race/game${++counter}`;

/**
 * Empties every link file under `<repo>/<kind>` of the registry's storage, as distribution's driver leaves one for a
 * moment while it rewrites it; the returned function puts their content back.
 */
async function emptyLinks(repo: string, kind: '_layers' | '_manifests/revisions'): Promise<() => Promise<void>> {
  const dir = path.join(reg.storageDir, 'docker/registry/v2/repositories', repo, kind, 'sha256');
  const saved: [string, string][] = [];
  for (const hex of await readdir(dir)) {
    const link = path.join(dir, hex, 'link');
    saved.push([link, await readFile(link, 'utf8')]);
    await writeFile(link, '');
  }
  expect(saved.length).toBeGreaterThan(0);
  return async () => {
    for (const [link, text] of saved) await writeFile(link, text);
  };
}

/** The proxy rule: links of `kind` read empty while the registry answers the PUT of `reference`. */
function emptiedDuring(repo: string, reference: string, kind: '_layers' | '_manifests/revisions') {
  let restore: () => Promise<void> = async () => {};
  return {
    method: 'PUT',
    path: new RegExp(`/v2/${repo}/manifests/${reference}$`),
    action: { kind: 'around' as const, before: async () => void (restore = await emptyLinks(repo, kind)), after: () => restore() },
  };
}

/** A reporter keeping its info lines. */
function noting(): { notes: string[]; reporter: Reporter } {
  const notes: string[] = [];
  return { notes, reporter: { ...silentReporter, info: (t) => notes.push(t) } };
}

/**
 * The registry's own answers to manifest PUTs of `repo` (its access log, not our client's view), once it logged
 * every one the proxy passed on (a line lands in the log just after its answer).
 */
async function manifestPutStatuses(repo: string): Promise<number[]> {
  const put = (e: { method: string; path: string }) => e.method === 'PUT' && e.path.startsWith(`/v2/${repo}/manifests/`);
  const sent = proxy.seen.filter(put).length;
  for (;;) {
    const logged = (await reg.accessLog()).filter(put);
    if (logged.length >= sent) return logged.map((e) => e.status);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a manifest refused while another push rewrites what it names', () => {
  it('an image manifest refused DIGEST_INVALID (its blobs\' links read empty) is checked and put again', async () => {
    const repo = nextRepo();
    const child = image.images[0]!.manifest.digest;
    proxy.setRules([emptiedDuring(repo, child, '_layers')]);
    const { notes, reporter } = noting();
    const r = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast, reporter });
    expect(proxy.fired).toEqual([1]);
    expect(notes.filter((n) => /refused manifest sha256:\w+ \(DIGEST_INVALID\) though it holds everything it names/.test(n))).toHaveLength(1);
    // The registry itself refused the first PUT (400) and took the second; every manifest is stored and tagged.
    expect(await manifestPutStatuses(repo)).toEqual([400, 201, 201, 201]);
    expect(r.manifestsPut).toContain(child);
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(image.top.digest);
    // Between the refusal and the PUT again, each blob of this manifest alone (the shared layer the other platform's
    // push may HEAD meanwhile) is asked once, by a GET of its first byte: a HEAD first asked what that GET answers.
    const put = (q: { method: string; path: string }) => q.method === 'PUT' && q.path.endsWith(`/manifests/${child}`);
    const refused = proxy.seen.findIndex(put);
    const again = proxy.seen.findIndex((q, i) => i > refused && put(q));
    const own = [image.images[0]!.config.digest, image.images[0]!.layers[1]!.digest];
    const checks = proxy.seen.slice(refused + 1, again).filter((q) => own.some((d) => q.path.endsWith(`/blobs/${d}`)));
    expect(checks.map((q) => `${q.method} ${String(q.headers?.range)}`)).toEqual(own.map(() => 'GET bytes=0-0'));
  });

  it('an index refused DIGEST_INVALID (its child manifests\' links read empty) is checked and put again', async () => {
    const repo = nextRepo();
    proxy.setRules([emptiedDuring(repo, 'v1', '_manifests/revisions')]);
    const { notes, reporter } = noting();
    await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast, reporter });
    expect(proxy.fired).toEqual([1]);
    expect(notes.filter((n) => /refused manifest sha256:\w+ \(DIGEST_INVALID\) though it holds everything it names/.test(n))).toHaveLength(1);
    expect(await manifestPutStatuses(repo)).toEqual([201, 201, 400, 201]);
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(image.top.digest);
  });

  it('a blob gone from the repository when its manifest goes up is sent again before the manifest', async () => {
    const repo = nextRepo();
    const gone = image.images[0]!.layers[1]!.digest;
    proxy.setRules([
      {
        method: 'PUT',
        path: new RegExp(`/v2/${repo}/manifests/${image.images[0]!.manifest.digest}$`),
        action: {
          kind: 'around',
          // Removed through the registry's API (another host's prune, say), just before the manifest reaches it.
          before: async () => expect((await fetch(`${reg.url}/v2/${repo}/blobs/${gone}`, { method: 'DELETE' })).status).toBe(202),
        },
      },
    ]);
    const { notes, reporter } = noting();
    const r = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast, reporter });
    expect(r.uploaded.filter((d) => d === gone)).toHaveLength(2);
    expect(r.blobs.uploaded).toBe(r.uploaded.length);
    expect(notes.filter((n) => n.includes(`(MANIFEST_BLOB_UNKNOWN) and lacks blob ${gone} it names: sending it again`))).toHaveLength(1);
    expect((await manifestPutStatuses(repo))[0]).toBe(400);
    expect((await storedTags(reg.storageDir, repo)).v1).toBe(image.top.digest);
  });

  it('a refusal that persists though everything is there fails clearly after the bounded attempts, no tag set', async () => {
    const repo = nextRepo();
    const body = JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }] });
    proxy.setRules([{ method: 'PUT', path: new RegExp(`/v2/${repo}/manifests/v1$`), count: 100, action: { kind: 'status', status: 400, body } }]);
    const err = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: { ...fast, attempts: 3 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GamelayerError);
    expect((err as GamelayerError).code).toBe('push.manifest-refused');
    expect((err as GamelayerError).message).toMatch(/refused sha256:\w+ 3 times \(last: DIGEST_INVALID .*\), though it holds every blob and manifest it names/);
    expect(proxy.fired).toEqual([3]);
    expect((await storedTags(reg.storageDir, repo)).v1).toBeUndefined();
  });

  it('a build record\'s index refused while its artifact manifest\'s link reads empty is put again', async () => {
    const repo = nextRepo();
    const pushed = await pushImage({ layout, to: `${proxy.host}/${repo}:v1`, retry: fast });
    const record: BuildRecord = {
      schemaVersion: 1,
      game: 'race',
      version: '1.0.0',
      createdAt: '2024-05-01T10:00:00Z',
      tags: ['v1'],
      platforms: ['linux/amd64', 'linux/arm64'],
      manifests: [],
      plan: { layers: [] },
      layers: [],
      images: [{ name: 'server', digest: pushed.digest, mediaType: pushed.mediaType }],
    };
    proxy.setRules([emptiedDuring(repo, recordTag('v1'), '_manifests/revisions')]);
    const r = await pushBuildRecord({ to: `${proxy.host}/${repo}`, record, subject: { mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size }, tags: ['v1'], retry: fast });
    expect(proxy.fired).toEqual([1]);
    expect((await manifestPutStatuses(repo)).slice(-2)).toEqual([400, 201]);
    expect((await storedTags(reg.storageDir, repo))[recordTag('v1')]).toBe(r.digest);
  });
});

describe('builds of one line pushing their records', () => {
  /** A record of the v1 image as the build created at `createdAt` wrote it. */
  async function recordAt(repo: string, createdAt: string, version: string) {
    const pushed = await pushImage({ layout, to: `${reg.host}/${repo}:v1` });
    const record: BuildRecord = {
      schemaVersion: 1,
      game: 'race',
      version,
      createdAt,
      tags: [version],
      platforms: ['linux/amd64', 'linux/arm64'],
      manifests: [],
      plan: { layers: [] },
      layers: [],
      images: [{ name: 'server', digest: pushed.digest, mediaType: pushed.mediaType }],
    };
    return { record, subject: { mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size } };
  }

  it('an older build that finishes its push after a newer one leaves the line tag on the newer build', async () => {
    const repo = nextRepo();
    const newer = await recordAt(repo, '2024-05-02T10:00:00Z', 'v2');
    const older = await recordAt(repo, '2024-05-01T10:00:00Z', 'v1');
    const first = await pushBuildRecord({ to: `${reg.host}/${repo}`, ...newer, tags: ['v2'], line: 'main' });
    expect(first.lineTag).toBe('gamelayer-line.main');
    const { notes, reporter } = noting();
    const late = await pushBuildRecord({ to: `${reg.host}/${repo}`, ...older, tags: ['v1'], line: 'main', reporter });
    const tags = await storedTags(reg.storageDir, repo);
    expect(tags['gamelayer-line.main']).toBe(first.digest);
    expect(late.lineTag).toBeUndefined();
    expect(late.lineNewer).toEqual({ digest: first.digest, createdAt: '2024-05-02T10:00:00Z' });
    expect(notes.some((n) => n.includes(':gamelayer-line.main names a newer build (created 2024-05-02T10:00:00Z'))).toBe(true);
    // The older build's record is not lost: its own tag names it.
    expect(tags[recordTag('v1')]).toBe(late.digest);
    // A build newer than the line's moves it, as before.
    const newest = await recordAt(repo, '2024-05-03T10:00:00Z', 'v3');
    const moved = await pushBuildRecord({ to: `${reg.host}/${repo}`, ...newest, tags: ['v3'], line: 'main' });
    expect(moved.lineTag).toBe('gamelayer-line.main');
    expect((await storedTags(reg.storageDir, repo))['gamelayer-line.main']).toBe(moved.digest);
  });

  it('a line record created in the future (a host with a wrong clock) does not hold the line', async () => {
    const repo = nextRepo();
    const future = new Date(Date.now() + 24 * 3600_000).toISOString();
    const skewed = await recordAt(repo, future, 'v1');
    const first = await pushBuildRecord({ to: `${reg.host}/${repo}`, ...skewed, tags: ['v1'], line: 'main' });
    expect(first.lineTag).toBe('gamelayer-line.main');
    const now = await recordAt(repo, new Date().toISOString(), 'v2');
    const moved = await pushBuildRecord({ to: `${reg.host}/${repo}`, ...now, tags: ['v2'], line: 'main' });
    expect(moved.lineNewer).toBeUndefined();
    expect(moved.lineTag).toBe('gamelayer-line.main');
    expect((await storedTags(reg.storageDir, repo))['gamelayer-line.main']).toBe(moved.digest);
  });
});
