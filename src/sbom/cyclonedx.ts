// The build's SBOM as a CycloneDX 1.6 JSON document: the game (the server image) made of one component per tree
// (per platform for the binary trees) holding every file with its path, size and sha256, the base image by digest,
// and gamelayer as the tool. Deterministic: the same images give the same bytes (no timestamp, a serial number
// derived from the image digest, sorted lists), so a no-op build makes the same SBOM and sends nothing new.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { Ajv, type ValidateFunction } from 'ajv';
import { createRequire } from 'node:module';
import path from 'node:path';
import { GamelayerError } from '../errors.js';
import { mountPrefix } from '../oci/tar.js';
import type { OciStore } from '../oci/store.js';
import type { BuildRecord, TreeName } from '../types.js';
import { gamelayerVersion } from '../version.js';
import { layerFiles, type LayerFile } from './layer-files.js';

// The format plugins the library's own validator uses (CommonJS, loaded as it loads them).
const require = createRequire(import.meta.url);

export const SBOM_MEDIA_TYPE = 'application/vnd.cyclonedx+json';
export const SBOM_SPEC = CDX.Spec.Version.v1dot6;
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

export interface SbomInput {
  record: BuildRecord;
  store: OciStore;
  stateDir: string;
  /** Mount path of each tree in the image (config.trees[tree].mount). */
  mounts: Record<TreeName, string>;
  /** The image the SBOM describes (the server image: its manifest or index). */
  subject: { digest: string; mediaType: string };
  base: BaseImageInfo[];
}

export interface Sbom {
  /** The document, UTF-8 JSON. */
  bytes: Buffer;
  files: number;
}

interface TreeFiles {
  tree: TreeName;
  platform?: string;
  digest: string;
  mount: string;
  files: { path: string; size: number; sha256: string }[];
}

/** Hashes (from the layer blobs, cached per layer) of every file of every tree of the build. */
export async function treeFiles(input: Pick<SbomInput, 'record' | 'store' | 'stateDir' | 'mounts'>): Promise<TreeFiles[]> {
  const { record, store, stateDir, mounts } = input;
  const out: TreeFiles[] = [];
  for (const m of record.manifests) {
    const platform = m.platform ?? record.platforms[0];
    const image = record.images.find((i) => i.name === m.tree && i.platform === platform && i.layers);
    if (!image) throw new GamelayerError('sbom.no-image', `the build record has no ${m.tree} image for ${platform ?? 'its platform'}`, 'build again, then make the SBOM');
    const treeLayers = new Map(record.layers.filter((l) => l.tree === m.tree).map((l) => [l.digest, l]));
    // The tree image is base + the tree's layers + its sentinel: apply the tree's layers in order, whiteouts included.
    const visible = new Map<string, LayerFile>();
    for (const l of image.layers!) {
      const built = treeLayers.get(l.digest);
      if (!built) continue;
      const lf = await layerFiles(store, stateDir, built);
      for (const w of lf.whiteouts) {
        const slash = w.lastIndexOf('/');
        const removed = `${w.slice(0, slash + 1)}${w.slice(slash + 1 + '.wh.'.length)}`;
        for (const k of [...visible.keys()]) if (k === removed || k.startsWith(`${removed}/`)) visible.delete(k);
      }
      for (const f of lf.files) visible.set(f.name, f);
    }
    const prefix = mountPrefix(mounts[m.tree]);
    const files = m.entries
      .filter((e) => e.type === 'file')
      .map((e) => {
        const name = prefix ? `${prefix}/${e.path}` : e.path;
        const f = visible.get(name);
        if (!f || f.size !== e.size) {
          throw new GamelayerError(
            'sbom.file-missing',
            `${m.tree}${m.platform ? ` (${m.platform})` : ''}: ${e.path} (${e.size} bytes) is ${f ? `${f.size} bytes` : 'not'} in the image's layers`,
            'the store does not hold the layers this build record describes; build again',
          );
        }
        return { path: e.path, size: e.size, sha256: f.sha256 };
      });
    out.push({ tree: m.tree, platform: m.platform, digest: m.digest, mount: mounts[m.tree], files });
  }
  return out;
}

/** Builds, serialises and validates (against the CycloneDX JSON schema the library ships) the build's SBOM. */
export async function makeSbom(input: SbomInput): Promise<Sbom> {
  const trees = await treeFiles(input);
  const { record, subject } = input;
  const bom = new CDX.Models.Bom();
  bom.serialNumber = serialFor(subject.digest);
  const game = new CDX.Models.Component(CDX.Enums.ComponentType.Container, record.game, { bomRef: 'game', version: record.version });
  game.properties.add(new CDX.Models.Property(`${P}:image.digest`, subject.digest));
  game.properties.add(new CDX.Models.Property(`${P}:image.mediaType`, subject.mediaType));
  for (const t of record.tags) game.properties.add(new CDX.Models.Property(`${P}:tag`, t));
  bom.metadata.component = game;
  const tool = new CDX.Models.Component(CDX.Enums.ComponentType.Application, 'gamelayer', { version: gamelayerVersion() });
  bom.metadata.tools.components.add(tool);

  for (const b of input.base) {
    const c = new CDX.Models.Component(CDX.Enums.ComponentType.Container, b.ref, { bomRef: `base:${b.platform}`, version: b.digest });
    c.properties.add(new CDX.Models.Property(`${P}:platform`, b.platform));
    b.layers.forEach((l, i) => c.properties.add(new CDX.Models.Property(`${P}:layer.${String(i).padStart(3, '0')}`, l)));
    bom.components.add(c);
    game.dependencies.add(c.bomRef);
  }
  let files = 0;
  for (const t of trees) {
    const id = t.platform ? `${t.tree}@${t.platform}` : t.tree;
    const c = new CDX.Models.Component(CDX.Enums.ComponentType.Application, t.tree, { bomRef: `tree:${id}` });
    c.hashes.set(CDX.Enums.HashAlgorithm['SHA-256'], t.digest.replace(/^sha256:/, ''));
    c.properties.add(new CDX.Models.Property(`${P}:tree.digest`, t.digest));
    c.properties.add(new CDX.Models.Property(`${P}:mount`, t.mount));
    if (t.platform) c.properties.add(new CDX.Models.Property(`${P}:platform`, t.platform));
    for (const f of t.files) {
      const fc = new CDX.Models.Component(CDX.Enums.ComponentType.File, f.path, { bomRef: `file:${id}:${f.path}` });
      fc.hashes.set(CDX.Enums.HashAlgorithm['SHA-256'], f.sha256);
      fc.properties.add(new CDX.Models.Property(`${P}:size`, String(f.size)));
      c.components.add(fc);
      files++;
    }
    bom.components.add(c);
    game.dependencies.add(c.bomRef);
  }

  const normalized = new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6).makeForBom().normalize(bom, { sortLists: true }) as {
    dependencies?: { ref: string; dependsOn?: string[] }[];
  };
  // The library lists every bom-ref as a dependency node; only the game's edges say something.
  if (normalized.dependencies) normalized.dependencies = normalized.dependencies.filter((d) => d.dependsOn?.length);
  const json = JSON.stringify(normalized);
  await validateSbom(json, 'the SBOM gamelayer made');
  return { bytes: Buffer.from(json), files };
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
  // The document checked, for a caller that reads it (an SBOM of 100k files is 27 MiB of JSON: not parsed twice).
  return doc;
}

let compiled: Promise<ValidateFunction> | undefined;

function sbomValidator(): Promise<ValidateFunction> {
  compiled ??= (async () => {
    const addFormats = require('ajv-formats') as (ajv: Ajv) => Ajv;
    const addFormats2019 = require('ajv-formats-draft2019') as (ajv: Ajv, opts: { formats: string[] }) => Ajv;
    const dir = path.join(path.dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
    const read = async (f: string) => withoutUniqueItems(JSON.parse(await readFile(path.join(dir, f), 'utf8'))) as Record<string, unknown>;
    const [schema, spdx, crypto, jsf] = await Promise.all(
      ['bom-1.6.SNAPSHOT.schema.json', 'spdx.SNAPSHOT.schema.json', 'cryptography-defs.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json'].map(read),
    );
    const ajv = new Ajv({
      useDefaults: false,
      strict: false,
      strictSchema: false,
      addUsedSchema: false,
      loadSchema: (uri: string) => Promise.reject(new Error(`remote schemas are disabled: ${uri}`)),
      schemas: {
        'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': spdx,
        'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': crypto,
        'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': jsf,
      },
    });
    addFormats(ajv);
    addFormats2019(ajv, { formats: ['idn-email'] });
    ajv.addFormat('iri-reference', true);
    return ajv.compile(schema!);
  })();
  return compiled;
}

/** The schema with every `uniqueItems` keyword removed (checked by validateSbom instead; see there). */
function withoutUniqueItems(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutUniqueItems);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k]) => k !== 'uniqueItems').map(([k, v]) => [k, withoutUniqueItems(v)]));
}

/** A name-based (v5-style) UUID from the image digest: the same image always gets the same serial number. */
function serialFor(digest: string): string {
  const h = createHash('sha256').update(`gamelayer-sbom:${digest}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
