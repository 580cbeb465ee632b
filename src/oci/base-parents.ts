// What the base image holds at the folders above the trees' mounts (`/home/steam` above `/home/steam/game`): a
// layer writes those folders, and a runtime's overlay shows the layer's copy, so the layer must carry the base's
// owner and mode (plan/mount-parents.ts). Found by applying the base layers' tars in order (entries, whiteouts, opaque
// folders, a folder replaced by a file or link) for those few paths only. The result is kept as a marker beside the
// base's diff_id markers, named by the layers' digests and the paths (content-addressed), a checked JSON file
// (util/checked-json.ts): a no-op build does not decompress the base again, and a damaged marker is computed afresh.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GamelayerError } from '../errors.js';
import { treesMountParents, type BaseNode, type BaseNodes, type MountParents } from '../plan/mount-parents.js';
import type { TreeName } from '../types.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from '../util/whiteout.js';
import { tarExtract } from '../util/tar-extract.js';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';
import type { BaseImage } from './base-image.js';
import { decompressorFor } from './layer-decompress.js';
import type { OciStore } from './store.js';

/** A base layer: its blob digest, media type, and its bytes as a verified stream. */
export interface BaseLayerBlob {
  digest: string;
  mediaType: string;
  open(): Promise<Readable> | Readable;
}

const FORMAT = 'gamelayer-base-parents/1';

/**
 * `home/steam/game` → [`home`, `home/steam`, `home/steam/game`]; `/` → []. Every folder above each mount and the
 * mount itself (its folder is in the layers too), sorted.
 */
export function mountFolders(mounts: readonly string[]): string[] {
  const out = new Set<string>();
  for (const m of mounts) {
    const parts = m.split('/').filter((p) => p !== '' && p !== '.');
    for (let i = 1; i <= parts.length; i++) out.add(parts.slice(0, i).join('/'));
  }
  return [...out].sort();
}

/** The marker's name: content-addressed by the layers and the paths asked about. */
export function baseParentsMarkerName(layers: readonly string[], paths: readonly string[]): string {
  return `parents-${createHash('sha256').update(JSON.stringify([FORMAT, layers, paths])).digest('hex')}`;
}

/** The key of what `baseMountParents` reads for this base and these mounts; undefined when it reads nothing. */
export function baseFoldersKey(base: Pick<BaseImage, 'layers'>, mounts: Record<TreeName, string>): string | undefined {
  const paths = mountFolders(Object.values(mounts));
  return paths.length && base.layers.length ? baseParentsMarkerName(base.layers.map((l) => l.digest), paths) : undefined;
}

/**
 * The final state in the base of each of `paths` (closed under parents: each path's folders are in it too). Read
 * from the marker when one for these layers and paths checks out, else from the layers (and the marker written).
 */
export async function baseNodes(layers: readonly BaseLayerBlob[], paths: readonly string[], markerDir: string | undefined): Promise<BaseNodes> {
  if (paths.length === 0 || layers.length === 0) return new Map();
  const digests = layers.map((l) => l.digest);
  const name = baseParentsMarkerName(digests, paths);
  if (markerDir) {
    const known = await readMarker(path.join(markerDir, name), digests, paths);
    if (known) return known;
  }
  const nodes: BaseNodes = new Map();
  const tracked = new Set(paths);
  for (const l of layers) await applyLayer(nodes, tracked, l);
  // Best effort, as the diff_id markers: without one, the base is read again next time.
  if (markerDir) await writeCheckedJson(path.join(markerDir, name), FORMAT, { layers: digests, paths, nodes: [...nodes].sort(([a], [b]) => (a < b ? -1 : 1)) }).catch(() => {});
  return nodes;
}

/**
 * The base layers a marker was read from (gc drops it with any of them); undefined for a marker that does not check
 * out (nothing would trust it: it goes too).
 */
export async function baseParentsMarkerLayers(file: string): Promise<string[] | undefined> {
  const read = await readCheckedJson<{ layers?: unknown }>(file, FORMAT);
  const layers = read.ok ? read.value.layers : undefined;
  return Array.isArray(layers) && layers.every((l) => typeof l === 'string') ? (layers as string[]) : undefined;
}

/** The nodes a marker holds (a checked JSON file: util/checked-json.ts), when it is of these layers and paths. */
async function readMarker(file: string, layers: readonly string[], paths: readonly string[]): Promise<BaseNodes | undefined> {
  const read = await readCheckedJson<{ layers?: unknown; paths?: unknown; nodes?: unknown }>(file, FORMAT);
  if (!read.ok) return undefined;
  const doc = read.value;
  if (JSON.stringify(doc.layers) !== JSON.stringify(layers) || JSON.stringify(doc.paths) !== JSON.stringify(paths) || !Array.isArray(doc.nodes)) return undefined;
  const out: BaseNodes = new Map();
  for (const [p, n] of doc.nodes as [string, BaseNode][]) {
    if (!paths.includes(p) || !validNode(n)) return undefined;
    out.set(p, n);
  }
  return out;
}

function validNode(n: unknown): n is BaseNode {
  const x = n as Record<string, unknown> | null;
  if (typeof x !== 'object' || x === null) return false;
  if (x.type === 'dir') return [x.uid, x.gid, x.mode].every((v) => Number.isSafeInteger(v) && (v as number) >= 0);
  if (x.type === 'symlink') return typeof x.target === 'string';
  return x.type === 'other' && typeof x.what === 'string';
}

/** `./a/b/` → `a/b`. */
function cleanName(name: string): string {
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  return n.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * Applies one layer to `nodes` for the `tracked` paths. A layer's whiteouts hide what the layers below hold (its
 * own entries stay, wherever they come in the tar), so they are applied first; then its entries, a non-folder
 * replacing what was below it.
 */
async function applyLayer(nodes: BaseNodes, tracked: ReadonlySet<string>, layer: BaseLayerBlob): Promise<void> {
  const hidden: string[] = [];
  const opaque: string[] = [];
  const entries = new Map<string, BaseNode>();
  const extract = await tarExtract();
  const unknown = () => new GamelayerError('base.layer-type', `base layer ${layer.digest}: media type ${layer.mediaType} is not a layer's`);
  const decompress = decompressorFor(layer.mediaType, unknown);
  const blob = await layer.open();
  const reading = decompress ? pipeline(blob, decompress, extract as unknown as NodeJS.WritableStream) : pipeline(blob, extract as unknown as NodeJS.WritableStream);
  const walking = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const name = cleanName(h.name);
      const slash = name.lastIndexOf('/');
      const base = name.slice(slash + 1);
      const folder = slash < 0 ? '' : name.slice(0, slash);
      if (base === OPAQUE_WHITEOUT) opaque.push(folder);
      else if (base.startsWith(WHITEOUT_PREFIX)) hidden.push(`${folder ? `${folder}/` : ''}${base.slice(WHITEOUT_PREFIX.length)}`);
      else if (tracked.has(name)) entries.set(name, nodeOf(h));
      entry.resume();
    }
  })();
  try {
    await Promise.all([reading, walking]);
  } catch (e) {
    if (e instanceof GamelayerError) throw e;
    throw new GamelayerError('base.archive', `base layer ${layer.digest}: not a readable layer tar: ${(e as Error).message}`);
  }
  const drop = (p: string, self: boolean) => {
    for (const k of [...nodes.keys()]) if ((self && k === p) || (p === '' ? true : k.startsWith(`${p}/`))) nodes.delete(k);
  };
  for (const p of hidden) drop(p, true);
  for (const d of opaque) drop(d, false);
  for (const [p, n] of [...entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (n.type !== 'dir') drop(p, false);
    nodes.set(p, n);
  }
}

/** A tar header as a node; PAX `uid` / `gid` (ids beyond ustar's octal fields) win, as they do when unpacked. */
function nodeOf(h: { type?: string | null; mode?: number; uid?: number; gid?: number; linkname?: string | null; pax?: unknown }): BaseNode {
  const pax = (h.pax ?? {}) as Record<string, string | undefined>;
  if (h.type === 'directory') {
    const id = (text: string | undefined, plain: number | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : (plain ?? 0));
    return { type: 'dir', uid: id(pax.uid, h.uid), gid: id(pax.gid, h.gid), mode: (h.mode ?? 0o755) & 0o7777 };
  }
  if (h.type === 'symlink') return { type: 'symlink', target: h.linkname ?? '' };
  return { type: 'other', what: h.type === 'link' ? 'a hard link' : h.type === 'file' || !h.type ? 'a file' : `a ${h.type}` };
}

/**
 * Per tree, the folders above and at its mount as the base holds them (plan/mount-parents.ts): none on scratch. A layer
 * blob is read from the store when it holds it, else from the base's source (a base in the registry pushed to is
 * not copied into the store); either way verified against its digest as it streams.
 */
export async function baseMountParents(
  base: Pick<BaseImage, 'ref' | 'layers'>,
  mounts: Record<TreeName, string>,
  markerDir: string | undefined,
  store?: Pick<OciStore, 'hasBlob' | 'openBlob'>,
): Promise<Record<TreeName, MountParents>> {
  const nodes = await baseNodes(
    base.layers.map((l) => ({
      digest: l.digest,
      mediaType: l.mediaType,
      open: async () => (store && (await store.hasBlob(l.digest, l.size)) ? store.openBlob(l.digest, l.size) : l.open()),
    })),
    mountFolders(Object.values(mounts)),
    markerDir,
  );
  return treesMountParents(mounts, nodes, base.ref);
}
