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
 * layer (by the layers the record lists for each): the server images first, which hold all but the tree images'
 * marker layers. An image gone from the repository says nothing (its layers are then unproven, see checkKeptDiffIds);
 * one whose manifest or config is not what its digest names, or is no image, is a DamagedRecordError.
 */
export async function recordImageDiffIds(client: RegistryClient, repo: string, record: BuildRecord, ref: string): Promise<ImageDiffIds> {
  const out: ImageDiffIds = new Map();
  const images = pickImages(record, new Set(record.layers.map((l) => l.digest)));
  const limit = pLimit(8);
  const read = await Promise.all(images.map((image) => limit(() => imageDiffIds(client, repo, image, ref))));
  // In the images' order (server images first), whichever answered first: a message names the same image every time.
  read.forEach((ids, i) => {
    for (const [digest, diffID] of ids ?? []) if (!out.has(digest)) out.set(digest, { diffID, image: images[i]! });
  });
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

/**
 * The platform images (not indexes) whose layers cover `digests`, server images first; every platform image when the
 * record does not list their layers (then each is read).
 */
function pickImages(record: BuildRecord, digests: Set<string>): RecordImage[] {
  const platformImages = record.images.filter((i) => !/index/.test(i.mediaType));
  if (platformImages.some((i) => !i.layers)) return platformImages;
  const ordered = [...platformImages.filter((i) => i.name === 'server'), ...platformImages.filter((i) => i.name !== 'server')];
  const left = new Set(digests);
  const out: RecordImage[] = [];
  for (const image of ordered) {
    if (!image.layers!.some((l) => left.has(l.digest))) continue;
    out.push(image);
    for (const l of image.layers!) left.delete(l.digest);
    if (left.size === 0) break;
  }
  return out;
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
