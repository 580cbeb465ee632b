// The local copy of a line's record (src/registry/line-copy.ts, issue 17 no-op): a no-op `build --push` asks the
// line tag with one HEAD and reads the record from the copy only when the tag names the index the copy holds; a
// fresh host, a damaged copy and a line another host moved on read the registry as before (and keep a new copy).
// Against a real registry, counted in its own access log.
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { pushBuild } from '../src/pipeline/steps/push.js';
import { lineCopyDir, readLineCopy, saveLineCopy } from '../src/registry/line-copy.js';
import { buildRecordArtifact } from '../src/registry/artifact.js';
import { pushedTags, startPreviousLookup } from '../src/pipeline/steps/previous.js';
import type { GameConfig } from '../src/config/load.js';
import { copySample, sampleConfig } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();
const registryOptions = { insecure: true };

async function requests(): Promise<string[]> {
  // The access log is written as each answer completes: give the last line a moment to land.
  await new Promise((r) => setTimeout(r, 100));
  return (await registry.accessLog()).map((e) => `${e.method} ${e.path}`);
}

/** build --push as the CLI runs it: the build, then the push with what the build's lookup read. */
async function buildPush(config: GameConfig, repo: string, tag = 'v1') {
  const built = await build({ config, tag, push: repo, line: 'main', registry: registryOptions });
  return { built, pushed: await pushBuilt(config, repo, built) };
}

/** The push of `build --push` with what the build's lookup read. */
function pushBuilt(config: GameConfig, repo: string, built: Awaited<ReturnType<typeof build>>) {
  return pushBuild({
    ...registryOptions,
    store: built.store,
    record: built.record,
    repository: repo,
    stateDir: config.stateDir,
    recordRead: built.previousRecordRead,
    previousTarget: built.previousTarget,
  });
}

async function pushedGame(repo: string) {
  const dir = await tempDir();
  copySample(dir);
  const config = await sampleConfig(dir);
  await buildPush(config, repo);
  return { dir, config };
}

function copyFiles(config: GameConfig): string[] {
  const dir = lineCopyDir(config.stateDir);
  return readdirSync(dir).filter((f) => f.endsWith('.copy')).map((f) => path.join(dir, f));
}

/** The three GETs of a read from the registry: the line tag's index, the record manifest, the record blob. */
function registryReads(log: string[], v2: string): string[] {
  return log.filter((r) => r.startsWith(`GET ${v2}/`));
}

describe('the local copy of a line record', () => {
  it('the push keeps it; the no-op after it asks the line tag with one HEAD and GETs only the record blob (checked as served)', async () => {
    const repo = `${registry.host}/studio/copy-kept`;
    const v2 = '/v2/studio/copy-kept';
    const { config } = await pushedGame(repo);
    expect(copyFiles(config)).toHaveLength(1);
    await registry.resetAccessLog();
    const { built, pushed } = await buildPush(config, repo);
    const log = await requests();
    expect(built.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.main` });
    expect(built.summary.layers.every((l) => l.reused)).toBe(true);
    expect(pushed.bytesSent).toBe(0);
    // Neither the line tag's index nor the record manifest: only the record blob, whose bytes the registry serves are
    // still checked against its digest (a damaged registry copy is reported and repaired as before).
    expect(registryReads(log, v2)).toEqual([`GET ${v2}/blobs/${built.previousRecordRead!.blob}`]);
    expect(log.filter((r) => r === `HEAD ${v2}/manifests/gamelayer-line.main`)).toHaveLength(1);
    expect(log.filter((r) => !r.startsWith('HEAD ') && !r.startsWith('GET '))).toEqual([]);
  });

  it('a fresh host (no copy) reads the record from the registry, keeps a copy, and the next no-op uses it', async () => {
    const repo = `${registry.host}/studio/copy-fresh`;
    const v2 = '/v2/studio/copy-fresh';
    const { config } = await pushedGame(repo);
    rmSync(lineCopyDir(config.stateDir), { recursive: true, force: true });
    await registry.resetAccessLog();
    const first = await buildPush(config, repo);
    let log = await requests();
    expect(first.built.summary.layers.every((l) => l.reused)).toBe(true);
    expect(first.pushed.bytesSent).toBe(0);
    const reads = registryReads(log, v2);
    expect(reads.slice(0, 3)).toEqual([
      `GET ${v2}/manifests/gamelayer-line.main`,
      expect.stringMatching(new RegExp(`^GET ${v2}/manifests/sha256:[a-f0-9]{64}$`)),
      expect.stringMatching(new RegExp(`^GET ${v2}/blobs/sha256:[a-f0-9]{64}$`)),
    ]);
    // Then, once, the record's images and their configs, which prove the kept layers' diffIDs (record-diffids.ts):
    // the server image and the tree images (their marker layers are in no other), a manifest and a config each.
    const images = reads.slice(3);
    expect(images.filter((r) => r.startsWith(`GET ${v2}/manifests/sha256:`))).toHaveLength(5);
    expect(images.filter((r) => r.startsWith(`GET ${v2}/blobs/sha256:`))).toHaveLength(5);
    expect(images).toHaveLength(10);
    // The line tag's GET answered the push's question too: not asked again by a HEAD.
    expect(log).not.toContain(`HEAD ${v2}/manifests/gamelayer-line.main`);
    expect(copyFiles(config)).toHaveLength(1);

    await registry.resetAccessLog();
    const second = await buildPush(config, repo);
    log = await requests();
    expect(second.pushed.bytesSent).toBe(0);
    // The proof is kept beside the copy: the no-op reads no image again.
    expect(registryReads(log, v2)).toEqual([`GET ${v2}/blobs/${second.built.previousRecordRead!.blob}`]);
    expect(log).toContain(`HEAD ${v2}/manifests/gamelayer-line.main`);
  });

  it('a damaged copy is refused: the record is read from the registry, nothing is sent, and the copy is written anew', async () => {
    const repo = `${registry.host}/studio/copy-damaged`;
    const v2 = '/v2/studio/copy-damaged';
    const { config } = await pushedGame(repo);
    const [file] = copyFiles(config);
    const good = readFileSync(file!);
    const bad = Buffer.from(good);
    bad[bad.length - 10]! ^= 0x01; // inside the record blob, the last document
    writeFileSync(file!, bad);
    expect(await readLineCopy(lineCopyDir(config.stateDir), `${registry.host}/studio/copy-damaged`, 'gamelayer-line.main')).toBeUndefined();

    await registry.resetAccessLog();
    const { built, pushed } = await buildPush(config, repo);
    const log = await requests();
    expect(built.summary.previous).toMatchObject({ source: 'registry' });
    expect(built.summary.layers.every((l) => l.reused)).toBe(true);
    expect(pushed.bytesSent).toBe(0);
    expect(registryReads(log, v2)).toHaveLength(3);
    // Written anew from the registry's (verified) documents: the same bytes as the copy before the damage.
    expect(readFileSync(file!).equals(good)).toBe(true);
  });

  it('a copy whose documents check out but name another index than the tag does is not used (another host moved the line)', async () => {
    const repo = `${registry.host}/studio/copy-moved`;
    const v2 = '/v2/studio/copy-moved';
    const { dir, config } = await pushedGame(repo);
    // Another host: the same game with one app file changed, pushed on the same line.
    const other = await tempDir();
    cpSync(dir, other, { recursive: true, verbatimSymlinks: true });
    rmSync(path.join(other, '.gamelayer'), { recursive: true, force: true });
    const appFile = readdirSync(path.join(other, 'app'), { recursive: true, withFileTypes: true }).find((e) => e.isFile())!;
    writeFileSync(path.join(appFile.parentPath, appFile.name), 'changed on another host\n');
    const otherConfig = await sampleConfig(other);
    const moved = await buildPush(otherConfig, repo, 'v2');

    const stale = (await readLineCopy(lineCopyDir(config.stateDir), `${registry.host}/studio/copy-moved`, 'gamelayer-line.main'))!;
    await registry.resetAccessLog();
    const { built } = await buildPush(config, repo, 'v3');
    const log = await requests();
    // The copy's record blob was asked for before the tag was answered (with its layers' HEADs: one round); the tag
    // then named another index, so none of that was used.
    const ownBlob = `GET ${v2}/blobs/${stale.blob.digest}`;
    expect(log).toContain(ownBlob);
    // The HEAD found another index under the tag: the record was read from the registry, and it is the other host's.
    expect(log).toContain(`HEAD ${v2}/manifests/gamelayer-line.main`);
    expect(registryReads(log, v2).filter((r) => r !== ownBlob).slice(0, 3)).toEqual([
      `GET ${v2}/manifests/gamelayer-line.main`,
      expect.stringMatching(new RegExp(`^GET ${v2}/manifests/sha256:[a-f0-9]{64}$`)),
      expect.stringMatching(new RegExp(`^GET ${v2}/blobs/sha256:[a-f0-9]{64}$`)),
    ]);
    expect(built.summary.previous).toMatchObject({ source: 'registry', createdAt: moved.built.record.createdAt });
    const copy = await readLineCopy(lineCopyDir(config.stateDir), `${registry.host}/studio/copy-moved`, 'gamelayer-line.main');
    // This host's push moved the line to its own build, and the copy followed it.
    expect(JSON.parse(copy!.index.bytes.toString()).subject.digest).toBe(built.record.images.find((i) => i.name === 'server')!.digest);
  });

  it('a kept layer the registry lost since this host\'s push is found by the no-op, and sent again though the tags name the same images', async () => {
    const repo = `${registry.host}/studio/copy-lost`;
    const v2 = '/v2/studio/copy-lost';
    const dir = await tempDir();
    copySample(dir);
    const config = await sampleConfig(dir);
    const first = (await buildPush(config, repo)).built;
    const copy = (await readLineCopy(lineCopyDir(config.stateDir), `${registry.host}/studio/copy-lost`, 'gamelayer-line.main'))!;
    const engine = first.record.layers.find((l) => l.tree === 'engine')!;
    const res = await fetch(`${registry.url}${v2}/blobs/${engine.digest}`, { method: 'DELETE' });
    expect(res.status).toBe(202); // a lifecycle policy or a manual delete

    await registry.resetAccessLog();
    const { built, pushed } = await buildPush(config, repo);
    const log = await requests();
    // The record came from the copy (the tag still names its index); the layers' HEADs asked with it found the gap.
    expect(registryReads(log, v2)).toEqual([`GET ${v2}/blobs/${copy.blob.digest}`]);
    expect(built.summary.previous).toMatchObject({ source: 'registry', ref: `${repo}:gamelayer-line.main` });
    expect(built.summary.remoteLayers?.gone).toBe(1);
    // Answered missing in the lookup's round; the push, whose tags named the same images, checked the images' blobs
    // again (not trusting the tags) and sent it from this host's store.
    const heads = (await registry.accessLog()).filter((e) => e.method === 'HEAD' && e.path === `${v2}/blobs/${engine.digest}`);
    expect(heads.length).toBeGreaterThanOrEqual(1);
    expect(heads.every((e) => e.status === 404)).toBe(true);
    // The push sent it again: the registry holds every blob its manifests name.
    expect(pushed.blobs.uploaded).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${registry.url}${v2}/blobs/${engine.digest}`, { method: 'HEAD' })).status).toBe(200);
  });

  it('a copy file of another repository or tag, or cut short, is not read', async () => {
    const dir = await tempDir();
    const doc = (text: string) => ({ digest: `sha256:${createHash('sha256').update(text).digest('hex')}`, bytes: Buffer.from(text) });
    const copy = { index: doc('{"index":1}'), manifest: doc('{"manifest":1}'), blob: doc('record bytes') };
    await saveLineCopy(dir, '127.0.0.1:1/a', 'gamelayer-line.main', copy);
    const read = await readLineCopy(dir, '127.0.0.1:1/a', 'gamelayer-line.main');
    expect(read?.blob.bytes.toString()).toBe('record bytes');
    expect(read?.index.digest).toBe(copy.index.digest);
    const [file] = readdirSync(dir).map((f) => path.join(dir, f));
    // The same file under another repository's or tag's name: its header says whose it is.
    await saveLineCopy(dir, '127.0.0.1:1/b', 'gamelayer-line.main', copy);
    await saveLineCopy(dir, '127.0.0.1:1/a', 'gamelayer-line.other', copy);
    const others = readdirSync(dir).map((f) => path.join(dir, f)).filter((f) => f !== file);
    expect(others).toHaveLength(2);
    for (const o of others) writeFileSync(o, readFileSync(file!));
    expect(await readLineCopy(dir, '127.0.0.1:1/b', 'gamelayer-line.main')).toBeUndefined();
    expect(await readLineCopy(dir, '127.0.0.1:1/a', 'gamelayer-line.other')).toBeUndefined();
    // Cut short, or with bytes after the last document.
    const whole = readFileSync(file!);
    writeFileSync(file!, whole.subarray(0, whole.length - 1));
    expect(await readLineCopy(dir, '127.0.0.1:1/a', 'gamelayer-line.main')).toBeUndefined();
    writeFileSync(file!, Buffer.concat([whole, Buffer.from('x')]));
    expect(await readLineCopy(dir, '127.0.0.1:1/a', 'gamelayer-line.main')).toBeUndefined();
    writeFileSync(file!, whole);
    expect(await readLineCopy(dir, '127.0.0.1:1/a', 'gamelayer-line.main')).toBeDefined();
  });

  it('a record blob already read is reused by the push when it holds exactly the record: no recompression, same digest', async () => {
    const repo = `${registry.host}/studio/copy-reuse`;
    const { config } = await pushedGame(repo);
    const { built } = await buildPush(config, repo);
    const copy = (await readLineCopy(lineCopyDir(config.stateDir), `${registry.host}/studio/copy-reuse`, 'gamelayer-line.main'))!;
    const subject = { mediaType: 'application/vnd.oci.image.index.v1+json', digest: copy.blob.digest, size: 1 };
    const record = { ...built.record, line: 'main' };
    const fresh = buildRecordArtifact(record, subject);
    expect(built.previousRecordRead?.blobBytes?.equals(copy.blob.bytes)).toBe(true);
    // The same content: the bytes read are the record's blob (here the same gzip bytes as a fresh compression).
    expect(buildRecordArtifact(record, subject, 0, copy.blob.bytes).record.equals(copy.blob.bytes)).toBe(true);
    // Another encoding of the same JSON (a repaired record's) is reused as it is: its own digest, not recompressed.
    const other = Buffer.from(copy.blob.bytes);
    other.writeUInt32LE(7, 4);
    const reused = buildRecordArtifact(record, subject, 0, other);
    expect(reused.record.equals(other)).toBe(true);
    expect(reused.recordDescriptor.digest).not.toBe(fresh.recordDescriptor.digest);
    // Other content, or bytes that are not a gzip stream: compressed afresh.
    expect(buildRecordArtifact({ ...record, settingsKey: 'other' }, subject, 0, copy.blob.bytes).record.equals(copy.blob.bytes)).toBe(false);
    const broken = Buffer.from(copy.blob.bytes.subarray(0, copy.blob.bytes.length - 4));
    expect(buildRecordArtifact(record, subject, 0, broken).recordDescriptor.digest).toBe(fresh.recordDescriptor.digest);
  });

  it('the push takes the build\'s answer for the line tag only while it is fresh; an old one is asked again', async () => {
    const repo = `${registry.host}/studio/copy-fresh-answer`;
    const head = 'HEAD /v2/studio/copy-fresh-answer/manifests/gamelayer-line.main';
    const { config } = await pushedGame(repo);
    const built = await build({ config, tag: 'v1', push: repo, line: 'main', registry: registryOptions });
    const read = built.previousRecordRead!;
    expect(read.lineTag?.tag).toBe('gamelayer-line.main');
    const push = async (at: number) => {
      await registry.resetAccessLog();
      const pushed = await pushBuild({
        ...registryOptions,
        store: built.store,
        record: built.record,
        repository: repo,
        stateDir: config.stateDir,
        recordRead: { ...read, lineTag: { ...read.lineTag!, at } },
        previousTarget: built.previousTarget,
      });
      expect(pushed.bytesSent).toBe(0);
      expect(pushed.record.lineTag).toBe('gamelayer-line.main');
      return requests();
    };
    expect(await push(Date.now())).not.toContain(head);
    expect(await push(Date.now() - 10 * 60_000)).toContain(head);
  });

  it('a lookup started with the tags the push sets asks them beside the kept layers: the no-op push then asks nothing', async () => {
    const repo = `${registry.host}/studio/copy-tags`;
    const { config } = await pushedGame(repo);
    await registry.resetAccessLog();
    const previousLookup = startPreviousLookup({ rebase: undefined, from: undefined, push: repo, line: 'main', registry: registryOptions, copyDir: lineCopyDir(config.stateDir), askTags: pushedTags('v1') });
    const built = await build({ config, tag: 'v1', push: repo, line: 'main', registry: registryOptions, previousLookup });
    const asked = await requests();
    for (const t of ['v1', 'v1-engine', 'v1-engine-media', 'v1-app', 'v1-app-media', 'v1.gamelayer-record', 'gamelayer-line.main']) {
      expect(asked).toContain(`HEAD /v2/studio/copy-tags/manifests/${t}`);
    }
    await registry.resetAccessLog();
    const pushed = await pushBuilt(config, repo, built);
    expect(pushed.bytesSent).toBe(0);
    expect(pushed.images.every((i) => i.upToDate)).toBe(true);
    expect(pushed.record).toMatchObject({ tags: ['v1.gamelayer-record'], lineTag: 'gamelayer-line.main' });
    expect(await requests()).toEqual([]);
    // Answers of another build's tags are not taken for this one's: a push of v2 asks its own tags.
    const other = await build({ config, tag: 'v2', push: repo, line: 'main', registry: registryOptions, previousLookup: startPreviousLookup({ rebase: undefined, from: undefined, push: repo, line: 'main', registry: registryOptions, copyDir: lineCopyDir(config.stateDir), askTags: pushedTags('v1') }) });
    await registry.resetAccessLog();
    await pushBuilt(config, repo, other);
    expect(await requests()).toContain('HEAD /v2/studio/copy-tags/manifests/v2');
  });
});
