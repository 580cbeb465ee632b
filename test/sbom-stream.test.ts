// The SBOM is written a tree's files at a time from a template (src/sbom/cyclonedx.ts writeSbom), not through the
// CycloneDX library's objects: its bytes must be those the library makes of the whole document with every list in
// byte order of UTF-8 (the library sorts by the host's locale). The oracle here builds the document with the library,
// as gamelayer did before, from the same files, and sorts its lists bytewise; paths are chosen to sort differently
// under localeCompare and bytewise (case, accents, punctuation, digits, a decomposed accent).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { describe, expect, it } from 'vitest';
import { build } from '../src/pipeline/build.js';
import { OciStore } from '../src/oci/store.js';
import { serverImage } from '../src/sbom/attach.js';
import { treeFiles, writeSbom, makeSbom, type SbomInput } from '../src/sbom/cyclonedx.js';
import { writeSbomFile } from '../src/sbom/sbom-file.js';
import { layerFiles } from '../src/sbom/layer-files.js';
import { manifestFileStream } from '../src/sbom/tree-files.js';
import { compareBytewise } from '../src/scan/manifest.js';
import { TREE_NAMES, type TreeName } from '../src/types.js';
import { gamelayerVersion } from '../src/version.js';
import { sampleGame } from './support/sample.js';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

const P = 'dev.gamelayer';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const key = (x: Json, ...names: string[]) => names.map((n) => String((x as Record<string, Json>)[n] ?? '')).join('\u0000');

/** `doc` with every list in byte order: components by bom-ref, properties by name and value, dependencies by ref. */
function sortedBytewise(doc: Json, name = ''): Json {
  if (Array.isArray(doc)) {
    const items = doc.map((x) => sortedBytewise(x));
    const by = (...names: string[]) => items.sort((a, b) => compareBytewise(key(a, ...names), key(b, ...names)));
    if (name === 'components') return by('bom-ref');
    if (name === 'properties') return by('name', 'value');
    if (name === 'hashes') return by('alg', 'content');
    if (name === 'dependencies') return by('ref');
    if (name === 'dependsOn') return items.sort((a, b) => compareBytewise(a as string, b as string));
    return items;
  }
  if (doc && typeof doc === 'object') return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, sortedBytewise(v, k)]));
  return doc;
}

/** The SBOM as the library makes it from the whole model (gamelayer's code before the template), lists bytewise. */
async function libraryDocument(input: SbomInput): Promise<string> {
  const trees = await treeFiles(input);
  const { record, subject } = input;
  const bom = new CDX.Models.Bom();
  const h = createHash('sha256').update(`gamelayer-sbom:${subject.digest}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  bom.serialNumber = `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  const game = new CDX.Models.Component(CDX.Enums.ComponentType.Container, record.game, { bomRef: 'game', version: record.version });
  game.properties.add(new CDX.Models.Property(`${P}:image.digest`, subject.digest));
  game.properties.add(new CDX.Models.Property(`${P}:image.mediaType`, subject.mediaType));
  bom.metadata.component = game;
  bom.metadata.tools.components.add(new CDX.Models.Component(CDX.Enums.ComponentType.Application, 'gamelayer', { version: gamelayerVersion() }));
  for (const t of trees) {
    const id = t.platform ? `${t.tree}@${t.platform}` : t.tree;
    const c = new CDX.Models.Component(CDX.Enums.ComponentType.Application, t.tree, { bomRef: `tree:${id}` });
    c.hashes.set(CDX.Enums.HashAlgorithm['SHA-256'], t.digest.replace(/^sha256:/, ''));
    c.properties.add(new CDX.Models.Property(`${P}:tree.digest`, t.digest));
    c.properties.add(new CDX.Models.Property(`${P}:mount`, t.mount));
    for (const f of t.files) {
      const fc = new CDX.Models.Component(CDX.Enums.ComponentType.File, f.path, { bomRef: `file:${id}:${f.path}` });
      fc.hashes.set(CDX.Enums.HashAlgorithm['SHA-256'], f.sha256);
      fc.properties.add(new CDX.Models.Property(`${P}:size`, String(f.size)));
      c.components.add(fc);
    }
    bom.components.add(c);
    game.dependencies.add(c.bomRef);
  }
  const normalized = new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6).makeForBom().normalize(bom, { sortLists: true }) as {
    dependencies?: { dependsOn?: string[] }[];
  };
  if (normalized.dependencies) normalized.dependencies = normalized.dependencies.filter((d) => d.dependsOn?.length);
  return JSON.stringify(sortedBytewise(JSON.parse(JSON.stringify(normalized)) as Json));
}

const AWKWARD = ['B.txt', 'a.txt', 'a-b.txt', 'a_b.txt', 'a b.txt', 'A.txt', 'é.txt', 'e\u0301x.txt', 'ez.txt', 'Z/1.dat', 'z/10.dat', 'z/9.dat', '~x', '#y', 'Ünï/çødé.txt', '中文/名.txt'];

describe('the SBOM written a tree at a time', () => {
  it('has the bytes the CycloneDX library makes of the whole document (awkward paths, an empty tree)', async () => {
    const { game, config } = await sampleGame();
    for (const p of AWKWARD) {
      await mkdir(path.dirname(path.join(game, 'app', p)), { recursive: true });
      await writeFile(path.join(game, 'app', p), `${p}\n`);
    }
    // Enough long, multi-byte names that the layer's cached list (read 64 KiB at a time) has lines, and characters,
    // across its reads.
    await mkdir(path.join(game, 'app', 'long'), { recursive: true });
    for (let i = 0; i < 400; i++) await writeFile(path.join(game, 'app', 'long', `${'ü'.repeat(50 + (i % 7))}-${i}.txt`), `${i}\n`);
    // A tree without files: no list of components at all.
    await rm(path.join(game, 'engine-media'), { recursive: true });
    await mkdir(path.join(game, 'engine-media', 'empty'), { recursive: true });
    const built = await build({ config });
    const store = await OciStore.open(built.store, { create: false });
    const mounts = Object.fromEntries(TREE_NAMES.map((t) => [t, config.trees[t].mount])) as Record<TreeName, string>;
    const top = serverImage(built.record);
    const input: SbomInput = { record: built.record, store, stateDir: config.stateDir, mounts, subject: top, base: [] };

    const expected = await libraryDocument(input);
    const pieces: string[] = [];
    const { files } = await writeSbom(input, (s) => void pieces.push(s));
    expect(pieces.join('')).toBe(expected);
    expect(pieces.length).toBeGreaterThan(2); // written in pieces, not as one string
    expect(files).toBe(built.record.manifests.flatMap((m) => m.entries).filter((e) => e.type === 'file').length);
    expect((await makeSbom(input)).bytes.toString('utf8')).toBe(expected);

    // The walk (the manifest and the layers' lists in byte order) and the held path (a manifest out of order, as a
    // record from elsewhere may be: held and sorted) make the same bytes.
    expect(await manifestFileStream(input, built.record.manifests.find((m) => m.tree === 'app')!)).toBeDefined();
    const shuffled = { ...built.record, manifests: built.record.manifests.map((m) => (m.tree === 'app' ? { ...m, entries: [...m.entries].reverse() } : m)) };
    expect(await manifestFileStream(input, shuffled.manifests.find((m) => m.tree === 'app')!)).toBeUndefined();
    const held: string[] = [];
    await writeSbom({ ...input, record: shuffled }, (t) => void held.push(t));
    expect(held.join('')).toBe(expected);

    // Into a file, hashed on the way: the upload source's digest is the document's.
    const file = path.join(config.stateDir, 'sbom-test.json');
    const written = await writeSbomFile(input, file);
    const bytes = await readFile(file);
    expect(bytes.toString('utf8')).toBe(expected);
    expect(written).toMatchObject({ size: bytes.length, files, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` });
    expect(await written.source.actualDigest!()).toBe(written.digest);
    await written.remove();

    // A second build removes a folder (a patch layer whites it out) beside one whose name it begins: only the
    // removed folder's files leave the tree.
    await rm(path.join(game, 'app', 'Scripts', 'ai'), { recursive: true });
    await mkdir(path.join(game, 'app', 'Scripts', 'ai2'), { recursive: true });
    await writeFile(path.join(game, 'app', 'Scripts', 'ai2', 'kept.lua'), 'kept\n');
    const again = await build({ config });
    const next: SbomInput = { ...input, record: again.record, subject: serverImage(again.record) };
    const whiteouts = await Promise.all(again.record.layers.filter((l) => l.tree === 'app').map(async (l) => (await layerFiles(store, config.stateDir, l)).whiteouts));
    expect(whiteouts.flat()).toContain('opt/local/app/Scripts/.wh.ai');
    const doc = (await makeSbom(next)).bytes.toString('utf8');
    expect(doc).toBe(await libraryDocument(next));
    expect(doc).toContain('"file:app:Scripts/ai2/kept.lua"');
    expect(doc).not.toContain('file:app:Scripts/ai/');
    // The record without its plan (what build --push keeps past the push, SbomRecord): the same document.
    const { plan: _plan, ...noPlan } = again.record;
    expect((await makeSbom({ ...next, record: noPlan })).bytes.toString('utf8')).toBe(doc);

    // The layers' cached lists damaged (a byte changed) or of the old format (one JSON document): not read, the layers
    // hashed again, the same document.
    const lists = path.join(config.stateDir, 'cache', 'layer-files');
    const names = await readdir(lists);
    expect(names.length).toBeGreaterThan(1);
    for (const [i, n] of names.entries()) {
      const f = path.join(lists, n);
      const body = await readFile(f);
      if (i % 2) body[body.length - 3]! ^= 1;
      await writeFile(f, i % 2 ? body : '{"format":"gamelayer-layer-files/1","sha256":"0"}\n{"digest":"x","files":[],"whiteouts":[]}');
    }
    expect((await makeSbom(next)).bytes.toString('utf8')).toBe(doc);
  }, 120_000);
});
