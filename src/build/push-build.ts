// Pushes every image of a build (server first, then one per tree) from the local store to one repository.
// The server image carries every tree layer, so the tree images that follow find their blobs there and send
// only their sentinel layer, config and manifest.
import { GamelayerError } from '../errors.js';
import { pushImage, type PushImageOptions, type PushResult } from '../registry/push.js';
import { parseReference } from '../registry/reference.js';
import type { BuildRecord } from '../types.js';

export interface PushBuildOptions extends Omit<PushImageOptions, 'to' | 'image' | 'tags' | 'layout'> {
  store: string;
  record: Pick<BuildRecord, 'tags'>;
  /** `host[:port]/repo`; a tag or digest in it is refused (each image has its own tag). */
  repository: string;
}

export interface PushBuildResult {
  repository: string;
  images: PushResult[];
  bytesSent: number;
  blobs: PushResult['blobs'];
}

export async function pushBuild(opts: PushBuildOptions): Promise<PushBuildResult> {
  const { store, record, repository, ...rest } = opts;
  const ref = parseReference(repository);
  if (ref.tag || ref.digest) {
    throw new GamelayerError(
      'push.repository-only',
      `${repository}: expected a repository without tag or digest`,
      `the build's images are tagged ${record.tags[0]} and ${record.tags[0]}-<tree>; use --tag to choose the tag`,
    );
  }
  const repo = `${ref.scheme ? `${ref.scheme}://` : ''}${ref.registry}/${ref.repository}`;
  const images: PushResult[] = [];
  for (const tag of record.tags) {
    images.push(await pushImage({ ...rest, layout: store, to: `${repo}:${tag}`, image: tag }));
  }
  const blobs = { total: 0, skipped: 0, mounted: 0, uploaded: 0 };
  for (const r of images) for (const k of Object.keys(blobs) as (keyof typeof blobs)[]) blobs[k] += r.blobs[k];
  return { repository: images[0]?.repository ?? repo, images, bytesSent: images.reduce((n, r) => n + r.bytesSent, 0), blobs };
}
