// A no-op `build --push` (issue 17): nothing changed since the last push of the same tag, so nothing is sent, and
// the registry is asked as little as is safe: the line tag once (one HEAD: this host keeps a copy of the line's
// record, src/registry/line-copy.ts), each of the record's layers once, and one HEAD per other tag the push would
// set, all in one round. Counted in the real registry's own access log.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { copySample, sampleConfig } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');
const registry = useRegistry();

interface BuildJson {
  record: string;
  tags: string[];
  summary: { layers: { digest: string; reused: boolean }[] };
  push: { images: { upToDate: boolean }[]; bytesSent: number; record: { tags: string[]; lineTag?: string } };
}

describe('a no-op build --push', () => {
  it('sends nothing and asks each question once: the line tag, each kept layer, one HEAD per tag', async () => {
    const dir = await tempDir();
    copySample(dir);
    const repo = `${registry.host}/studio/noop`;
    const build = async () => JSON.parse((await run(process.execPath, [BIN, 'build', '--push', repo, '--tag', 'v1', '--line', 'main', '--json'], { cwd: dir })).stdout) as BuildJson;
    await build();

    await registry.resetAccessLog();
    const again = await build();
    // The access log is written as each answer completes: give the last line a moment to land.
    await new Promise((r) => setTimeout(r, 100));
    const log = await registry.accessLog();

    expect(again.push.images.every((i) => i.upToDate)).toBe(true);
    expect(again.push.bytesSent).toBe(0);
    expect(again.summary.layers.every((l) => l.reused)).toBe(true);
    expect(again.push.record).toMatchObject({ tags: ['v1.gamelayer-record'], lineTag: 'gamelayer-line.main' });
    expect(log.filter((e) => e.method !== 'GET' && e.method !== 'HEAD')).toEqual([]);
    expect(log.filter((e) => e.status !== 200)).toEqual([]);

    const requests = log.map((e) => `${e.method} ${e.path}`);
    // No question asked twice: not the registry's reachability, not a blob, not a tag.
    expect(requests.filter((r, i) => requests.indexOf(r) !== i)).toEqual([]);
    // Every layer the record names (tree markers too), as the registry holds them for the next build to keep.
    const text = await readFile(again.record, 'utf8');
    const record = JSON.parse(text.slice(text.indexOf('{'))) as { layers: { digest: string }[] };
    const layers = new Set(record.layers.map((l) => l.digest));
    const v2 = '/v2/studio/noop';
    const tags = [...again.tags, 'v1.gamelayer-record', 'gamelayer-line.main'];
    expect(requests.filter((r) => r.startsWith(`HEAD ${v2}/blobs/`)).sort()).toEqual([...layers].map((d) => `HEAD ${v2}/blobs/${d}`).sort());
    expect(requests.filter((r) => r.startsWith(`HEAD ${v2}/manifests/`)).sort()).toEqual(tags.map((t) => `HEAD ${v2}/manifests/${t}`).sort());
    // The previous build: the line tag's HEAD named the index this host's copy holds (its push kept it), so the index
    // and the record manifest are read from the copy, not GET one after another (before the copy: the line tag's GET,
    // the record manifest's GET, then the blob's GET, and the line tag asked twice: by that GET and the push's HEAD).
    // The record blob is still read as the registry serves it (a damaged registry copy is reported and repaired), now
    // beside the layers' HEADs. One ping.
    expect(requests.filter((r) => r.startsWith('GET ')).sort()).toEqual(['GET /v2/', expect.stringMatching(new RegExp(`^GET ${v2}/blobs/sha256:[a-f0-9]{64}$`))]);
    // One round: the line tag, the ping, the tags the push would set and (this host keeps the line's copy) the
    // record's layers and blob (the next test holds the line tag's answer to show it).
    expect(requests).toHaveLength(2 + layers.size + tags.length);
  });

  it('asks the tags the push would set in the first round, beside the line tag, when this host keeps the line\'s copy', async () => {
    const dir = await tempDir();
    copySample(dir);
    const proxy = await startFaultProxy(registry.host);
    try {
      const repo = `${proxy.host}/studio/early`;
      const build = async () => JSON.parse((await run(process.execPath, [BIN, 'build', '--push', repo, '--tag', 'v1', '--line', 'main', '--json'], { cwd: dir })).stdout) as BuildJson;
      const first = await build();
      const v2 = '/v2/studio/early';
      const tags = [...first.tags, 'v1.gamelayer-record'];
      const seenTags = () => tags.every((t) => proxy.seen.some((s) => s.method === 'HEAD' && s.path === `${v2}/manifests/${t}`));
      // The line tag's HEAD is held until every tag's HEAD reached the registry: the second round (record blob,
      // layers) cannot start before it is answered, so they came in the first round. On the code before, they came
      // beside the layers' HEADs: the hold then ends by its fallback and the assertion below fails.
      const tagsFirst = releaseWhen(seenTags);
      proxy.seen.length = 0;
      proxy.setRules([{ method: 'HEAD', path: new RegExp(`^${v2}/manifests/gamelayer-line\\.main$`), action: { kind: 'hold', until: tagsFirst.until } }]);
      const again = await build();
      expect(tagsFirst.by()).toBe('seen');
      expect(again.push.bytesSent).toBe(0);
      expect(again.push.images.every((i) => i.upToDate)).toBe(true);
      // Each still asked once: the push took the lookup's answers.
      const requests = proxy.seen.map((s) => `${s.method} ${s.path}`);
      expect(requests.filter((r, i) => requests.indexOf(r) !== i)).toEqual([]);
      for (const t of [...tags, 'gamelayer-line.main']) expect(requests).toContain(`HEAD ${v2}/manifests/${t}`);
    } finally {
      await proxy.stop();
    }
  });

  it('asks the kept layers and the record blob beside the line tag, before it is answered, when this host keeps the line\'s copy', async () => {
    const dir = await tempDir();
    copySample(dir);
    const proxy = await startFaultProxy(registry.host);
    try {
      const repo = `${proxy.host}/studio/one-round`;
      const build = async () => JSON.parse((await run(process.execPath, [BIN, 'build', '--push', repo, '--tag', 'v1', '--line', 'main', '--json'], { cwd: dir })).stdout) as BuildJson;
      const first = await build();
      const text = await readFile(first.record, 'utf8');
      const layers = [...new Set((JSON.parse(text.slice(text.indexOf('{'))) as { layers: { digest: string }[] }).layers.map((l) => l.digest))];
      const v2 = '/v2/studio/one-round';
      const seenAll = () =>
        layers.every((d) => proxy.seen.some((s) => s.method === 'HEAD' && s.path === `${v2}/blobs/${d}`)) && proxy.seen.some((s) => s.method === 'GET' && s.path.startsWith(`${v2}/blobs/`));
      // The line tag's HEAD is held until every kept layer's HEAD and the record blob's GET reached the registry: they
      // no longer wait for its answer (one round). On the code before they did: the hold ends by its fallback and
      // the assertion below fails.
      const allFirst = releaseWhen(seenAll);
      proxy.seen.length = 0;
      proxy.setRules([{ method: 'HEAD', path: new RegExp(`^${v2}/manifests/gamelayer-line\\.main$`), action: { kind: 'hold', until: allFirst.until } }]);
      const again = await build();
      expect(allFirst.by()).toBe('seen');
      expect(again.push.bytesSent).toBe(0);
      expect(again.summary.layers.every((l) => l.reused)).toBe(true);
      // Each still asked once.
      const requests = proxy.seen.map((s) => `${s.method} ${s.path}`);
      expect(requests.filter((r, i) => requests.indexOf(r) !== i)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('the push goes on with the client of the build\'s lookup: its ping was sent beside the layers\' HEADs, not again', async () => {
    const dir = await tempDir();
    copySample(dir);
    const config = await sampleConfig(dir);
    const repo = `${registry.host}/studio/handover`;
    const registryOptions = { insecure: true };
    const first = await build({ config, tag: 'v1', push: repo, line: 'main', registry: registryOptions });
    await pushBuild({ ...registryOptions, store: first.store, record: first.record, repository: repo, stateDir: config.stateDir });

    await registry.resetAccessLog();
    const again = await build({ config, tag: 'v1', push: repo, line: 'main', registry: registryOptions });
    await new Promise((r) => setTimeout(r, 100));
    // The lookup of the previous build (record, kept layers) already asked the registry's reachability.
    expect((await registry.accessLog()).map((e) => `${e.method} ${e.path}`)).toContain('GET /v2/');
    expect(again.previousTarget?.repository).toBe(repo);

    await registry.resetAccessLog();
    const pushed = await pushBuild({
      ...registryOptions,
      store: again.store,
      record: again.record,
      repository: repo,
      stateDir: config.stateDir,
      recordRead: again.previousRecordRead,
      previousTarget: again.previousTarget,
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(pushed.bytesSent).toBe(0);
    const log = (await registry.accessLog()).map((e) => `${e.method} ${e.path}`);
    // Only the tags' HEADs: no second ping, nothing read again, and not the line tag, which the build's lookup asked.
    expect(log.filter((r) => !r.startsWith('HEAD /v2/studio/handover/manifests/'))).toEqual([]);
    expect(log).not.toContain('HEAD /v2/studio/handover/manifests/gamelayer-line.main');
    expect(log).toHaveLength(again.record.tags.length + 1);
  });
});

/**
 * A hold's end: once `seen()` is true (polled every 5 ms), else after 30 s; `by()` says which, so a request that came
 * only after the held one was answered fails the test instead of hanging it.
 */
function releaseWhen(seen: () => boolean): { until: Promise<void>; by: () => 'seen' | 'fallback' | undefined } {
  let by: 'seen' | 'fallback' | undefined;
  const until = new Promise<void>((resolve) => {
    const end = (how: 'seen' | 'fallback') => {
      clearInterval(poll);
      clearTimeout(fallback);
      by = how;
      resolve();
    };
    const poll = setInterval(() => seen() && end('seen'), 5);
    const fallback = setTimeout(() => end('fallback'), 30_000);
  });
  return { until, by: () => by };
}
