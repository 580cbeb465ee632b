// Which image of the game an earlier build's digest is, from the local store: a manifest filled by an earlier
// `k8s --fill` holds `<repository>@sha256:…` with no tag, and only the image's own annotations say whether it was
// the server or a tree. Each document is read through readLayoutDocument, so it is checked against its digest
// before its annotations are believed; a digest the store lacks (or holds damaged) is simply not known.
import { readLayoutDocument } from '../oci/layout.js';
import { GAME_ANNOTATION } from '../oci/store-game.js';

const IMAGE_ANNOTATION = 'dev.gamelayer.image';

/** Reads at most this many digests: a manifest naming thousands of digests is not an earlier fill of ours. */
const MAX_LOOKUPS = 256;

/** digest → image name (`server`, a tree) for the digests the store holds as images of `game`. */
export async function knownImages(storeDir: string, digests: readonly string[], game: string, names: ReadonlySet<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const digest of digests.slice(0, MAX_LOOKUPS)) {
    const doc = await readLayoutDocument(storeDir, { digest }, 'an image a filled manifest names').catch(() => undefined);
    if (!doc) continue;
    let annotations: unknown;
    try {
      annotations = (JSON.parse(doc.bytes.toString('utf8')) as { annotations?: unknown }).annotations;
    } catch {
      continue;
    }
    if (annotations === null || typeof annotations !== 'object') continue;
    const a = annotations as Record<string, unknown>;
    const image = a[IMAGE_ANNOTATION];
    if (a[GAME_ANNOTATION] === game && typeof image === 'string' && names.has(image)) out.set(digest, image);
  }
  return out;
}
