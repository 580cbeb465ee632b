// What a registry repository holds: its tags (tags list API), each tag's manifest digest, kind and size.
// Build records are tags ending in `.gamelayer-record` (registry/artifact.ts RECORD_TAG_SUFFIX), naming a record index or
// manifest; a line tag `gamelayer-line.<line>` names the same record as the line's newest build's record tag. A tag is
// labelled a record by what it names (the build-record artifact type), never by its name alone: a tag so named that
// points at an image is listed as the image it is.
import pLimit from 'p-limit';
import { LINE_TAG_PREFIX, RECORD_TAG_SUFFIX, REVISION_ANNOTATION } from '../registry/artifact.js';
import { LEFT_NOTE_ARTIFACT_TYPE, LEFT_TAG_SUFFIX } from '../registry/prune-left-notes.js';
import type { RegistryClient } from '../registry/client.js';
import { GamelayerError } from '../errors.js';
import { isIndexDocument } from '../oci/media-types.js';

export type RemoteKind = 'image' | 'index' | 'record' | 'note' | 'other';

export interface RemoteTagRow {
  tag: string;
  digest: string;
  mediaType: string;
  kind: RemoteKind;
  /** Manifest plus config and layers (for an index: the index and every platform's manifest, config and layers, each blob once). */
  size: number;
  /** For a record tag: the image tag it describes (for a line tag: that of the record tag with its digest). */
  recordOf?: string;
  /** For a line tag `gamelayer-line.<line>`: the line. */
  line?: string;
  /** For a record tag: the commit that built it, as its index's annotation says (a CodeBuild build). */
  revision?: string;
  /** For prune's note of the tags it left (`<build>.gamelayer-left`, prune-left-notes.ts): that build. */
  leftOf?: string;
}


interface ManifestDoc {
  mediaType?: string;
  artifactType?: string;
  config?: { digest?: string; size: number; mediaType?: string };
  layers?: { digest?: string; size: number }[];
  manifests?: { digest: string; size: number; artifactType?: string }[];
  annotations?: Record<string, unknown>;
}

const RECORD_ARTIFACT = 'application/vnd.gamelayer.build-record';

export async function listRemote(client: RegistryClient, repo: string, concurrency = 8): Promise<RemoteTagRow[]> {
  // An empty table ("0 tags") for a repository that is not there hid a misspelt name or the wrong registry.
  const listed = await client.listTagsOfExisting(repo, 'check the repository name and the registry; build --push creates it (on Amazon ECR: with --create-repo)');
  const tags = listed.sort();
  const limit = pLimit(concurrency);
  const rows: RemoteTagRow[] = await Promise.all(
    tags.map((tag) =>
      limit(async () => {
        const m = await client.getManifest(repo, tag);
        const doc = manifestDoc(m.bytes, `${client.host}/${repo}:${tag}`);
        // The document says what it is (as base-pull.ts judges one), not the Content-Type a registry or proxy sent:
        // a manifest served as an index was listed as an empty index, an index served as application/json as other.
        const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : m.mediaType || '';
        const isRecord = isRecordDoc(doc);
        let size = m.size;
        let kind: RemoteKind;
        if (isIndexDocument(doc)) {
          kind = 'index';
          // Each blob once: the platforms of a game share their media layers, which the registry holds once.
          const seen = new Set<string>();
          for (const child of doc.manifests ?? []) {
            // A record's index also names the server image it describes (its own row): the record's size is its own.
            if (isRecord && !child.artifactType?.startsWith(RECORD_ARTIFACT)) continue;
            if (seen.has(child.digest)) continue;
            seen.add(child.digest);
            size += child.size + (await childSize(client, repo, child.digest, seen));
          }
        } else {
          kind = isRecord ? 'record' : doc.layers ? 'image' : 'other';
          size += (doc.config?.size ?? 0) + (doc.layers ?? []).reduce((s, l) => s + l.size, 0);
        }
        if (isRecord) kind = 'record';
        // Prune's note of the tags it left is no image a node could run (an empty artifact): named as what it is.
        const isLeftNote = !isRecord && doc.artifactType === LEFT_NOTE_ARTIFACT_TYPE;
        if (isLeftNote) kind = 'note';
        const revision = isRecord ? doc.annotations?.[REVISION_ANNOTATION] : undefined;
        return {
          tag,
          digest: m.digest,
          mediaType,
          kind,
          size,
          ...(isRecord && tag.endsWith(RECORD_TAG_SUFFIX) ? { recordOf: tag.slice(0, -RECORD_TAG_SUFFIX.length) } : {}),
          ...(typeof revision === 'string' ? { revision } : {}),
          ...(isLeftNote && tag.endsWith(LEFT_TAG_SUFFIX) ? { leftOf: tag.slice(0, -LEFT_TAG_SUFFIX.length) } : {}),
        };
      }),
    ),
  );
  for (const row of rows.filter((r) => r.kind === 'record' && r.tag.startsWith(LINE_TAG_PREFIX))) {
    row.line = row.tag.slice(LINE_TAG_PREFIX.length);
    const named = rows.find((r) => r.recordOf !== undefined && r.digest === row.digest);
    if (named) row.recordOf = named.recordOf;
  }
  return rows;
}

/** A record index (its artifact type, or a record manifest among its entries) or a record manifest. */
function isRecordDoc(doc: ManifestDoc): boolean {
  const record = (type: string | undefined) => type?.startsWith(RECORD_ARTIFACT) === true;
  return record(doc.artifactType) || record(doc.config?.mediaType) || (doc.manifests ?? []).some((m) => record(m.artifactType));
}

/** A platform manifest's config and layers, leaving out blobs already in `seen` (an earlier platform's). */
async function childSize(client: RegistryClient, repo: string, digest: string, seen: Set<string>): Promise<number> {
  const m = await client.getManifest(repo, digest);
  if (m.digest !== digest) throw new GamelayerError('registry.digest', `${client.host}/${repo}@${digest}: the manifest the registry sent hashes to ${m.digest}`);
  const doc = manifestDoc(m.bytes, `${client.host}/${repo}@${digest}`);
  let n = 0;
  for (const b of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) {
    if (b.digest !== undefined && seen.has(b.digest)) continue;
    if (b.digest !== undefined) seen.add(b.digest);
    n += b.size;
  }
  return n;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const isSize = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/**
 * A manifest's JSON, with the descriptors `ls` adds up checked: a digest that is a digest (it names the next request)
 * and a size that is a byte count. Anything else is the registry's bad answer, named, never a crash or a NaN size.
 */
function manifestDoc(bytes: Buffer, where: string): ManifestDoc {
  let doc: ManifestDoc;
  try {
    doc = JSON.parse(bytes.toString('utf8')) as ManifestDoc;
  } catch {
    throw new GamelayerError('registry.bad-answer', `${where}: the manifest is not JSON; that is not a registry's answer`);
  }
  const descriptors = [...(doc?.config ? [doc.config] : []), ...(Array.isArray(doc?.layers) ? doc.layers : []), ...(Array.isArray(doc?.manifests) ? doc.manifests : [])];
  // some, not find: find returns the bad entry itself, and a null entry is falsy (it was taken for none).
  const bad = descriptors.some((d) => !d || !isSize(d.size) || (d.digest !== undefined && !DIGEST.test(d.digest)));
  if (!doc || typeof doc !== 'object' || (doc.layers !== undefined && !Array.isArray(doc.layers)) || (doc.manifests !== undefined && !Array.isArray(doc.manifests)) || bad) {
    throw new GamelayerError('registry.bad-answer', `${where}: the manifest's descriptors are not digests with byte counts; that is not a registry's answer`);
  }
  for (const d of doc.manifests ?? []) if (d.digest === undefined) throw new GamelayerError('registry.bad-answer', `${where}: an index entry names no digest; that is not a registry's answer`);
  return doc;
}
