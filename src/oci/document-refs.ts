// What a manifest or an index in the store names (child manifests, config, layers), from its verified bytes, each
// reference checked. index.json can be edited by hand or by another tool: an entry may name a layer blob as if it
// were a manifest, or a document whose `layers` is not a list. `ls` and `gc` walked such a document with JSON.parse
// and took its fields on trust (`error[internal]: Unexpected token '\u001f' … is not valid JSON`); now it is
// `layout.invalid`, naming the blob file and the field.
import { documentRefsOf, type DocumentRefs } from './document-shape.js';
import { parseLayoutDocument } from './layout.js';
import type { OciStore } from './store.js';

export type { DocumentRefs };

/** The references of the document `digest` names in `store` (read whole and verified against its digest). */
export async function readDocumentRefs(store: OciStore, digest: string, what: string): Promise<DocumentRefs> {
  const file = store.blobPath(digest);
  return documentRefsOf(parseLayoutDocument<unknown>(file, await store.readBlob(digest), what), file, what);
}
