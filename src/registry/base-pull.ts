// A base image read from a registry (`ubuntu:22.04`, `public.ecr.aws/…`, ECR, `…@sha256:…`) with the credentials a
// push would use (docker config.json, credential helpers, ECR). The reference resolves through its index to the
// wanted platform's manifest, whose digest the build record pins; manifest and config are checked against their
// digests, and every layer blob is verified as it is written into the store (where it then stays, as a cache), its
// uncompressed tar against the config's diff_id the first time (base-diffid.ts).
// A build pushing to the same registry does not call copyLayersInto: the push mounts the base layers from here.
import { Readable } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { baseFromParts, type BaseImage } from '../oci/base-image.js';
import { INDEX_MEDIA_TYPES } from '../oci/media-types.js';
import { baseIndexEntries, baseManifest } from '../oci/base-documents.js';
import { putBaseLayer, verifyBaseDiffId } from '../oci/base-diffid.js';
import type { FoldersSeen } from '../oci/base-folders.js';
import { formatPlatform, type Platform } from '../oci/image.js';
import { samePlatform } from '../oci/platform-match.js';
import { sha256Digest, type OciStore } from '../oci/store.js';
import type { Descriptor } from '../types.js';
import type { RegistryClient } from './client.js';
import { registryBlob } from './image-source.js';
import { pushTargetFor, type TargetOptions } from './push.js';
import { readOnly } from './connect.js';
import { formatReference, parseReference, type ImageReference } from './reference.js';

const MAX_DOCUMENT = 4 << 20;

export interface PullBaseOptions extends TargetOptions {
  platform: Platform;
}

/** `[scheme://]host/repo` of a reference, as partial layouts and pushes name repositories. */
export function repositoryName(r: ImageReference): string {
  return `${r.scheme ? `${r.scheme}://` : ''}${r.registry}/${r.repository}`;
}

export async function pullBaseImage(ref: string, o: PullBaseOptions): Promise<BaseImage> {
  const r = parseReference(ref);
  const name = formatReference(r);
  const wanted = formatPlatform(o.platform);
  return withBaseContext(name, async () => {
    // Read-only use of the registry: never create a repository for a base, nor hold it to the push's settings.
    const target = await pushTargetFor(r, readOnly(o));
    const { client } = target;
    const repo = r.repository;
    let m = await client.getManifest(repo, r.digest ?? r.tag ?? 'latest');
    if (r.digest && m.digest !== r.digest) throw mismatch(name, `manifest ${r.digest}`, m.digest);
    let doc = parse(m.bytes, `${name} manifest`) as { mediaType?: string; manifests?: unknown } | null;
    let listed: Descriptor | undefined;
    if (INDEX_MEDIA_TYPES.has(doc?.mediaType ?? m.mediaType) || Array.isArray(doc?.manifests)) {
      const entries = baseIndexEntries(doc, `base image ${name}: index ${m.digest}`);
      const pick = (listed = entries.find((e) => e.platform && samePlatform(e.platform, o.platform)));
      if (!pick) {
        const have = entries.map((e) => (e.platform ? formatPlatform(e.platform) : '?')).join(', ');
        throw new GamelayerError('base.platform', `base image ${name}: no manifest for ${wanted} (it has ${have || 'none'})`, 'build only the platforms the base image has (--platform), or pick another base');
      }
      m = await client.getManifest(repo, pick.digest);
      if (m.digest !== pick.digest) throw mismatch(name, `manifest ${pick.digest}`, m.digest);
      doc = parse(m.bytes, `${name} manifest ${pick.digest}`) as typeof doc;
    }
    const { config, layers } = baseManifest(doc, `base image ${name}: manifest ${m.digest}`);
    const configBytes = await smallBlob(client, repo, config, name);
    const base = baseFromParts(ref, `${name}@${m.digest}`, configBytes, layers, async (store: OciStore, seen?: FoldersSeen) => {
      await withBaseContext(name, async () => {
        const tracked = seen ? new Set(seen.paths) : undefined;
        for (const [i, l] of base.layers.entries()) {
          const layer = { ...l, diffID: base.diffIDs[i]! };
          const image = `${name}@${m.digest}`;
          // A layer fetched now has its tar hashed on the way in, and walked for the folders at the mounts (read once);
          // one already stored is read back.
          const fetched = (await store.hasBlob(l.digest, l.size)) ? undefined : await putBaseLayer(store, () => client.getBlob(repo, l.digest), layer, image, i, tracked);
          // The config's diff_id is checked against the layer's tar once (then known by its marker).
          await verifyBaseDiffId(store, layer, image, i, fetched?.diffID);
          if (seen && fetched?.folders) seen.layers.set(l.digest, fetched.folders);
        }
      });
    }, (d, diffID) => registryBlob(client, repo, d, diffID));
    // The index's word for a platform is only a label: the image's own config says what it runs on (a hostile or
    // broken index could list an arm64 image as amd64).
    if (listed && (!base.platform || !samePlatform(base.platform, listed.platform!))) {
      throw new GamelayerError(
        'base.platform',
        `base image ${name}: its index lists ${listed.digest} as ${wanted}, but that image's config says ${platformText(base.platform ?? {})}`,
        'the base image\'s index is broken or not to be trusted: pin a digest of an image you checked, or pick another base',
      );
    }
    if (!base.platform || !samePlatform(base.platform, o.platform)) {
      throw new GamelayerError('base.platform', `base image ${name}: its image is for ${base.platform ? platformText(base.platform) : 'no platform'}, not ${wanted}`, 'build only the platforms the base image has (--platform), or pick another base');
    }
    return { ...base, pinned: { digest: m.digest, repository: repositoryName(r) } };
  });
}

/** A config's platform as it says it, fields it lacks named as missing (`linux/(no architecture)`). */
function platformText(p: Partial<Platform>): string {
  return `${p.os || '(no os)'}/${p.architecture || '(no architecture)'}${p.variant ? `/${p.variant}` : ''}`;
}

async function smallBlob(client: RegistryClient, repo: string, d: Descriptor, name: string): Promise<Buffer> {
  if (d.size > MAX_DOCUMENT) throw new GamelayerError('base.json', `base image ${name}: config ${d.digest} is ${d.size} bytes, too big for an image config`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of (await client.getBlob(repo, d.digest)) as Readable) {
    n += (c as Buffer).length;
    if (n > MAX_DOCUMENT) throw new GamelayerError('base.json', `base image ${name}: config ${d.digest} is larger than ${MAX_DOCUMENT} bytes`);
    chunks.push(c as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  if (sha256Digest(bytes) !== d.digest) throw mismatch(name, `config ${d.digest}`, sha256Digest(bytes));
  return bytes;
}

function parse(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new GamelayerError('base.json', `${what}: not valid JSON: ${(e as Error).message}`);
  }
}

function mismatch(name: string, what: string, got: string): GamelayerError {
  return new GamelayerError('base.blob-corrupt', `base image ${name}: the registry sent a ${what} that hashes to ${got}`, 'the registry (or something between) altered the content: nothing was used');
}

/** Registry errors while reading a base say which base; the registry's own code and hint are kept. */
async function withBaseContext<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof GamelayerError && e.code === 'store.blob-corrupt') {
      // Bytes from the registry that do not match their digest: the registry's fault, and nothing was stored.
      throw new GamelayerError('base.blob-corrupt', `base image ${name}: the registry sent ${e.message}`, 'the registry (or something between) altered the content; nothing was stored', { cause: e });
    }
    if (e instanceof GamelayerError && !e.code.startsWith('base.') && !e.code.startsWith('store.')) {
      const hint =
        // By code, not by the message: a port such as 40397 holds "403".
        e.code === 'registry.auth' || e.code === 'registry.unauthorized' || e.code === 'registry.denied'
          ? 'the base is read with the credentials of a push: docker login to its registry (or a credential helper / ECR role)'
          : e.code === 'registry.not-found'
            ? 'check the base image reference (repository and tag) in gamelayer.yaml'
            : e.hint;
      throw new GamelayerError(`base.pull`, `base image ${name}: ${e.message}`, hint, { cause: e });
    }
    throw e;
  }
}
