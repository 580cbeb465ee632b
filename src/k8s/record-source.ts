// Where the deploy commands read the build record: a file (the last build, by default), or a registry reference
// (`--record host/repo:tag`). A rollback from CI runs on a fresh host, with no record of the older build on disk;
// the repository holds it beside its images, so the specs are written from that, pinned by digest as usual.
import { existsSync } from 'node:fs';
import pLimit from 'p-limit';
import { GamelayerError } from '../errors.js';
import { fetchBuildRecordFor } from '../registry/artifact.js';
import { pushTargetFor, type TargetOptions } from '../registry/push.js';
import { parseReference } from '../registry/reference.js';
import { TREE_NAMES } from '../types.js';
import { deployRecordOf, type DeployRecord } from './record-counts.js';

/**
 * The most images a build record can name: the server image and one per tree, per platform, and an index of each
 * when several platforms are built; the config takes 35 platforms (7 architectures, each plain or v5–v8:
 * config/schema.ts). A record naming more is not one gamelayer wrote: each image would be one HEAD.
 */
const MAX_PLATFORMS = 35;
export const MAX_RECORD_IMAGES = (1 + TREE_NAMES.length) * (MAX_PLATFORMS + 1);
/** HEADs of the record's images at once, as the other registry fan-outs (record-diffids.ts, manifest-put.ts). */
export const RECORD_IMAGE_LOOKUPS = 8;

/** A registry host as Docker tells one: a first component with a `.` or a port between name characters, or localhost. */
const HOST = /^(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+|[a-z0-9-]+(?=:))(?::\d+)?$/i;

/**
 * Whether `arg` names an image in a registry rather than a file: no file of that name, an explicit registry host,
 * and a tag or digest (a build record belongs to one image).
 */
export function isRecordReference(arg: string): boolean {
  if (existsSync(arg)) return false;
  const rest = arg.replace(/^https?:\/\//, '');
  const slash = rest.indexOf('/');
  if (slash <= 0 || !HOST.test(rest.slice(0, slash))) return false;
  try {
    const r = parseReference(arg);
    return r.tag !== undefined || r.digest !== undefined;
  } catch {
    return false;
  }
}

export interface RegistryDeployRecord {
  record: DeployRecord;
  /** `host/repo` (with its scheme when given) that holds the record and its images. */
  repository: string;
}

/**
 * The record of the image `ref`, read from its repository (checked against the digests that name it, and against
 * the image: a record of another image is refused). Its images are in that repository (a record goes up after
 * them): the record says so as a local push would, so the pushed-check passes for that repository and no other.
 */
export async function fetchDeployRecord(ref: string, registry: TargetOptions = {}): Promise<RegistryDeployRecord> {
  const r = parseReference(ref);
  const repository = `${r.scheme ? `${r.scheme}://` : ''}${r.registry}/${r.repository}`;
  const target = await pushTargetFor(r, registry);
  const { record } = await fetchBuildRecordFor(ref, { ...registry, target });
  // The record went up after its images, but an image may have been deleted since (by hand, a lifecycle rule): each
  // is asked (one HEAD per image), and only those there count as pushed; a spec pinning a gone one is refused.
  if (record.images.length > MAX_RECORD_IMAGES) {
    throw new GamelayerError(
      'record.invalid',
      `${ref}: its build record names ${record.images.length} images; a build makes at most ${MAX_RECORD_IMAGES} (the server image and ${TREE_NAMES.length} tree images per platform, and an index of each, for at most ${MAX_PLATFORMS} platforms)`,
      'not a record gamelayer wrote: deploy another build (gamelayer ls REPO lists them), or push this one again from a host holding it',
    );
  }
  const there = new Set<string>();
  const lookup = pLimit(RECORD_IMAGE_LOOKUPS);
  await Promise.all(
    [...new Set(record.images.map((i) => i.digest))].map((d) =>
      lookup(async () => {
        if (await target.client.headManifest(r.repository, d)) there.add(d);
      }),
    ),
  );
  const held = { repository, images: record.images.filter((i) => there.has(i.digest)).map((i) => ({ name: i.name, digest: i.digest })), at: record.createdAt };
  return { record: deployRecordOf({ ...record, pushed: [...(record.pushed ?? []), held] }), repository };
}
