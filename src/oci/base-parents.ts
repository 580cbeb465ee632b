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
import { foldersOf, sourcesMountParents, treesMountParents, type BaseNode, type BaseNodes, type MountParents } from '../plan/mount-parents.js';
import type { TreeManifest, TreeName } from '../types.js';
import { readCheckedJson, writeCheckedJson } from '../util/checked-json.js';
import { layerFoldersSink, type FoldersSeen, type LayerFolders } from './base-folders.js';
import { unreadableBaseLayer } from './base-diffid.js';
import type { BaseImage } from './base-image.js';
import { decompressorFor, notALayerType } from './layer-decompress.js';
import type { OciStore } from './store.js';

/** A base layer: its blob digest, media type, and its bytes as a verified stream. */
export interface BaseLayerBlob {
  digest: string;
  mediaType: string;
  open(): Promise<Readable> | Readable;
}

// 2: a layer naming a tracked path twice, differently, is refused (stop 47); a marker of 1 may have taken one.
// 3: a layer naming any path twice is refused; a marker of 2 (and a record's `baseFolders` key, made from this
// name) may stand for a base read without that check: it names another marker, so the layers are read once more.
const FORMAT = 'gamelayer-base-parents/3';

/**
 * `home/steam/game` → [`home`, `home/steam`, `home/steam/game`]; `/` → []. Every folder above each mount and the
 * mount itself (its folder is in the layers too), sorted.
 */
export function mountFolders(mounts: readonly string[]): string[] {
  return [...new Set(mounts.flatMap(foldersOf))].sort();
}

/** The marker's name: content-addressed by the layers and the paths asked about. */
function baseParentsMarkerName(layers: readonly string[], paths: readonly string[]): string {
  return `parents-${createHash('sha256').update(JSON.stringify([FORMAT, layers, paths])).digest('hex')}`;
}

/** The key of what baseNodes reads for this base at `paths` (mountFolders); undefined when it reads nothing. */
export function baseFoldersKey(base: Pick<BaseImage, 'layers'>, paths: readonly string[]): string | undefined {
  return paths.length && base.layers.length ? baseParentsMarkerName(base.layers.map((l) => l.digest), paths) : undefined;
}

/**
 * The final state in the base of each of `paths` (closed under parents: each path's folders are in it too). Read
 * from the marker when one for these layers and paths checks out, else from the layers (and the marker written).
 */
export async function baseNodes(layers: readonly BaseLayerBlob[], paths: readonly string[], markerDir: string | undefined, seen?: FoldersSeen, baseRef?: string): Promise<BaseNodes> {
  if (paths.length === 0 || layers.length === 0) return new Map();
  const digests = layers.map((l) => l.digest);
  const name = baseParentsMarkerName(digests, paths);
  if (markerDir) {
    const known = await readMarker(path.join(markerDir, name), digests, paths);
    if (known) return known;
  }
  const nodes: BaseNodes = new Map();
  const tracked = new Set(paths);
  // Layers a download just read for these very paths (the one list the caller made for both) are not read again.
  const known = seen?.paths === paths ? seen.layers : undefined;
  for (const l of layers) {
    const folders = known?.get(l.digest) ?? (await readLayer(tracked, l));
    refuseConflicts(folders, l.digest, baseRef);
    applyLayer(nodes, folders);
  }
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

/** Reads one layer's LayerFolders from its blob. */
async function readLayer(tracked: ReadonlySet<string>, layer: BaseLayerBlob): Promise<LayerFolders> {
  const { sink, done } = await layerFoldersSink(tracked);
  const decompress = decompressorFor(layer.mediaType, () => notALayerType(layer.digest, layer.mediaType));
  const blob = await layer.open();
  const reading = decompress ? pipeline(blob, decompress, sink) : pipeline(blob, sink);
  try {
    return (await Promise.all([reading, done]))[1];
  } catch (e) {
    throw unreadableBaseLayer(layer.digest, e);
  }
}


/**
 * A layer holds each path once (image-spec layer.md: "MUST NOT include duplicate entries for file paths"). Docker
 * refuses such a layer, the same header twice included ("duplicates of file paths not supported", at `docker load`
 * or pull of every image built on it); containerd keeps the last entry. A folder above or at a mount named twice,
 * differently, is said with both headers (whether the mount is a folder, and whose, would depend on the node); any
 * other path named twice by its name.
 */
function refuseConflicts(layer: LayerFolders, digest: string, baseRef: string | undefined): void {
  const where = `${baseRef ? `base image ${baseRef}: ` : ''}layer ${digest}`;
  const hint = 'rebuild the base image so that each layer names each path once (docker build, buildah and skopeo write such layers), or pick another base';
  const first = new Map<string, BaseNode>();
  for (const [p, n] of layer.entries) {
    const before = first.get(p);
    if (!before) first.set(p, n);
    else if (JSON.stringify(before) !== JSON.stringify(n)) {
      throw new GamelayerError(
        'base.layer-duplicate',
        `${where} holds /${p} twice, as ${nodeText(before)} and as ${nodeText(n)}: ` +
          'an OCI layer names each path once, and runtimes unpack this one differently (Docker refuses it, containerd keeps the last)',
        hint,
      );
    }
  }
  if (layer.duplicate !== undefined) {
    throw new GamelayerError(
      'base.layer-duplicate',
      `${where} holds /${layer.duplicate} twice: an OCI layer names each path once, and Docker refuses every image on this layer at load or pull ("duplicates of file paths not supported")`,
      hint,
    );
  }
}

function nodeText(n: BaseNode): string {
  if (n.type === 'dir') return `a folder (uid ${n.uid}, gid ${n.gid}, mode ${n.mode.toString(8).padStart(4, '0')})`;
  return n.type === 'symlink' ? `a symlink to ${n.target}` : n.what;
}

/**
 * Applies one layer to `nodes`. A layer's whiteouts hide what the layers below hold (its own entries stay, wherever
 * they come in the tar), so they are applied first; then its entries (the last of a path wins, as when unpacked), a
 * non-folder replacing what was below it.
 */
function applyLayer(nodes: BaseNodes, layer: LayerFolders): void {
  const entries = new Map(layer.entries);
  const drop = (p: string, self: boolean) => {
    for (const k of [...nodes.keys()]) if ((self && k === p) || (p === '' ? true : k.startsWith(`${p}/`))) nodes.delete(k);
  };
  for (const p of layer.hidden) drop(p, true);
  for (const d of layer.opaque) drop(d, false);
  for (const [p, n] of [...entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (n.type !== 'dir') drop(p, false);
    nodes.set(p, n);
  }
}

/**
 * A base's layers as baseNodes reads them: a blob from the store when it holds it, else from the base's source (a base
 * in the registry pushed to is not copied into the store); either way verified against its digest as it streams.
 */
export function baseLayerBlobs(base: Pick<BaseImage, 'layers'>, store?: Pick<OciStore, 'hasBlob' | 'openBlob'>): BaseLayerBlob[] {
  return base.layers.map((l) => ({
    digest: l.digest,
    mediaType: l.mediaType,
    open: async () => (store && (await store.hasBlob(l.digest, l.size)) ? store.openBlob(l.digest, l.size) : l.open()),
  }));
}

/**
 * Per tree, the folders above and at its mount as the base of `layers` holds them (plan/mount-parents.ts): none on
 * scratch. With the trees' `manifests`, a folder between nested mounts that the outer tree's source lacks takes the
 * base's (sourcesMountParents, as a build plans it); without, every such folder is taken as the outer tree's.
 */
export async function layersMountParents(
  layers: readonly BaseLayerBlob[],
  mounts: Record<TreeName, string>,
  markerDir: string | undefined,
  baseRef: string,
  manifests?: readonly TreeManifest[],
): Promise<Record<TreeName, MountParents>> {
  const nodes = await baseNodes(layers, mountFolders(Object.values(mounts)), markerDir, undefined, baseRef);
  return manifests ? sourcesMountParents(mounts, nodes, baseRef, manifests).parents : treesMountParents(mounts, nodes, baseRef);
}

/** layersMountParents of a loaded base, its layers read from its source (a local base's: `diff`, `dockerfile`). */
export async function baseMountParents(base: Pick<BaseImage, 'ref' | 'layers'>, mounts: Record<TreeName, string>, markerDir: string | undefined, manifests?: readonly TreeManifest[]): Promise<Record<TreeName, MountParents>> {
  return layersMountParents(baseLayerBlobs(base), mounts, markerDir, base.ref, manifests);
}
