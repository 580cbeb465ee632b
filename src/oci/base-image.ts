// The image our layers go on: read from an OCI layout dir, an OCI archive or a `docker save` archive.
// Its layer blobs are copied into our store byte for byte (by digest, never recompressed), so the base
// layers keep the digests every node already has.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type * as tar from 'tar-stream';
import { GamelayerError } from '../errors.js';
import { tarExtract } from '../util/tar-extract.js';
import type { Descriptor } from '../types.js';
import { formatPlatform, type ImageConfig, type Platform } from './image.js';
import { BlobMismatch, byteRange, VerifyDigest } from './blob-verify.js';
import { INDEX_MEDIA_TYPE, layoutBlob, REF_NAME, sha256Digest } from './layout.js';
import type { Layer } from './model.js';
import type { FoldersSeen } from './base-folders.js';
import { putLocalBaseLayer, unreadableBaseLayer, verifyBaseDiffId } from './base-diffid.js';
import { OciStore } from './store.js';
import { ArchiveDocuments } from './archive-documents.js';
import { openArchive } from './archive-file.js';
import { ArchiveLinks, memberName } from './archive-links.js';
import { baseConfig, baseIndexEntries, baseManifest, dockerManifestEntries } from './base-documents.js';
import { INDEX_MEDIA_TYPES } from './media-types.js';
import { samePlatform } from './platform-match.js';

/**
 * A base image as the image model sees it: its layers are model layers (digest, diffID, size, media type, and an
 * `open()` that verifies while it streams, from wherever the base is: a layout, an archive, a registry), plus what
 * only a base has: the reference as written, its parsed config, and a copy of its layers into the store.
 */
export interface BaseImage {
  /** The reference as given, e.g. `oci:/images/busybox:1.36`; `scratch` for none. */
  ref: string;
  /** undefined for scratch. */
  config?: ImageConfig;
  platform?: Platform;
  /** Media types carried over to their OCI names (same bytes). */
  layers: Layer[];
  diffIDs: string[];
  /** The manifest digest, when the source keeps the manifest (OCI layout or archive; not docker-archive). */
  digest?: string;
  /**
   * Copies the base layer blobs missing from `store` into it, verified against their digests, and fills `seen` with
   * the folders at `seen.paths` of each layer it copies (read on the way in, from a registry, a layout or an archive:
   * oci/base-parents.ts then reads none of them again).
   */
  copyLayersInto(store: OciStore, seen?: FoldersSeen): Promise<void>;
  /** A base read from a registry: the platform manifest it resolved to (pinned in the build record) and where. */
  pinned?: { digest: string; repository: string };
}

/**
 * A blob of a base layout that is missing or damaged, as the base's error (`base.blob-missing`, `base.blob-corrupt`):
 * the store's hint ("run gamelayer build again: it … rebuilds a damaged layer") would send the user round in circles.
 */
function baseBlobError(ref: string): (e: unknown) => never {
  return (e) => {
    if (!(e instanceof GamelayerError) || !['store.blob-missing', 'store.blob-corrupt', 'store.blob-too-big'].includes(e.code)) throw e;
    throw new GamelayerError(
      e.code === 'store.blob-missing' ? 'base.blob-missing' : 'base.blob-corrupt',
      `base image ${ref}: ${e.message}`,
      "the base image's layout is damaged or incomplete: copy it again (skopeo copy … oci:DIR:TAG)",
      { cause: e },
    );
  };
}

export type BaseRef =
  | { kind: 'scratch' }
  | { kind: 'oci'; dir: string; tag?: string }
  | { kind: 'oci-archive'; file: string; tag?: string }
  | { kind: 'docker-archive'; file: string; ref?: string }
  /** An image in a registry (`ubuntu:22.04`, `host/repo:tag`, `…@sha256:…`): read by the registry stage. */
  | { kind: 'registry'; ref: string };

/** A registry reference as gamelayer.yaml's schema accepts it: `[host[:port]/]path[:tag][@sha256:…]`. */
const REGISTRY_REF =
  /^(?:(?:[a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** Parses `scratch`, `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME:TAG]` (skopeo's syntax). */
export function parseBaseRef(ref: string, baseDir = process.cwd()): BaseRef {
  if (ref === 'scratch') return { kind: 'scratch' };
  const m = /^(oci|oci-archive|docker-archive):([^:]+)(?::(.+))?$/.exec(ref);
  if (!m && REGISTRY_REF.test(ref)) return { kind: 'registry', ref };
  if (!m) {
    throw new GamelayerError(
      'base.ref',
      `base image "${ref}" is not scratch, oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG] or a registry reference ([host/]repo[:tag][@sha256:…])`,
      'e.g. ubuntu:22.04, public.ecr.aws/amazonlinux/amazonlinux:2023, or a local copy: `skopeo copy docker://busybox oci:base:latest`',
    );
  }
  const where = path.resolve(baseDir, m[2]!);
  const rest = m[3];
  switch (m[1]) {
    case 'oci':
      return { kind: 'oci', dir: where, tag: rest };
    case 'oci-archive':
      return { kind: 'oci-archive', file: where, tag: rest };
    default:
      return { kind: 'docker-archive', file: where, ref: rest };
  }
}

const DOCKER_TO_OCI: Record<string, string> = {
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar': 'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.docker.image.rootfs.diff.tar.zstd': 'application/vnd.oci.image.layer.v1.tar+zstd',
};

/** Same bytes, OCI name: our manifests are OCI, and these media types mean the same layer format. */
function ociLayer(d: Descriptor, where: string): Descriptor {
  const mediaType = DOCKER_TO_OCI[d.mediaType] ?? d.mediaType;
  if (!/^application\/vnd\.oci\.image\.layer\.v1\.tar(\+gzip|\+zstd)?$/.test(mediaType)) {
    throw new GamelayerError('base.layer-type', `${where}: layer ${d.digest} has media type ${d.mediaType}, which gamelayer cannot carry over`);
  }
  return { mediaType, digest: d.digest, size: d.size };
}

export interface LoadBaseOptions {
  /** Relative paths in the reference resolve against this (the config's directory). */
  baseDir?: string;
  /** Wanted platform when the base is a multi-platform index. */
  platform?: Platform;
}

export async function loadBaseImage(ref: string, options: LoadBaseOptions = {}): Promise<BaseImage> {
  const base = await loadLocalBase(ref, options);
  // As a registry base is held (registry/base-pull.ts): the image's own config says what it runs on. A local base of
  // another platform built images of the wanted one on its binaries, which fail on a node with "exec format error".
  const wanted = options.platform;
  if (wanted && base.platform && !samePlatform(base.platform, wanted)) {
    throw new GamelayerError('base.platform', `base image ${ref}: its image is for ${formatPlatform(base.platform)}, not ${formatPlatform(wanted)}`, 'build only the platforms the base image has (platforms in gamelayer.yaml, --platform), or pick another base');
  }
  return base;
}

async function loadLocalBase(ref: string, options: LoadBaseOptions): Promise<BaseImage> {
  const parsed = parseBaseRef(ref, options.baseDir);
  switch (parsed.kind) {
    case 'scratch':
      return { ref, layers: [], diffIDs: [], copyLayersInto: async () => {} };
    case 'oci': {
      const src = await OciStore.open(parsed.dir, { create: false });
      // A damaged blob here is the base layout's: its own code and hint (a build again would not mend it).
      const blobs: BlobReader = {
        small: (d) => src.readBlob(d).catch(baseBlobError(ref)),
        copy: async (store, layers, seen, hashed) => {
          for (const l of layers) {
            // Copied again unless the copy in the store is known good (a damaged one is replaced).
            if ((await store.checkBlob(l.digest, l.size)).status === 'ok') continue;
            try {
              await putLayer(store, await src.openBlob(l.digest, l.size), l, seen, hashed);
            } catch (e) {
              baseBlobError(ref)(e);
            }
          }
        },
      };
      return fromLayout(ref, parsed.dir, (await src.readIndex()).manifests, parsed.tag, blobs, (d, diffID) => layoutBlob(parsed.dir, d, diffID), options.platform);
    }
    case 'oci-archive': {
      const small = await readSmallMembers(parsed.file);
      const indexBytes = small.get('index.json');
      if (!indexBytes) throw new GamelayerError('base.not-layout', `${parsed.file}: no index.json; not an OCI archive`);
      const blobs: BlobReader = {
        small: async (d) => {
          const member = `blobs/sha256/${d.slice('sha256:'.length)}`;
          const b = small.get(member);
          if (!b) throw new GamelayerError('base.blob-missing', `${parsed.file}: blob ${d} is missing`);
          if (sha256Digest(b) !== d) throw new GamelayerError('base.blob-corrupt', `${parsed.file}: blob ${d} does not match its digest`);
          return b;
        },
        copy: (store, layers, seen, hashed) => copyArchiveMembers(parsed.file, store, new Map(layers.map((l) => [`blobs/sha256/${l.digest.slice(7)}`, l])), hashed, seen),
      };
      const blobOf: LayerOf = (d, diffID) => archiveLayer(parsed.file, `blobs/sha256/${d.digest.slice(7)}`, d, diffID);
      const entries = baseIndexEntries(parseJson(indexBytes, `${parsed.file}:index.json`), `${parsed.file}:index.json`);
      return fromLayout(ref, parsed.file, entries, parsed.tag, blobs, blobOf, options.platform);
    }
    case 'docker-archive':
      return fromDockerArchive(ref, parsed.file, parsed.ref);
    case 'registry':
      throw new GamelayerError(
        'base.registry',
        `base image "${ref}" is in a registry: this command reads local bases only`,
        'gamelayer build reads it from the registry; here, give a local copy (skopeo copy docker://… oci:DIR:TAG)',
      );
  }
}

/**
 * A base image from its manifest's layers and its config's bytes, as every source makes it (exported for the
 * registry stage): layer media types carried over to OCI, diff_ids checked against the layers.
 */
export function baseFromParts(ref: string, where: string, configBytes: Buffer, manifestLayers: Descriptor[], copy: (s: OciStore, seen?: FoldersSeen) => Promise<void>, layerOf: LayerOf): BaseImage {
  const config = baseConfig(parseJson(configBytes, `${where} config`), `${where} config`);
  return finish(ref, where, config, manifestLayers.map((l) => ociLayer(l, where)), copy, layerOf);
}

/** A base layer as the model's layer, from the descriptor (media type carried over to OCI) and its diff_id. */
export type LayerOf = (d: Descriptor, diffID: string) => Layer;

/**
 * A member of an archive (an OCI or docker-save archive) as a model layer: its bytes are found by one walk of the
 * archive when opened, and verified as they stream.
 */
function archiveLayer(file: string, member: string, d: Descriptor, diffID: string): Layer {
  const where = `${file}:${member}`;
  let damaged: BlobMismatch | undefined;
  const open = (start = 0, end = d.size - 1): Readable => {
    const out = new PassThrough();
    let found = false;
    walkArchive(file, async (name, header, body) => {
      if (found || name !== member || header.type !== 'file') return;
      found = true;
      const verify = new VerifyDigest(where, d.digest, d.size, undefined, (w, what) => (damaged = new BlobMismatch(w, what)));
      const parts: NodeJS.ReadWriteStream[] = [verify];
      if (start !== 0 || end !== d.size - 1) parts.push(byteRange(start, end));
      await pipeline([Readable.from(body), ...parts, out] as unknown as [Readable, PassThrough]);
    }).then(
      () => {
        if (!found) out.destroy(new GamelayerError('base.blob-missing', `${file}: layer ${d.digest} (${member}) is missing`));
      },
      (e: unknown) => out.destroy(e as Error),
    );
    return out;
  };
  return { mediaType: d.mediaType, digest: d.digest, size: d.size, diffID, origin: where, open, damage: () => damaged };
}


/** Copies a local base's layers into the store, noting in `hashed` (layer digest → tar digest) each tar it hashed. */
type LocalCopy = (store: OciStore, layers: Descriptor[], seen: FoldersSeen | undefined, hashed: Map<string, string>) => Promise<void>;

interface BlobReader {
  small(digest: string): Promise<Buffer>;
  copy: LocalCopy;
}

/**
 * Stores one layer blob of a local base, its tar hashed on the way (into `hashed`, for the diff_id check of
 * finishLocal); with `seen`, the tar is walked for the folders at `seen.paths` in the same pass (oci/base-parents.ts
 * then reads it no more), as a registry base's layer is on its download.
 */
async function putLayer(store: OciStore, content: Readable, d: Descriptor, seen: FoldersSeen | undefined, hashed: Map<string, string>): Promise<void> {
  const put = await putLocalBaseLayer(store, content, { digest: d.digest, size: d.size, mediaType: d.mediaType }, seen && new Set(seen.paths));
  if (put.diffID) hashed.set(d.digest, put.diffID);
  if (seen && put.folders) seen.layers.set(d.digest, put.folders);
}

function parseJson(bytes: Buffer, where: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (e) {
    throw new GamelayerError('base.json', `${where}: not valid JSON: ${(e as Error).message}`);
  }
}

async function fromLayout(
  ref: string,
  where: string,
  entries: Descriptor[],
  tag: string | undefined,
  blobs: BlobReader,
  layerOf: LayerOf,
  wanted?: Platform,
): Promise<BaseImage> {
  let desc: Descriptor | undefined;
  if (tag !== undefined) {
    desc = entries.find((m) => m.annotations?.[REF_NAME] === tag);
    if (!desc) {
      const tags = entries.map((m) => m.annotations?.[REF_NAME]).filter(Boolean);
      throw new GamelayerError('base.tag', `${where}: no image tagged "${tag}" (tags: ${tags.join(', ') || 'none'})`);
    }
  } else {
    if (entries.length !== 1) {
      throw new GamelayerError('base.ambiguous', `${where}: holds ${entries.length} images; name one with :TAG`);
    }
    desc = entries[0]!;
  }
  // A multi-platform index: take the wanted platform's manifest.
  let picked = false;
  while (INDEX_MEDIA_TYPES.has(desc.mediaType)) {
    const at = `${where} index ${desc.digest}`;
    const inner = baseIndexEntries(parseJson(await blobs.small(desc.digest), at), at);
    const pick: Descriptor | undefined = wanted
      ? inner.find((m) => m.platform && formatPlatform(m.platform) === formatPlatform(wanted))
      : inner.length === 1
        ? inner[0]
        : undefined;
    if (!pick) {
      const have = inner.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(', ');
      throw new GamelayerError('base.platform', `${ref}: no manifest for ${wanted ? formatPlatform(wanted) : 'a single platform'} (has ${have})`);
    }
    desc = pick;
    picked = true;
  }
  const manifestAt = `${where} manifest ${desc.digest}`;
  const manifest = baseManifest(parseJson(await blobs.small(desc.digest), manifestAt), manifestAt);
  const configAt = `${where} config ${manifest.config.digest}`;
  const config = baseConfig(parseJson(await blobs.small(manifest.config.digest), configAt), configAt);
  const layers = manifest.layers.map((l) => ociLayer(l, where));
  // The index's word for a platform is only a label (a broken or hostile index lists an amd64 image as arm64).
  if (wanted && picked && !samePlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) }, wanted)) {
    const says = formatPlatform({ os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) });
    throw new GamelayerError('base.platform', `base image ${ref}: its index lists ${desc.digest} as ${formatPlatform(wanted)}, but that image's config says ${says}`, "the base image's index is broken or not to be trusted: copy the base again, or pick another");
  }
  return { ...finishLocal(ref, where, config, layers, blobs.copy, layerOf), digest: desc.digest };
}

/**
 * `finish` for a local base: its copy into the store then holds each layer's tar against the config's diff_id, as a
 * registry base's download does (base-diffid.ts; once per layer, then known by its marker). A local base whose
 * config lied passed: every image built on it was refused by the runtime at pull.
 */
function finishLocal(ref: string, where: string, config: ImageConfig, layers: Descriptor[], copy: LocalCopy, layerOf: LayerOf): BaseImage {
  const diffIDs = config.rootfs?.diff_ids ?? [];
  const copyChecked = async (store: OciStore, seen?: FoldersSeen) => {
    const hashed = new Map<string, string>();
    await copy(store, layers, seen, hashed);
    for (const [i, l] of layers.entries()) {
      await verifyBaseDiffId(store, { ...l, diffID: diffIDs[i]! }, ref, i, hashed.get(l.digest), (e) => unreadableBaseLayer(l.digest, e));
    }
  };
  return finish(ref, where, config, layers, copyChecked, layerOf);
}

function finish(ref: string, where: string, config: ImageConfig, layers: Descriptor[], copy: (s: OciStore, seen?: FoldersSeen) => Promise<void>, layerOf: LayerOf): BaseImage {
  const diffIDs = config.rootfs?.diff_ids ?? [];
  if (diffIDs.length !== layers.length) {
    throw new GamelayerError('base.diff-ids', `${where}: the config lists ${diffIDs.length} diff_ids for ${layers.length} layers`);
  }
  const platform: Platform = { architecture: config.architecture, os: config.os, ...(config.variant ? { variant: config.variant } : {}) };
  return { ref, config, platform, layers: layers.map((d, i) => layerOf(d, diffIDs[i]!)), diffIDs, copyLayersInto: copy };
}

/** One pass over an archive: its JSON members (index, manifests, configs), by normalised name (archive-documents.ts). */
async function readSmallMembers(file: string): Promise<ArchiveDocuments> {
  const out = new ArchiveDocuments(file);
  await walkArchive(file, async (name, header, body) => {
    if (header.type !== 'file') return;
    const chunks: Buffer[] = [];
    let wanted: boolean | undefined;
    for await (const c of body) {
      wanted ??= out.wants(name, header.size ?? 0, c as Buffer);
      if (wanted) chunks.push(c as Buffer);
    }
    if (wanted ?? out.wants(name, header.size ?? 0, Buffer.alloc(0))) out.keep(name, Buffer.concat(chunks));
  });
  return out;
}

/** Streams the listed members into the store, each checked against its descriptor (and walked for `seen`: putLayer). */
async function copyArchiveMembers(file: string, store: OciStore, wanted: Map<string, Descriptor>, hashed: Map<string, string>, seen?: FoldersSeen): Promise<void> {
  const todo = new Map<string, Descriptor>();
  for (const [name, d] of wanted) if ((await store.checkBlob(d.digest, d.size)).status !== 'ok') todo.set(name, d);
  if (todo.size === 0) return;
  await walkArchive(file, async (name, header, body) => {
    const d = todo.get(name);
    if (!d || header.type !== 'file') return;
    await putLayer(store, Readable.from(body), d, seen, hashed);
    todo.delete(name);
  });
  if (todo.size > 0) {
    throw new GamelayerError('base.blob-missing', `${file}: does not hold ${[...todo.keys()].join(', ')}`);
  }
}

type Visit = (name: string, header: tar.Header, body: AsyncIterable<unknown>) => Promise<void>;

/** Walks a tar (gzip-compressed or not) member by member; unread bodies are skipped. */
async function walkArchive(file: string, visit: Visit): Promise<void> {
  // Opened (and sniffed) first: a file that cannot be read (missing, a directory, a FIFO) fails here, before any
  // stream is made whose error would have no listener (it crashed the CLI with a stack trace).
  const { handle, gzip } = await openArchive(file);
  // Loaded when an archive is read, not with the module (util/tar-extract.ts).
  const extract = await tarExtract().catch(async (e: unknown) => {
    await handle.close();
    throw e;
  });
  // The same descriptor the sniff read (closed with the stream).
  const input = handle.createReadStream({ start: 0 });
  input.on('error', (e) => extract.destroy(new GamelayerError('base.unreadable', `${file}: cannot read: ${e.message}`)));
  if (gzip) {
    const gunzip = createGunzip();
    gunzip.on('error', (e) => extract.destroy(new GamelayerError('base.archive', `${file}: ${e.message}`)));
    input.pipe(gunzip).pipe(extract as unknown as NodeJS.WritableStream);
  } else input.pipe(extract as unknown as NodeJS.WritableStream);
  // A name held twice (`tar -r` appends a second copy): readers that take the first and readers that take the last
  // would disagree on the layer (the docker-save hash took the last, the store copy the first).
  const names = new Set<string>();
  try {
    for await (const entry of extract) {
      const name = memberName(entry.header.name);
      if (entry.header.type !== 'directory') {
        if (names.has(name)) throw new GamelayerError('base.archive', `${file}: holds the member ${name} twice (an archive appended to?): which copy is meant is unknown`, 'write the archive again (docker save, skopeo copy) rather than adding to it');
        names.add(name);
      }
      await visit(name, entry.header, entry);
      entry.resume();
    }
  } catch (e) {
    if (e instanceof GamelayerError) throw e;
    // tar-stream's own words for bytes that are not a tar ("Unexpected end of data", "Invalid tar header").
    throw new GamelayerError('base.archive', `${file}: not a readable tar archive: ${(e as Error).message}`);
  } finally {
    input.destroy();
  }
}

/** `busybox:1` → `docker.io/library/busybox:1`, as docker and skopeo write RepoTags. */
function normalizeDockerName(name: string): string {
  const firstSlash = name.indexOf('/');
  const first = firstSlash === -1 ? '' : name.slice(0, firstSlash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  const full = hasRegistry ? name : `docker.io/${firstSlash === -1 ? `library/${name}` : name}`;
  return /:[^/]+$/.test(full.slice(full.lastIndexOf('/'))) ? full : `${full}:latest`;
}


/** `docker save` output: manifest.json names the config and the layer files (plain tars, usually). */
async function fromDockerArchive(ref: string, file: string, name?: string): Promise<BaseImage> {
  // One pass reads the small JSON members and hashes every member, so layer descriptors are known
  // without holding layers in memory.
  const small = new ArchiveDocuments(file);
  const members = new Map<string, { digest: string; size: number; magic: Buffer }>();
  const links = new ArchiveLinks();
  await walkArchive(file, async (member, header, body) => {
    links.add(member, header.type, header.linkname);
    if (header.type !== 'file') return;
    const hash = createHash('sha256');
    const keep: Buffer[] = [];
    let magic: Buffer | undefined;
    let wanted: boolean | undefined;
    for await (const c of body) {
      const b = c as Buffer;
      magic ??= b.subarray(0, 4);
      wanted ??= small.wants(member, header.size ?? 0, b);
      hash.update(b);
      if (wanted) keep.push(b);
    }
    members.set(member, { digest: `sha256:${hash.digest('hex')}`, size: header.size ?? 0, magic: magic ?? Buffer.alloc(0) });
    if (wanted ?? small.wants(member, header.size ?? 0, Buffer.alloc(0))) small.keep(member, Buffer.concat(keep));
  });
  const manifestBytes = small.get('manifest.json');
  if (!manifestBytes) throw new GamelayerError('base.not-docker-archive', `${file}: no manifest.json; not a docker-save archive`);
  const entries = dockerManifestEntries(parseJson(manifestBytes, `${file}:manifest.json`), `${file}:manifest.json`);
  const wanted = name === undefined ? undefined : normalizeDockerName(name);
  const entry = wanted
    ? entries.find((e) => e.RepoTags?.some((t) => normalizeDockerName(t) === wanted))
    : entries.length === 1
      ? entries[0]
      : undefined;
  if (!entry) {
    const tags = entries.flatMap((e) => e.RepoTags ?? []).join(', ');
    throw new GamelayerError('base.tag', `${file}: ${name ? `no image named ${name}` : `holds ${entries.length} images; name one`} (has ${tags || 'no tags'})`);
  }
  const configBytes = small.get(entry.Config);
  if (!configBytes) throw new GamelayerError('base.blob-missing', `${file}: config ${entry.Config} is missing`);
  const config = baseConfig(parseJson(configBytes, `${file}:${entry.Config}`), `${file}:${entry.Config}`);
  const layerFiles = new Map<string, Descriptor>();
  const layers = entry.Layers.map((l, i) => {
    const found = links.resolve(l, (n) => members.has(n));
    if (found && 'outside' in found) throw new GamelayerError('base.archive', `${file}: layer ${l} is a link to ${found.outside}, outside the archive`);
    const m = found && members.get(found.member);
    if (!found || !m) throw new GamelayerError('base.blob-missing', `${file}: layer ${l} is missing`);
    const gz = m.magic[0] === 0x1f && m.magic[1] === 0x8b;
    const zst = m.magic.length >= 4 && m.magic.readUInt32LE(0) === 0xfd2fb528;
    const d: Descriptor = {
      mediaType: `application/vnd.oci.image.layer.v1.tar${gz ? '+gzip' : zst ? '+zstd' : ''}`,
      digest: m.digest,
      size: m.size,
    };
    if (!gz && !zst && config.rootfs?.diff_ids?.[i] !== m.digest) {
      throw new GamelayerError('base.diff-ids', `${file}: layer ${l} hashes to ${m.digest}, but the config says ${config.rootfs?.diff_ids?.[i]}`);
    }
    layerFiles.set(found.member, d);
    return d;
  });
  const member = new Map([...layerFiles].map(([name, d]) => [d.digest, name]));
  return finishLocal(ref, file, config, layers, (store, _layers, seen, hashed) => copyArchiveMembers(file, store, layerFiles, hashed, seen), (d, diffID) => archiveLayer(file, member.get(d.digest)!, d, diffID));
}
