// Manifest media types a local layout and a registry both speak (defined in the image stage, below the registry).
export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** What a manifest request accepts: the registry client and the fast path of a no-op ask alike (the same answer, the same digest). */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociManifest, MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerList].join(', ');

/** The media types of an image index (OCI) and a manifest list (Docker). */
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]);

/**
 * An index by what the document says (its mediaType, or its `manifests`), not by the Content-Type it came with: a
 * proxy answering `application/json` must not make an index pass for a manifest.
 */
export function isIndexDocument(doc: { mediaType?: unknown; manifests?: unknown } | null | undefined): boolean {
  return (typeof doc?.mediaType === 'string' && INDEX_MEDIA_TYPES.has(doc.mediaType)) || Array.isArray(doc?.manifests);
}
