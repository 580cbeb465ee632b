// What prune reads of an image index: the descriptors its `manifests` lists (which images it names, which one is a
// build record). A registry, a proxy in front of it or anyone who may push decides those bytes, so they are checked
// here, once, for prune.ts, prune-records.ts and prune-ecr.ts alike: a document that is not JSON, or whose
// `manifests` is not a list of descriptors, is an error naming the repository and the reference, before anything is
// deleted on its word (never a SyntaxError or a TypeError from deep inside a loop).
import { GamelayerError } from '../errors.js';
import type { RegistryClient } from './client.js';
import { isIndexDocument } from '../oci/media-types.js';

/** One checked entry of an index's `manifests`. */
export interface IndexEntry {
  digest: string;
  mediaType?: string;
  artifactType?: string;
  platform?: { os?: string };
}

/** An index as read from the registry: its bytes as served (to put again), their digest, its checked entries. */
export interface ReadIndex {
  bytes: Buffer;
  digest: string;
  mediaType: string;
  manifests: IndexEntry[];
}

/** The OCI digest grammar (algorithm ":" encoded): a descriptor's digest names the next request or delete. */
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const HINT =
  'something other than the registry answered (a proxy, a login page), or the registry holds a document under that name that is not an image index: ' +
  'check the registry address and proxy settings; if the registry really holds it, delete that tag by hand and run again';

/** `host/repo:tag` or `host/repo@sha256:…`: the name the error gives. */
export function manifestName(client: RegistryClient, repo: string, reference: string): string {
  return `${client.host}/${repo}${reference.includes(':') ? '@' : ':'}${reference}`;
}

/** GETs the index `reference` of `repo` and checks it: by digest, the bytes must hash to it. */
export async function readIndex(client: RegistryClient, repo: string, reference: string): Promise<ReadIndex> {
  const got = await client.getManifest(repo, reference);
  const where = manifestName(client, repo, reference);
  if (reference.startsWith('sha256:') && got.digest !== reference) {
    throw new GamelayerError('registry.digest', `${where}: the index the registry sent hashes to ${got.digest}`, HINT);
  }
  return { bytes: got.bytes, digest: got.digest, mediaType: got.mediaType, manifests: indexEntries(got.bytes, where) };
}

/**
 * The manifests one prune run has read, by the digest their bytes hash to. A manifest is content: once read (and
 * hashed by the client) it is listed from memory, never fetched again, so prune-records.ts and prune-ecr.ts take
 * the lists of the indexes prune.ts read to plan instead of a second GET of each.
 */
export class ManifestReads {
  private readonly byDigest = new Map<string, { bytes: Buffer; digest: string; mediaType: string; manifests?: IndexEntry[] }>();

  constructor(
    private readonly client: RegistryClient,
    private readonly repo: string,
  ) {}

  /**
   * Whether the manifest `digest` is an index, judged by its document (its mediaType, its `manifests`) as
   * base-pull.ts judges one, not by the Content-Type a registry or a proxy answered: read once, its bytes checked.
   */
  async isIndex(digest: string, tag?: string): Promise<boolean> {
    const where = manifestName(this.client, this.repo, tag ?? digest);
    let kept = this.byDigest.get(digest);
    if (!kept) {
      const got = await this.client.getManifest(this.repo, digest);
      if (got.digest !== digest) throw new GamelayerError('registry.digest', `${where}: the manifest the registry sent for ${digest} hashes to ${got.digest}`, HINT);
      kept = { bytes: got.bytes, digest: got.digest, mediaType: got.mediaType };
      this.byDigest.set(digest, kept);
    }
    const doc = manifestObject(kept.bytes, where);
    return isIndexDocument(doc);
  }

  /** A manifest read elsewhere (its bytes, and the digest the client computed from them). */
  keep(got: { bytes: Buffer; digest: string; mediaType: string }): void {
    if (!this.byDigest.has(got.digest)) this.byDigest.set(got.digest, { bytes: got.bytes, digest: got.digest, mediaType: got.mediaType });
  }

  /**
   * The index `reference` (a tag or a digest), checked: from memory when `reference`, or the digest `expected` a
   * HEAD gave for the tag, was read before; else fetched (and kept).
   */
  async index(reference: string, expected?: string): Promise<ReadIndex> {
    const kept = this.byDigest.get(expected ?? reference) ?? this.byDigest.get(reference);
    if (!kept) {
      const read = await readIndex(this.client, this.repo, reference);
      // Prune deletes on what this lists: a tag moved since the HEAD (or an answer of other bytes) must not decide.
      if (expected !== undefined && read.digest !== expected) {
        throw new GamelayerError('registry.digest', `${manifestName(this.client, this.repo, reference)}: the index the registry sent hashes to ${read.digest}, not ${expected} as it said`, HINT);
      }
      this.byDigest.set(read.digest, read);
      return read;
    }
    kept.manifests ??= indexEntries(kept.bytes, manifestName(this.client, this.repo, reference));
    return { bytes: kept.bytes, digest: kept.digest, mediaType: kept.mediaType, manifests: kept.manifests };
  }
}

/** The checked `manifests` of index bytes read as `where`. */
export function indexEntries(bytes: Buffer, where: string): IndexEntry[] {
  const doc = manifestObject(bytes, where);
  const list = doc.manifests;
  if (!Array.isArray(list)) {
    throw bad(where, `its "manifests" is ${list === undefined ? 'missing' : `${kind(list)}, not a list`}: not an image index`);
  }
  return list.map((m: unknown, i) => {
    const at = `manifests[${i}]`;
    if (!isObject(m)) throw bad(where, `${at} is ${kind(m)}, not a descriptor`);
    if (typeof m.digest !== 'string' || !DIGEST.test(m.digest)) throw bad(where, `${at}.digest is ${typeof m.digest === 'string' ? `"${m.digest.slice(0, 80)}"` : kind(m.digest)}, not a digest`);
    for (const field of ['mediaType', 'artifactType'] as const) {
      if (m[field] !== undefined && typeof m[field] !== 'string') throw bad(where, `${at}.${field} is ${kind(m[field])}, not a string`);
    }
    if (m.platform !== undefined && !(isObject(m.platform) && (m.platform.os === undefined || typeof m.platform.os === 'string'))) {
      throw bad(where, `${at}.platform is not a platform (an object whose os is a string)`);
    }
    return m as unknown as IndexEntry;
  });
}

/** The media type a manifest's document gives itself (the type a put must send), else `fallback`. */
export function documentMediaType(bytes: Buffer, where: string, fallback: string): string {
  const type = manifestObject(bytes, where).mediaType;
  return typeof type === 'string' && type ? type : fallback;
}

/** Manifest bytes as a JSON object (any manifest: prune also reads a record's annotations and an SBOM's subject). */
export function manifestObject(bytes: Buffer, where: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw bad(where, `not JSON (${(e as Error).message.slice(0, 120)})`, e);
  }
  if (!isObject(doc)) throw bad(where, `${kind(doc)}, not a manifest (a JSON object)`);
  return doc;
}

function bad(where: string, what: string, cause?: unknown): GamelayerError {
  return new GamelayerError('registry.bad-answer', `${where}: ${what}`, HINT, cause === undefined ? undefined : { cause });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : typeof v === 'string' ? 'a string' : `${typeof v} ${String(v).slice(0, 40)}`;
}
