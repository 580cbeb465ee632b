// The build's SBOM as a CycloneDX 1.6 JSON document: the game (the server image) made of one component per tree
// (per platform for the binary trees) holding every file with its path, size and sha256, the base image by digest,
// and gamelayer as the tool. Deterministic: the same images give the same bytes (no timestamp, a serial number
// derived from the image digest, lists sorted by the bytes of their UTF-8 keys, never by a locale), so a no-op build
// makes the same SBOM and sends nothing new, on any host.
import { createHash } from 'node:crypto';
// The library builds the document's skeleton alone: loaded then (about 80 ms), not by the commands that check one.
import type * as CDX from '@cyclonedx/cyclonedx-library';
import type { ValidateFunction } from 'ajv';
import { entrySourceOf } from '../entries/packed-list.js';
import { GamelayerError } from '../errors.js';
import { compareBytewise } from '../scan/manifest.js';
import { compileSbomValidators, precompiledSbomValidators, type SbomValidators } from './cyclonedx-schema.js';
import type { OciStore } from '../oci/store.js';
import type { TreeManifest, TreeName } from '../types.js';
import { gamelayerVersion } from '../version.js';
import { collectOldGarbage } from '../util/young-garbage.js';
import { manifestFiles, manifestFileStream, missingTreeLayers, type SbomRecord, type TreeFile } from './tree-files.js';
import { sourceFileStream } from './source-files.js';

type CdxLibrary = typeof CDX;

export const SBOM_MEDIA_TYPE = 'application/vnd.cyclonedx+json';
/** The spec version written and checked: the library's `Spec.Version.v1dot6`, the schema bom-1.6 (test/sbom-precompiled.test.ts). */
export const SBOM_SPEC = '1.6';
/**
 * The version of the rules gamelayer makes an SBOM's content by, part of its reuse key (attach.ts `sbomKey`, which
 * holds no tool version: an upgrade that makes the same content reuses the SBOM attached). Change it when what the
 * document says changes, so SBOMs already attached are made again once (and replaced, not added beside).
 * 2: every list in byte order of UTF-8 (1 sorted by the host's locale). 3: a chunked tree lists the files its recipes
 * stand for, not its chunks and recipes.
 */
export const SBOM_FORMAT = 'gamelayer-sbom/3';
const P = 'dev.gamelayer';

export interface BaseImageInfo {
  /** The base image as the config names it. */
  ref: string;
  /** Manifest digest of the base (when its source has one: OCI layout or archive). */
  digest?: string;
  platform: string;
  /** The base's layer digests, in order. */
  layers: string[];
}

export type { SbomRecord };

export interface SbomInput {
  record: SbomRecord;
  store: OciStore;
  stateDir: string;
  /** Mount path of each tree in the image (config.trees[tree].mount). */
  mounts: Record<TreeName, string>;
  /** The image the SBOM describes (the server image: its manifest or index). */
  subject: { digest: string; mediaType: string };
  base: BaseImageInfo[];
  /**
   * Fetches layers of a tree into `store` when its files cannot be hashed from its sources (source-files.ts); without
   * it such a tree's layers must be in the store already.
   */
  fetchLayers?: (layers: { digest: string; size: number; mediaType: string }[]) => Promise<void>;
  /**
   * The gamelayer version `metadata.tools` names (default this one's): the same document as another gamelayer made it,
   * to tell whether an SBOM attached under the same key is byte for byte what that version made (attach.ts).
   */
  toolVersion?: string;
}

export interface Sbom {
  /** The document, UTF-8 JSON. */
  bytes: Buffer;
  files: number;
}

/** One tree (per platform for the binary trees) as the SBOM lists it. */
interface SbomTree {
  manifest: TreeManifest;
  /** `tree` or `tree@platform`: the tree component's bom-ref is `tree:<id>`, its files' `file:<id>:<path>`. */
  id: string;
  hasFiles: boolean;
}

/** Where the document goes, a piece of text at a time (in order; the pieces joined are the document). */
export type SbomSink = (text: string) => void | Promise<void>;

/** Hashes (from the layer blobs, cached per layer) of every file of every tree of the build. */
export async function treeFiles(input: Pick<SbomInput, 'record' | 'store' | 'stateDir' | 'mounts'>): Promise<{ tree: TreeName; platform?: string; digest: string; mount: string; files: TreeFile[] }[]> {
  const out = [];
  for (const m of input.record.manifests) {
    out.push({ tree: m.tree, platform: m.platform, digest: m.digest, mount: input.mounts[m.tree], files: await manifestFiles(input, m) });
  }
  return out;
}

/**
 * Writes the build's SBOM into `sink`, one tree's files at a time, and returns how many files it lists. The document
 * around the files (the game, the tool, the base images, the trees) is made and normalised by the CycloneDX library
 * and checked against the schema with one file of the template in each tree; the files, the bulk of it (100k files
 * made 27 MiB of JSON, and 500 MiB of the library's objects and their normalised copies), are written from one
 * template. Every list is in byte order of its UTF-8 keys (see `bytewise`).
 */
export async function writeSbom(input: SbomInput, sink: SbomSink): Promise<{ files: number }> {
  const trees: SbomTree[] = input.record.manifests.map((m) => ({ manifest: m, id: m.platform ? `${m.tree}@${m.platform}` : m.tree, hasFiles: entrySourceOf(m.entries).fileTotals().files > 0 }));
  const { json, marks } = skeleton(await import('@cyclonedx/cyclonedx-library'), input, trees);
  await validateSbom(json.replace(MARK_LIST, (_, i: string) => `[${fileComponent(trees[Number(i)]!.id, { path: 'x', size: 0, sha256: '0'.repeat(64) })}]`), 'the SBOM gamelayer made');
  let files = 0;
  let written = 0;
  let at = 0;
  for (const mark of marks) {
    await sink(json.slice(at, mark.start));
    const t = trees[mark.tree]!;
    // The manifest is in byte order of its paths already (so are the bom-refs `file:<id>:<path>`, one prefix per
    // tree) and so are gamelayer's layers: the files are walked once, never held (1M of them held to sort were the
    // peak of a 1M-file game's SBOM). A record or layer from elsewhere is sorted, not trusted.
    const batches = await treeFileBatches(input, t.manifest);
    let piece = '[';
    let n = 0;
    let previous: string | undefined;
    for await (const batch of batches) for (const f of batch) {
      // A path twice in a manifest (a damaged record) sorts next to itself.
      if (previous === f.path) throw new GamelayerError('sbom.invalid', `the SBOM gamelayer made: bom-ref "file:${t.id}:${f.path}" is used twice`);
      previous = f.path;
      piece += `${n++ ? ',' : ''}${fileComponent(t.id, f)}`;
      if (++written % SBOM_COLLECT_EVERY === 0) collectOldGarbage();
      if (piece.length >= PIECE) {
        await sink(piece);
        piece = '';
      }
    }
    await sink(`${piece}]`);
    files += n;
    at = mark.end;
  }
  await sink(json.slice(at));
  return { files };
}

/**
 * A tree's files with their sha256: from its layers when the store holds them all (hashed once per layer, cached), else
 * from its sources (a fresh host keeps its kept layers in the registry: source-files.ts), else from its layers
 * fetched first. The same files and hashes either way: the image unpacks to the sources.
 */
async function treeFileBatches(input: SbomInput, m: TreeManifest): Promise<AsyncIterable<TreeFile[]> | TreeFile[][]> {
  const missing = await missingTreeLayers(input, m);
  if (missing.length) {
    const fromSources = await sourceFileStream(m);
    if (fromSources) return fromSources;
    await input.fetchLayers?.(missing);
  }
  return (await manifestFileStream(input, m)) ?? [sortedFiles(await manifestFiles(input, m))];
}

/** Builds, serialises and validates (against the CycloneDX JSON schema the library ships) the build's SBOM, in memory. */
export async function makeSbom(input: SbomInput): Promise<Sbom> {
  const pieces: string[] = [];
  const { files } = await writeSbom(input, (s) => void pieces.push(s));
  const json = pieces.join('');
  await validateSbom(json, 'the SBOM gamelayer made');
  return { bytes: Buffer.from(json), files };
}

// The order of every list of the SBOM: byte order of UTF-8 (code point order), `compareBytewise`. The library's
// `sortLists` sorts with `localeCompare`, whose order follows the host's locale (LANG, LC_ALL: sv_SE puts `ä` after
// `z`, da_DK `aa` after `z`, tr_TR `I` before `i`) and its ICU version: two build hosts made different bytes, and a
// different signed digest, for the same image. So the library keeps the order its lists are given in (`sortLists`
// off) and gamelayer gives them sorted. Byte order is the manifests' and the layers' tar members' order, and C's `sort`.

function sortedFiles(list: TreeFile[]): TreeFile[] {
  for (let i = 1; i < list.length; i++) if (compareBytewise(list[i - 1]!.path, list[i]!.path) > 0) return list.sort((a, b) => compareBytewise(a.path, b.path));
  return list;
}

/** Adds properties to `to` in byte order of name, then value (the library adds them as given with `sortLists` off). */
function addProperties(CDX: CdxLibrary, to: CDX.Models.PropertyRepository, props: [string, string][]): void {
  for (const [n, v] of props.sort(([a, x], [b, y]) => compareBytewise(a, b) || compareBytewise(x, y))) to.add(new CDX.Models.Property(n, v));
}

/**
 * Text is handed to the sink in pieces of about this many characters: small enough to die young (a string above
 * V8's regular object size, 128 KiB, goes to the large-object space, collected only with the old generation: 1 MiB
 * pieces left tens of MiB of dead text in the heap while a 100k-file SBOM was written).
 */
const PIECE = 1 << 15;
/**
 * A full collection every this many files written. The walk's per-file objects (the layers' cached lists, read 64 KiB
 * at a time, and the files handed on in batches) live across the file's writes; once V8 had pretenured such a site
 * (a `build --push --sbom` planned on a registry's record, 1M files), every later one went to the old generation,
 * and 150 MiB of them were dead there before V8 collected it (444 MiB peak; 303 MiB with pretenuring off). As the
 * scan's walk does (src/scan/scan.ts), twice as often: 20–40 ms each on a heap of 1M entries.
 */
const SBOM_COLLECT_EVERY = 65_536;

/** Stands for a tree's list of files in the skeleton (a NUL is in no path, so in no other string of the document). */
const mark = (i: number) => `\u0000gamelayer-sbom-files:${i}\u0000`;
const MARK_LIST = /\["\\u0000gamelayer-sbom-files:(\d+)\\u0000"\]/g;

/**
 * A file's component as the library normalises it: type, name, bom-ref, hashes, properties (in byte order of name:
 * a chunked file's `recipe.sha256`, the sha256 of the recipe the image holds for it, before `size`).
 */
function fileComponent(id: string, f: TreeFile): string {
  const recipe = f.recipeSha256 ? `{"name":"${P}:recipe.sha256","value":"${f.recipeSha256}"},` : '';
  return `{"type":"file","name":${JSON.stringify(f.path)},"bom-ref":${JSON.stringify(`file:${id}:${f.path}`)},"hashes":[{"alg":"SHA-256","content":"${f.sha256}"}],"properties":[${recipe}{"name":"${P}:size","value":"${f.size}"}]}`;
}

/**
 * The document without its files, as JSON: each tree with files has the list `["<mark>"]` in their place, and
 * `marks` says where each list lies, in the order of the text.
 */
function skeleton(CDX: CdxLibrary, input: SbomInput, trees: readonly SbomTree[]): { json: string; marks: { tree: number; start: number; end: number }[] } {
  const { record, subject } = input;
  const bom = new CDX.Models.Bom();
  bom.serialNumber = serialFor(subject.digest);
  const game = new CDX.Models.Component(CDX.Enums.ComponentType.Container, record.game, { bomRef: 'game', version: record.version });
  addProperties(CDX, game.properties, [[`${P}:image.digest`, subject.digest], [`${P}:image.mediaType`, subject.mediaType]]);
  bom.metadata.component = game;
  const tool = new CDX.Models.Component(CDX.Enums.ComponentType.Application, 'gamelayer', { version: input.toolVersion ?? gamelayerVersion() });
  bom.metadata.tools.components.add(tool);

  const components: CDX.Models.Component[] = [];
  for (const b of input.base) {
    const c = new CDX.Models.Component(CDX.Enums.ComponentType.Container, b.ref, { bomRef: `base:${b.platform}`, version: b.digest });
    addProperties(CDX, c.properties, [[`${P}:platform`, b.platform], ...b.layers.map((l, i): [string, string] => [`${P}:layer.${String(i).padStart(3, '0')}`, l])]);
    components.push(c);
  }
  for (const t of trees) {
    const m = t.manifest;
    const c = new CDX.Models.Component(CDX.Enums.ComponentType.Application, m.tree, { bomRef: `tree:${t.id}` });
    c.hashes.set(CDX.Enums.HashAlgorithm['SHA-256'], m.digest.replace(/^sha256:/, ''));
    addProperties(CDX, c.properties, [[`${P}:tree.digest`, m.digest], [`${P}:mount`, input.mounts[m.tree]], ...(m.platform ? [[`${P}:platform`, m.platform] as [string, string]] : [])]);
    // One stand-in file, so the tree is normalised with a list of components (replaced by the mark below).
    if (t.hasFiles) c.components.add(new CDX.Models.Component(CDX.Enums.ComponentType.File, 'x', { bomRef: `file:${t.id}:` }));
    components.push(c);
  }
  components.sort((a, b) => compareBytewise(a.bomRef.value!, b.bomRef.value!));
  for (const c of components) {
    bom.components.add(c);
    game.dependencies.add(c.bomRef);
  }

  const normalized = new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6).makeForBom().normalize(bom, { sortLists: false }) as {
    components?: { 'bom-ref'?: string; components?: unknown[] }[];
    dependencies?: { ref: string; dependsOn?: string[] }[];
  };
  // The library lists every bom-ref as a dependency node; only the game's edges say something.
  if (normalized.dependencies) normalized.dependencies = normalized.dependencies.filter((d) => d.dependsOn?.length);
  trees.forEach((t, i) => {
    if (!t.hasFiles) return;
    const c = normalized.components?.find((x) => x['bom-ref'] === `tree:${t.id}`);
    if (!c?.components) throw new Error(`SBOM skeleton: tree ${t.id} lost its files`);
    c.components = [mark(i)];
  });
  const json = JSON.stringify(normalized);
  const marks: { tree: number; start: number; end: number }[] = [];
  for (const m of json.matchAll(MARK_LIST)) marks.push({ tree: Number(m[1]), start: m.index, end: m.index + m[0].length });
  if (marks.length !== trees.filter((t) => t.hasFiles).length) throw new Error('SBOM skeleton: a tree\'s files are not marked once');
  return { json, marks };
}

/**
 * Checks a CycloneDX JSON document against the 1.6 JSON schema the library ships, with ajv set up as the library's
 * own JsonStrictValidator does, but with `uniqueItems` checked here in linear time instead of by ajv: ajv compares
 * every pair of array items deeply, and an SBOM of a game has one array item per file (4030 files took 3.7 s,
 * 100k would take hours). Uniqueness is implied by distinct bom-refs, which are checked across the whole document.
 */
export async function validateSbom(json: string, what: string): Promise<unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (e) {
    throw new GamelayerError('sbom.invalid', `${what} is not JSON: ${(e as Error).message}`);
  }
  const validate = await sbomValidator();
  if (!validate(doc)) {
    const first = validate.errors?.[0];
    throw new GamelayerError('sbom.invalid', `${what} is not valid CycloneDX ${SBOM_SPEC}: ${first?.instancePath || '(root)'} ${first?.message ?? ''}`.trim());
  }
  distinctBomRefs(doc, what);
  // The document checked, for a caller that reads it (an SBOM of 100k files is 27 MiB of JSON: not parsed twice).
  return doc;
}

/**
 * The bom-refs of a document's metadata component and components (nested), each seen once: a second use is
 * `sbom.invalid` naming it (`what` names the document). Returns them, for a reader that checks its lists apart.
 */
export function distinctBomRefs(doc: unknown, what: string): Set<string> {
  const seen = new Set<string>();
  const walk = (components: unknown): void => {
    if (!Array.isArray(components)) return;
    for (const c of components as { 'bom-ref'?: string; components?: unknown }[]) {
      const ref = c['bom-ref'];
      if (ref !== undefined) {
        if (seen.has(ref)) throw new GamelayerError('sbom.invalid', `${what}: bom-ref "${ref}" is used twice`);
        seen.add(ref);
      }
      walk(c.components);
    }
  };
  const d = doc as { metadata?: { component?: unknown }; components?: unknown };
  walk(d.metadata?.component ? [d.metadata.component] : []);
  walk(d.components);
  return seen;
}

let compiled: Promise<SbomValidators> | undefined;

async function sbomValidator(): Promise<ValidateFunction> {
  return (await sbomValidators()).bom;
}

/** The schema's validator of a document, and of one component (what sbom-read.ts checks each file's against). */
export function sbomValidators(): Promise<SbomValidators> {
  compiled ??= (async () => precompiledSbomValidators() ?? (await compileSbomValidators()))();
  return compiled;
}

/** A name-based (v5-style) UUID from the image digest: the same image always gets the same serial number. */
function serialFor(digest: string): string {
  const h = createHash('sha256').update(`gamelayer-sbom:${digest}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
