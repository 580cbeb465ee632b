// A layer a build keeps from the registry's record is never downloaded: its digest, size and diffID come from the
// record, and the diffID goes into the new image's config as it is. The record blob is checked against its digest,
// but that proves only that the registry serves what was pushed: a record that lies (forged, or written by a broken
// tool) about a diffID made every image built on it one a node refuses at pull. The record names the images it
// made; their configs (small, checked against their digests) list each layer's diff_id. A kept layer's diffID must be
// what an image of the record says for that layer digest; else the record is damaged (the caller plans afresh).
import pLimit from 'p-limit';
import type { BuildRecord, BuiltLayer } from '../types.js';
import { DamagedRecordError } from './artifact.js';
import type { RegistryClient } from './client.js';
import { getSizedBlob } from './small-blob.js';
import { sha256Digest } from '../oci/layout.js';

/** Largest image config read (a config is a few KiB; a bigger one is no config of ours). */
const MAX_CONFIG = 4 << 20;

type RecordImage = BuildRecord['images'][number];

/** What the record's images say of each layer digest: its diff_id, and the image that says so. */
export type ImageDiffIds = Map<string, { diffID: string; image: RecordImage }>;

/**
 * The diff_ids the configs of the record's images in `repo` give its layers. Reads the fewest images that hold every
 * layer, server images first (they hold all but the tree images' marker layers), by the layers the record lists for
 * each or, in an older record that lists none, by the layers its plan says each holds (expectedLayers); a layer no
 * image read holds after all is looked for in the images not read yet that may hold it, so no image that could prove
 * a layer is passed over. An image gone from the repository says nothing (its layers are then unproven, see
 * checkKeptDiffIds); one whose manifest or config is not what its digest names, or is no image, is a DamagedRecordError.
 */
export async function recordImageDiffIds(client: RegistryClient, repo: string, record: BuildRecord, ref: string): Promise<ImageDiffIds> {
  const platformImages = record.images.filter((i) => !/index/.test(i.mediaType));
  const ordered = [...platformImages.filter((i) => i.name === 'server'), ...platformImages.filter((i) => i.name !== 'server')];
  const expected = expectedLayers(record, ordered);
  const read = new Map<RecordImage, Map<string, string> | undefined>();
  const limit = pLimit(8);
  const readImages = async (images: RecordImage[]): Promise<void> => {
    const got = await Promise.all(images.map((image) => limit(() => imageDiffIds(client, repo, image, ref))));
    images.forEach((image, i) => read.set(image, got[i]));
  };
  const unproven = (): Set<string> => {
    const left = new Set(record.layers.map((l) => l.digest));
    for (const ids of read.values()) for (const digest of ids?.keys() ?? []) left.delete(digest);
    return left;
  };
  await readImages(pickImages(ordered, expected, unproven()));
  // Then the images not read that may hold a layer still unproven: by the layers they should hold, then (an older
  // record's plan said wrong) any whose layers the record does not list.
  for (const may of [(i: RecordImage, left: Set<string>) => [...expected.get(i)!].some((d) => left.has(d)), (i: RecordImage) => !i.layers]) {
    const left = unproven();
    if (left.size === 0) break;
    await readImages(ordered.filter((i) => !read.has(i) && may(i, left)));
  }
  // The first in that order (server images first) of the images read that holds it: a message names the same image
  // every time.
  const out: ImageDiffIds = new Map();
  for (const image of ordered) {
    for (const [digest, diffID] of read.get(image) ?? []) if (!out.has(digest)) out.set(digest, { diffID, image });
  }
  return out;
}

/**
 * Every layer of the record an image of it names must have the diffID that image's config gives it, and every kept
 * layer must be named by one: a DamagedRecordError naming the record (`ref`), the layer, the image and both diffIDs
 * when not, or the kept layer no image the repository holds names (nothing proves its diffID).
 */
export function checkKeptDiffIds(record: BuildRecord, kept: Iterable<BuiltLayer>, said: ImageDiffIds, ref: string, repo: string): void {
  for (const l of record.layers) {
    const s = said.get(l.digest);
    if (s && s.diffID !== l.diffID) {
      throw new DamagedRecordError(`${ref}: layer ${l.digest} (${l.tree} layer ${l.index}) has diffID ${l.diffID} in the record, but the config of its image ${imageName(s.image)} (${s.image.digest}) says ${s.diffID}`);
    }
  }
  for (const l of kept) {
    if (!said.has(l.digest)) throw new DamagedRecordError(`${ref}: layer ${l.digest} (${l.tree} layer ${l.index}) is in none of the record's images in ${repo}: its diffID cannot be checked`);
  }
}

function imageName(image: RecordImage): string {
  return `${image.name}${image.platform ? ` ${image.platform}` : ''}`;
}

/** The images of `ordered` whose expected layers cover `digests`, in that order. */
function pickImages(ordered: RecordImage[], expected: Map<RecordImage, Set<string>>, digests: Set<string>): RecordImage[] {
  const left = new Set(digests);
  const out: RecordImage[] = [];
  for (const image of ordered) {
    if (left.size === 0) break;
    const holds = expected.get(image)!;
    if (![...holds].some((d) => left.has(d))) continue;
    out.push(image);
    for (const d of holds) left.delete(d);
  }
  return out;
}

/**
 * The layer digests each platform image should hold: those the record lists for it; for an image it lists none for
 * (an older record), its plan's layers of the image's platform (a server image: every tree's; a tree image: its
 * tree's) and, for a tree image, one of the tree's marker layers (the layers no plan names; a tree image holds one,
 * the first platform's image the first). Only an order to read in: what an image holds is taken from its manifest.
 */
function expectedLayers(record: BuildRecord, images: RecordImage[]): Map<RecordImage, Set<string>> {
  const digestOf = new Map(record.layers.map((l) => [l.inputKey, l.digest]));
  const planned = new Set(record.plan.layers.map((l) => l.inputKey));
  const markers = new Map<string, string[]>();
  for (const l of record.layers) {
    if (planned.has(l.inputKey)) continue;
    const ofTree = markers.get(l.tree) ?? [];
    if (!ofTree.includes(l.digest)) markers.set(l.tree, [...ofTree, l.digest]);
  }
  const seen = new Map<string, number>();
  return new Map(
    images.map((image) => {
      if (image.layers) return [image, new Set(image.layers.map((l) => l.digest))];
      const holds = new Set<string>();
      for (const l of record.plan.layers) {
        const digest = digestOf.get(l.inputKey);
        if (digest && (l.platform === undefined || l.platform === image.platform) && (image.name === 'server' || l.tree === image.name)) holds.add(digest);
      }
      const n = seen.get(image.name) ?? 0;
      seen.set(image.name, n + 1);
      const marker = markers.get(image.name)?.[n];
      if (marker) holds.add(marker);
      return [image, holds];
    }),
  );
}

/** Layer digest → diff_id, from an image's manifest and config, each checked against the digest naming it; undefined: no such image. */
async function imageDiffIds(client: RegistryClient, repo: string, image: RecordImage, ref: string): Promise<Map<string, string> | undefined> {
  const at = `${ref}: image ${imageName(image)} (${image.digest})`;
  const m = await client.getManifestIfExists(repo, image.digest);
  if (!m) return undefined;
  if (m.digest !== image.digest) throw new DamagedRecordError(`${at}: the registry sent a manifest that hashes to ${m.digest}`);
  const doc = parse(m.bytes, `${at} manifest`) as { config?: { digest?: unknown; size?: unknown }; layers?: { digest?: unknown }[] };
  const config = doc?.config;
  if (typeof config?.digest !== 'string' || typeof config.size !== 'number' || !Array.isArray(doc.layers) || doc.layers.some((l) => typeof l?.digest !== 'string')) {
    throw new DamagedRecordError(`${at}: its manifest names no config or layers`);
  }
  const bytes = await configBlob(client, repo, { digest: config.digest, size: config.size }, at);
  const rootfs = (parse(bytes, `${at} config`) as { rootfs?: { diff_ids?: unknown } })?.rootfs;
  const ids = rootfs?.diff_ids;
  if (!Array.isArray(ids) || ids.length !== doc.layers.length || ids.some((d) => typeof d !== 'string')) {
    throw new DamagedRecordError(`${at}: its config lists no diff_id for each of its ${doc.layers.length} layers`);
  }
  return new Map(doc.layers.map((l, i) => [l.digest as string, ids[i] as string]));
}

/** The config blob, read no further than the size its manifest gives it, and checked against its digest. */
async function configBlob(client: RegistryClient, repo: string, d: { digest: string; size: number }, at: string): Promise<Buffer> {
  if (!Number.isSafeInteger(d.size) || d.size < 0 || d.size > MAX_CONFIG) throw new DamagedRecordError(`${at}: its config ${d.digest} is ${d.size} bytes, not an image config's`);
  const bytes = await getSizedBlob(client, repo, d, `get config ${d.digest} of ${at}`);
  const got = bytes && sha256Digest(bytes);
  if (got !== d.digest) throw new DamagedRecordError(`${at}: the registry sent a config ${d.digest} that ${got ? `hashes to ${got}` : `is longer than its ${d.size} bytes`}`);
  return bytes!;
}

function parse(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new DamagedRecordError(`${what}: not valid JSON: ${(e as Error).message}`);
  }
}
