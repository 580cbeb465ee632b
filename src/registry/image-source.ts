// A registry as a source of the image model: manifests are fetched (and checked against the digest that named
// them) when the image is read; config bytes too (small, for the diff_ids); layer blobs only when a sink opens them,
// each GET verified as it streams (the last chunk is held back until the digest matches), so a registry or proxy
// that alters a blob is caught before any sink keeps it whole.
import { createHash } from 'node:crypto';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { byteRange, VerifyDigest } from '../oci/blob-verify.js';
import { documentRefsOf, isDigest, type ShapeError } from '../oci/document-shape.js';
import { MAX_MANIFESTS, MEDIA_TYPES, sha256Digest } from '../oci/layout.js';
import type { AnyImage, Image, ImageBlob, ImageManifest, IndexDocument, Layer } from '../oci/model.js';
import type { Descriptor } from '../types.js';
import type { RegistryClient } from './client.js';

const MAX_CONFIG = 16 << 20;

function digestError(where: string, what: string): GamelayerError {
  return new GamelayerError('registry.digest', `${where}: ${what}`, 'the registry (or a proxy between) altered or mixed up the content: nothing of it was kept');
}

/** A blob of `repo` as a model blob: fetched when opened, verified while it streams. */
export function registryBlob(client: RegistryClient, repo: string, d: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>, diffID?: string): Layer {
  const where = `${client.host}/${repo} blob ${d.digest}`;
  let damaged: GamelayerError | undefined;
  const open = (start = 0, end = d.size - 1): Readable => {
    const out = new PassThrough();
    client.getBlob(repo, d.digest).then(
      (body) => {
        const verify = new VerifyDigest(where, d.digest, d.size, undefined, (w, what) => (damaged = digestError(w, what)));
        const parts: NodeJS.ReadWriteStream[] = [verify];
        if (start !== 0 || end !== d.size - 1) parts.push(byteRange(start, end));
        pipeline([body, ...parts, out] as unknown as [Readable, PassThrough], (e) => {
          if (e) out.destroy(e);
        });
      },
      (e: unknown) => out.destroy(e as Error),
    );
    return out;
  };
  return {
    mediaType: d.mediaType,
    digest: d.digest,
    size: d.size,
    ...(diffID ? { diffID } : {}),
    origin: `${client.base.origin}/v2/${repo}/blobs/${d.digest}`,
    open,
    damage: () => damaged,
    actualDigest: async () => {
      const hash = createHash('sha256');
      for await (const c of await client.getBlob(repo, d.digest)) hash.update(c as Buffer);
      return `sha256:${hash.digest('hex')}`;
    },
  };
}

async function readAll(s: Readable, limit: number, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of s) {
    n += (c as Buffer).length;
    if (n > limit) throw new GamelayerError('registry.protocol', `${where}: larger than ${limit} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

function parse<T>(bytes: Buffer, where: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (e) {
    throw new GamelayerError('registry.protocol', `${where}: not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * An image (or index) of `repo` by tag or digest, as the model: every manifest checked against the digest that
 * names it (a tag's against the one the index that lists it says) and for its shape (document-shape.ts: a registry
 * may serve any JSON under a sound digest), the config read and verified, the layers lazy.
 */
export async function readRegistryImage(client: RegistryClient, repo: string, reference: string, listed?: Descriptor): Promise<AnyImage> {
  const image = `${client.host}/${repo}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`;
  return readImage(client, repo, reference, listed, { left: MAX_MANIFESTS, image });
}

const protocolError: ShapeError = (message) => new GamelayerError('registry.protocol', message, 'the registry serves a document no image tool writes: push the image again');

/** `rootfs.diff_ids` of a parsed config: a list of digests, or none (a config without them gives layers no diff_id). */
function diffIdsOf(config: unknown, where: string): string[] {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw protocolError(`${where}: not a JSON object`);
  const rootfs = (config as { rootfs?: unknown }).rootfs;
  if (rootfs === undefined || rootfs === null) return [];
  const ids = typeof rootfs === 'object' ? (rootfs as { diff_ids?: unknown }).diff_ids : rootfs;
  if (ids === undefined) return [];
  if (!Array.isArray(ids) || !ids.every((d) => typeof d === 'string' && isDigest(d))) throw protocolError(`${where}: rootfs.diff_ids: not a list of digests`);
  return ids as string[];
}

async function readImage(client: RegistryClient, repo: string, reference: string, listed: Descriptor | undefined, budget: { left: number; image: string }): Promise<AnyImage> {
  const m = await client.getManifest(repo, reference);
  const expected = listed?.digest ?? (reference.startsWith('sha256:') ? reference : undefined);
  // The image as asked for, or a manifest an index of it lists: errors name both.
  const where = listed ? `${client.host}/${repo}@${m.digest} (listed by ${budget.image})` : reference.startsWith('sha256:') ? budget.image : `${budget.image} (${m.digest})`;
  if (expected !== undefined && m.digest !== expected) throw digestError(`${client.host}/${repo} manifest ${expected}`, `content hashes to ${m.digest}`);
  const doc = parse<unknown>(m.bytes, `${where} manifest`);
  const refs = documentRefsOf(doc, where, '', protocolError);
  const fields = doc as { mediaType?: unknown; manifests?: unknown; layers?: unknown };
  const mediaType = typeof fields.mediaType === 'string' ? fields.mediaType : m.mediaType;
  const descriptor: Descriptor = { ...(listed ?? {}), mediaType, digest: m.digest, size: m.bytes.length };
  if (mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList || fields.manifests !== undefined) {
    const manifests: AnyImage[] = [];
    for (const child of refs.manifests) {
      // Each listing is read (the model holds each): an index listing the same index twice, 30 deep, is 2^30 reads.
      if (--budget.left < 0) {
        throw new GamelayerError('registry.protocol', `${budget.image}: lists more than ${MAX_MANIFESTS} manifests, counting those its nested indexes list (index ${m.digest} among them)`);
      }
      manifests.push(await readImage(client, repo, child.digest, child, budget));
    }
    return { kind: 'index', descriptor, bytes: m.bytes, index: doc as IndexDocument, manifests };
  }
  if (!refs.config || fields.layers === undefined) throw new GamelayerError('registry.protocol', `${where}: not an image manifest (no config or layers)`);
  const configRef = refs.config;
  const config = registryBlob(client, repo, configRef);
  const configWhere = `${where} config ${configRef.digest}`;
  const configBytes = await readAll(config.open(), MAX_CONFIG, configWhere);
  if (sha256Digest(configBytes) !== configRef.digest) throw digestError(`${where} config`, `content hashes to ${sha256Digest(configBytes)}`);
  const diffIDs = diffIdsOf(parse<unknown>(configBytes, configWhere), configWhere);
  const layers = refs.layers;
  const image: Image = {
    kind: 'image',
    descriptor,
    bytes: m.bytes,
    manifest: doc as ImageManifest,
    config: config as ImageBlob,
    layers: layers.map((l, i) => registryBlob(client, repo, l, diffIDs.length === layers.length ? diffIDs[i] : undefined)),
  };
  return image;
}
