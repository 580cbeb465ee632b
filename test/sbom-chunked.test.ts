// A chunked tree's SBOM lists the files its recipes stand for (`paks/a.pak`, with the size and sha256 of the source
// file) where a scanner looks for them, not only the chunks and recipes its images hold: through the CLI, pushed to a
// real registry (distribution), read back by `gamelayer sbom`; after a change whose patch layer replaces one recipe and
// whites out another; on a fresh host, which hashes them from its sources (source-files.ts); and a recipe in a layer
// that is not what gamelayer writes (the registry's record naming a layer holding it): refused, naming the layer and
// entry, where the SBOM reads the layers (a store holding them all, a record without chunk lists); kept unread, and not
// downloaded, by a fresh host (docs/supply-chain.md, "Hashes from the sources", *Trust*).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { chunkedHost, writeChunkSources } from './support/chunked-tree.js';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { formatRecipe, parseRecipe, RecipeReader } from '../src/chunk/recipe.js';
import { loadConfig } from '../src/config/load.js';
import { OciStore } from '../src/oci/store.js';
import { build } from '../src/pipeline/build.js';
import { fetchBuildRecordFor, pushBuildRecord } from '../src/registry/artifact.js';
import { serverImage } from '../src/sbom/attach.js';
import { writeSbom, type SbomInput } from '../src/sbom/cyclonedx.js';
import { readBuildRecord, recordsDir } from '../src/state/records.js';
import { TREE_NAMES, type TreeName } from '../src/types.js';
import { runCli } from './support/cli-process.js';
import { useCountingRegistry } from './support/counting-registry.js';
import { prng } from './support/prng.js';
import { tempDir } from './support/tmp.js';

const KiB = 1024;
const MiB = 1024 * KiB;
// The CLI goes through the counting proxy (`fx.proxy.host`): what a fresh host downloads is counted there.
const fx = useCountingRegistry('stream');

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const sha256File = (f: string) => sha256(readFileSync(f));

const makeSources = (dir: string) => writeChunkSources(dir, { a: 3 * MiB + 100, b: 2 * MiB, d: MiB + 5 }, { 'readme.txt': 'small files stay whole' });

/** A host: a folder with its own gamelayer.yaml and state, building the shared sources. */
const host = (root: string, name: string, sources: string) => chunkedHost(root, name, sources, 'sbom-chunks');

interface FileComponent {
  name: string;
  hashes: { alg: string; content: string }[];
  properties: { name: string; value: string }[];
}
const prop = (c: FileComponent, name: string) => c.properties.find((p) => p.name === name)?.value;

async function cli(args: string[], cwd: string): Promise<string> {
  const r = await runCli(args, { cwd });
  if (r.code !== 0) throw new Error(`gamelayer ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** The app-media tree's files as `gamelayer sbom REF` prints them. */
async function mediaFiles(ref: string, cwd: string): Promise<Map<string, FileComponent>> {
  const doc = JSON.parse(await cli(['sbom', ref], cwd)) as { components: { name: string; components?: FileComponent[] }[] };
  return new Map((doc.components.find((c) => c.name === 'app-media')?.components ?? []).map((c) => [c.name, c]));
}

/** The file at `rel` of the sources as the SBOM must list it: its path, size and sha256. */
function expectFile(files: Map<string, FileComponent>, sources: string, rel: string, chunked: boolean): void {
  const c = files.get(rel);
  const source = path.join(sources, 'app-media', rel);
  expect(c, rel).toBeDefined();
  expect(c!.hashes).toEqual([{ alg: 'SHA-256', content: sha256File(source) }]);
  expect(prop(c!, 'dev.gamelayer:size')).toBe(String(readFileSync(source).length));
  if (chunked) expect(prop(c!, 'dev.gamelayer:recipe.sha256')).toMatch(/^[0-9a-f]{64}$/);
  else expect(prop(c!, 'dev.gamelayer:recipe.sha256')).toBeUndefined();
}

/** The members of an uncompressed tar (ustar names), each with the offset and length of its body. */
function tarMembers(tar: Buffer): { name: string; at: number; size: number }[] {
  const out = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const cstr = (o: number, n: number) => h.toString('utf8', o, o + n).replace(/\0.*$/s, '');
    const prefix = cstr(345, 155);
    const name = prefix ? `${prefix}/${cstr(0, 100)}` : cstr(0, 100);
    const size = parseInt(cstr(124, 12).trim() || '0', 8);
    out.push({ name, at: at + 512, size });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** Puts `bytes` as a blob of `repo` in the suite's registry (monolithic upload); its digest. */
async function putBlobBytes(repo: string, bytes: Buffer): Promise<string> {
  const digest = `sha256:${sha256(bytes)}`;
  const start = await fetch(`${fx.registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location')!, fx.registry.url);
  location.searchParams.set('digest', digest);
  expect((await fetch(location, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
  return digest;
}

describe('a chunked tree\'s SBOM', () => {
  it('lists the assembled files at their paths with the size and sha256 of the source, after a change and on a fresh host', async () => {
    const root = await tempDir('gl-sbom-chunks-');
    const sources = path.join(root, 'sources');
    await makeSources(sources);
    const warm = await host(root, 'warm', sources);
    const name = `studio/sbom-chunks-${process.pid}`;
    const repo = `${fx.proxy.host}/${name}`;

    const first = JSON.parse(await cli(['build', '--push', repo, '--tag', 'v1', '--line', 'main', '--sbom', '--json'], warm));
    let files = await mediaFiles(`${repo}:v1`, warm);
    expect([...files.keys()]).toEqual(['paks/a.pak', 'paks/b.pak', 'paks/d.pak', 'readme.txt']);
    for (const p of ['paks/a.pak', 'paks/b.pak', 'paks/d.pak']) expectFile(files, sources, p, true);
    expectFile(files, sources, 'readme.txt', false);
    expect(first.supplyChain.sbom.files).toBe(1 + 1 + 1 + 4); // engine, engine-media, app, app-media (none of its chunks)

    // The recipe's sha256 is that of the recipe the pushed image holds (skopeo copies it, umoci unpacks it; from the
    // registry itself: the proxy runs in this process, which execFileSync blocks).
    const work = await tempDir();
    execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${fx.registry.host}/${name}:v1-app-media`, `oci:${work}/layout:v1`], { stdio: 'ignore' });
    execFileSync('umoci', ['unpack', '--rootless', '--image', `${work}/layout:v1`, `${work}/bundle`], { stdio: 'ignore' });
    const recipe = readFileSync(`${work}/bundle/rootfs/opt/local/app-media/.gamelayer-chunks/r/paks/a.pak`);
    expect(prop(files.get('paks/a.pak')!, 'dev.gamelayer:recipe.sha256')).toBe(sha256(recipe));

    // The next day: b.pak rewritten in part (its recipe replaced in the patch layer), a.pak removed (its recipe
    // whited out), d.pak now small (a whole file where its recipe was), c.pak new and big.
    const fh = await open(path.join(sources, 'app-media/paks/b.pak'), 'r+');
    await fh.write(prng('patch', 100 * KiB), 0, 100 * KiB, MiB);
    await fh.close();
    await rm(path.join(sources, 'app-media/paks/a.pak'));
    await truncate(path.join(sources, 'app-media/paks/d.pak'), 100);
    await writeFile(path.join(sources, 'app-media/paks/c.pak'), prng('c', MiB + 1000));
    await cli(['build', '--push', repo, '--tag', 'v2', '--line', 'main', '--sbom'], warm);
    files = await mediaFiles(`${repo}:v2`, warm);
    expect([...files.keys()]).toEqual(['paks/b.pak', 'paks/c.pak', 'paks/d.pak', 'readme.txt']);
    for (const p of ['paks/b.pak', 'paks/c.pak']) expectFile(files, sources, p, true);
    expectFile(files, sources, 'paks/d.pak', false);
    // The change was a patch layer over v1's: the old recipes are below it, whited out or replaced.
    const lists = path.join(warm, '.gamelayer/cache/layer-files');
    const cached = (await Promise.all((await readdir(lists)).map((f) => readFile(path.join(lists, f), 'utf8')))).join('');
    expect(cached).toContain('w"opt/local/app-media/.gamelayer-chunks/r/paks/.wh.a.pak"');
    expect(cached.match(/"opt\/local\/app-media\/\.gamelayer-chunks\/r\/paks\/b\.pak"/g)?.length).toBe(2);

    // A fresh host (no .gamelayer/): the kept layers stay in the registry; the files' hashes come from the sources,
    // checked against the record's chunk lists and the recipes they make (source-files.ts).
    await writeFile(path.join(sources, 'app/app.cfg'), 'port=3\n');
    const fresh = await host(root, 'fresh', sources);
    const third = JSON.parse(await cli(['build', '--push', repo, '--tag', 'v3', '--line', 'main', '--sbom', '--json'], fresh));
    expect(third.supplyChain.sbom.upToDate).toBe(false);
    files = await mediaFiles(`${repo}:v3`, fresh);
    expect([...files.keys()]).toEqual(['paks/b.pak', 'paks/c.pak', 'paks/d.pak', 'readme.txt']);
    for (const p of ['paks/b.pak', 'paks/c.pak']) expectFile(files, sources, p, true);
    expectFile(files, sources, 'paks/d.pak', false);

    // A registry record whose kept layer holds a recipe that is not one (same length, so the layer's member matches
    // the manifest's size). Where the SBOM reads a chunked tree's layers (a store holding them all; a record without
    // chunk lists, or a source that no longer matches, whose lacking layers are fetched), that layer is refused,
    // naming it and the member. A fresh host's `build --push --sbom` does not read it: the files' hashes come from the
    // sources, the layer stays in the registry, kept unread as without --sbom (the documented trust: docs/supply-chain.md,
    // "Hashes from the sources"). Such a recipe is refused where the copy assembles it, by the init copy script and by
    // the native assembler alike: test/assemble-container.test.ts ("a recipe with an unknown version", "a recipe whose
    // chunk sizes do not sum to the file's size").
    const found = await fetchBuildRecordFor(`${repo}:v3`);
    const record = structuredClone(found.record);
    const server = record.images.find((i) => i.name === 'server' && !i.platform) ?? record.images.find((i) => i.name === 'server')!;
    const member = 'opt/local/app-media/.gamelayer-chunks/r/paks/b.pak';
    const serverAsBuilt = { digest: server.digest, layers: server.layers };
    for (const [what, edit, why] of [
      ['not a recipe (JSON)', (t: string) => `${'{"recipe":"paks/b.pak","size":1}'.padEnd(t.length - 1, ' ')}\n`, /first line/],
      ['a size its chunks do not add up to', (t: string) => t.replace(/^size (\d+)$/m, (_, n: string) => `size ${String(Number(n) + 1).padStart(n.length, '0')}`), /its chunks add up to \d+ bytes, the header says \d+/],
    ] as const) {
      Object.assign(server, serverAsBuilt); // each forgery starts from the image as built
      const layer = await (async () => {
        // The topmost layer holding it (the one below, v1's recipe, is replaced by it in the image).
        const media = record.layers.filter((x) => x.tree === 'app-media').map((x) => Object.assign(x, found.record.layers.find((y) => y.inputKey === x.inputKey && y.tree === x.tree)));
        for (const l of media.sort((a, b) => b.index - a.index)) {
          const res = await fetch(`${fx.registry.url}/v2/${name}/blobs/${l.digest}`);
          const blob = Buffer.from(await res.arrayBuffer());
          const tar = l.mediaType.endsWith('gzip') ? gunzipSync(blob) : l.mediaType.endsWith('zstd') ? execFileSync('zstd', ['-d', '-c'], { input: blob }) : blob;
          const m = tarMembers(tar).find((x) => x.name === member);
          if (m) return { l, tar, m };
        }
        throw new Error(`no app-media layer holds ${member}`);
      })();
      const { tar, m } = layer;
      const text = tar.toString('utf8', m.at, m.at + m.size);
      const hostile = Buffer.from(edit(text));
      expect(hostile.length, what).toBe(m.size);
      expect(hostile.toString()).not.toBe(text);
      hostile.copy(tar, m.at);
      const blob = layer.l.mediaType.endsWith('gzip') ? gzipSync(tar) : layer.l.mediaType.endsWith('zstd') ? execFileSync('zstd', ['-c', '-q'], { input: tar }) : tar;
      const digest = `sha256:${sha256(blob)}`;
      const start = await fetch(`${fx.registry.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
      const location = new URL(start.headers.get('location')!, fx.registry.url);
      location.searchParams.set('digest', digest);
      expect((await fetch(location, { method: 'PUT', body: blob, headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
      const oldDigest = layer.l.digest;
      Object.assign(layer.l, { digest, size: blob.length, diffID: `sha256:${sha256(tar)}` });
      // The forger makes the record's server image name that layer too (a manifest and config consistent with it):
      // a record whose kept layers its images do not name, or name with another diffID, is damaged and planned
      // afresh before any layer is read (record-diffid-lie.test.ts), so this recipe would never be reached.
      expect(server.mediaType).toMatch(/manifest/);
      const manifest = (await (await fetch(`${fx.registry.url}/v2/${name}/manifests/${server.digest}`, { headers: { accept: server.mediaType } })).json()) as {
        config: { digest: string; size: number };
        layers: { digest: string; size: number }[];
      };
      const cfg = JSON.parse(Buffer.from(await (await fetch(`${fx.registry.url}/v2/${name}/blobs/${manifest.config.digest}`)).arrayBuffer()).toString()) as { rootfs: { diff_ids: string[] } };
      const at = manifest.layers.findIndex((x) => x.digest === oldDigest);
      expect(at, 'the server image holds the layer').toBeGreaterThanOrEqual(0);
      cfg.rootfs.diff_ids[at] = layer.l.diffID;
      manifest.layers[at] = { ...manifest.layers[at]!, digest, size: blob.length };
      const cfgBytes = Buffer.from(JSON.stringify(cfg));
      manifest.config = { ...manifest.config, digest: await putBlobBytes(name, cfgBytes), size: cfgBytes.length };
      const manifestBytes = Buffer.from(JSON.stringify(manifest));
      const manifestDigest = `sha256:${sha256(manifestBytes)}`;
      expect((await fetch(`${fx.registry.url}/v2/${name}/manifests/${manifestDigest}`, { method: 'PUT', body: manifestBytes, headers: { 'content-type': server.mediaType } })).status).toBe(201);
      Object.assign(server, { digest: manifestDigest, layers: server.layers?.map((x) => (x.digest === oldDigest ? { ...x, digest, size: blob.length } : x)) });
      const head = await fetch(`${fx.registry.url}/v2/${name}/manifests/${server.digest}`, { method: 'HEAD', headers: { accept: server.mediaType } });
      await pushBuildRecord({ to: repo, record, subject: { mediaType: server.mediaType, digest: server.digest, size: Number(head.headers.get('content-length')) }, tags: [], line: `hostile-${what.length}` });

      // A fresh host builds on the forged record: it keeps the hostile layer (the record says it holds the recipe
      // the scan made, by size and xxh64) unread, downloads no kept layer, and its SBOM names the sources' bytes.
      await writeFile(path.join(sources, 'app/app.cfg'), `port=${what}\n`);
      const hostileHost = await host(root, `hostile-${what.length}`, sources);
      fx.proxy.reset();
      const r = await runCli(['build', '--push', repo, '--tag', `v4-${what.length}`, '--line', `hostile-${what.length}`, '--sbom'], { cwd: hostileHost });
      expect(r.code, `${what}: ${r.stderr}`).toBe(0);
      expect(fx.proxy.seen.some((s) => s.method === 'PUT'), 'the build pushed through the counting proxy').toBe(true);
      const blobGets = fx.proxy.seen.filter((s) => s.method === 'GET' && /\/blobs\/sha256:/.test(s.path)).map((s) => s.path.slice(s.path.lastIndexOf('/') + 1));
      expect(blobGets.filter((d) => record.layers.some((l) => l.digest === d)), what).toEqual([]);
      const config = await loadConfig(path.join(hostileHost, 'gamelayer.yaml'));
      const built = await readBuildRecord(path.join(recordsDir(config.stateDir), 'build-last.json'));
      expect(built.layers.map((l) => l.digest), what).toContain(digest);
      files = await mediaFiles(`${repo}:v4-${what.length}`, hostileHost);
      expectFile(files, sources, 'paks/b.pak', true);

      // That host's SBOM where it reads the chunked tree's layers: the hostile one refused, named with its member.
      const refused = (e: unknown) => {
        expect(e, what).toMatchObject({ code: 'chunks.recipe-invalid' });
        const message = (e as Error).message;
        expect(message, `${what}: ${digest}`).toContain(`layer ${digest}`);
        expect(message).toContain(member);
        expect(message).toMatch(why);
      };
      const sbomOf = async (input: SbomInput) => writeSbom(input, () => undefined).then(() => undefined, (e: unknown) => e);
      const store = await OciStore.open(config.store, { create: false });
      const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
      const input: SbomInput = { record: built, store, stateDir: config.stateDir, mounts, subject: serverImage(built), base: [] };
      // A record without chunk lists (made before them, or not by gamelayer): the layers the store lacks are fetched
      // (as build-attach.ts's fetchKeptLayers does: from the registry, into the store), the hostile one with them.
      const fetched: string[] = [];
      const fetchLayers = async (lacking: { digest: string; size: number }[]) => {
        for (const l of lacking) {
          fetched.push(l.digest);
          const blob = Buffer.from(await (await fetch(`${fx.registry.url}/v2/${name}/blobs/${l.digest}`)).arrayBuffer());
          await store.putBlob(Readable.from([blob]), { digest: l.digest, size: l.size });
        }
      };
      refused(await sbomOf({ ...input, record: { ...built, manifests: built.manifests.map(({ recipes: _, ...m }) => m) }, fetchLayers }));
      expect(fetched, what).toContain(digest);
      // The store now holding all the tree's layers (as a warm host's does): read from them, lists or not.
      refused(await sbomOf(input));
    }
  }, 300_000);

  it('refuses a recipe entry whose path leaves the tree; the held and the walked lists agree', async () => {
    const root = await tempDir('gl-sbom-chunks-lib-');
    const sources = path.join(root, 'sources');
    await makeSources(sources);
    const config = await loadConfig(path.join(await host(root, 'lib', sources), 'gamelayer.yaml'));
    const built = await build({ config });
    const store = await OciStore.open(built.store, { create: false });
    const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
    const input: SbomInput = { record: built.record, store, stateDir: config.stateDir, mounts, subject: serverImage(built.record), base: [] };
    const text = async (i: SbomInput) => {
      const pieces: string[] = [];
      await writeSbom(i, (t) => void pieces.push(t));
      return pieces.join('');
    };
    const walked = await text(input);
    expect(walked).toContain(`"file:app-media:paks/a.pak","hashes":[{"alg":"SHA-256","content":"${sha256File(path.join(sources, 'app-media/paks/a.pak'))}"}]`);
    expect(walked).not.toContain('.gamelayer-chunks');
    // A manifest out of order (held and sorted instead of walked): the same document.
    const withEntries = (edit: (e: SbomInput['record']['manifests'][number]['entries']) => typeof e) => ({
      ...input,
      record: { ...built.record, manifests: built.record.manifests.map((m) => (m.tree === 'app-media' ? { ...m, entries: edit(m.entries) } : m)) },
    });
    expect(await text(withEntries((e) => [...e].reverse()))).toBe(walked);

    // A record whose recipe entry names `..` (a record is anyone's text): refused before any file is listed, walked or held.
    const evil = withEntries((e) => e.map((x) => (x.path === '.gamelayer-chunks/r/paks/a.pak' ? { ...x, path: '.gamelayer-chunks/r/../a.pak' } : x)));
    for (const i of [evil, { ...evil, record: { ...evil.record, manifests: evil.record.manifests.map((m) => ({ ...m, entries: [...m.entries].reverse() })) } }]) {
      await expect(text(i)).rejects.toMatchObject({ code: 'chunks.recipe-invalid', message: expect.stringContaining('app-media: recipe ".gamelayer-chunks/r/../a.pak" names no file of the tree') });
    }

    // The reader a byte at a time reads what parseRecipe reads; a line longer than any recipe's is refused unheld.
    const recipe = { size: 30, mode: 0o644, sha256: 'a'.repeat(64), xxh64: '0123456789abcdef', chunks: [{ sha256: 'b'.repeat(64), size: 10 }, { sha256: 'c'.repeat(64), size: 20 }] };
    const bytes = Buffer.from(formatRecipe(recipe));
    const reader = new RecipeReader('r');
    for (let i = 0; i < bytes.length; i++) reader.update(bytes.subarray(i, i + 1));
    expect(reader.end()).toEqual({ size: 30, mode: 0o644, sha256: 'a'.repeat(64), xxh64: '0123456789abcdef', chunks: 2 });
    expect(parseRecipe(bytes.toString(), 'r')).toEqual(recipe);
    const long = new RecipeReader('big');
    expect(() => {
      for (let i = 0; i < 1024; i++) long.update(Buffer.alloc(1024, 0x61));
    }).toThrow(/big: not a gamelayer recipe: first line "a{40}", expected/);
    expect(() => parseRecipe(`${formatRecipe(recipe).replace('size 30', `size ${'9'.repeat(20)}`)}`, 'r')).toThrow(/size: expected a decimal byte count/);
  }, 120_000);
});
