// What a manifest or an index in the store names (child manifests, config, layers), from its verified bytes, each
// reference checked. index.json can be edited by hand or by another tool: an entry may name a layer blob as if it
// were a manifest, or a document whose `layers` is not a list. `ls` and `gc` walked such a document with JSON.parse
// and took its fields on trust (`error[internal]: Unexpected token '\u001f' … is not valid JSON`); now it is
// `layout.invalid`, naming the blob file and the field.
import { GamelayerError } from '../errors.js';
import type { Descriptor } from '../types.js';
import { isDigest, parseLayoutDocument } from './layout.js';
import type { OciStore } from './store.js';

export interface DocumentRefs {
  manifests: Descriptor[];
  config?: Descriptor;
  layers: Descriptor[];
}

function checked(v: unknown, file: string, field: string, what: string): Descriptor {
  const d = v as Partial<Record<keyof Descriptor, unknown>> | null;
  const bad =
    typeof v !== 'object' || v === null || Array.isArray(v)
      ? 'not a descriptor object'
      : typeof d!.digest !== 'string' || !isDigest(d!.digest)
        ? `digest ${JSON.stringify(d!.digest)} is not a sha256 digest`
        : typeof d!.size !== 'number' || !Number.isSafeInteger(d!.size) || d!.size < 0
          ? `size ${JSON.stringify(d!.size)} is not a byte count`
          : typeof d!.mediaType !== 'string'
            ? 'no media type'
            : undefined;
  if (bad) throw new GamelayerError('layout.invalid', `${file}: ${field}: ${bad} (${what})`, 'the store is damaged: rebuild the image');
  return v as Descriptor;
}

function checkedList(v: unknown, file: string, field: string, what: string): Descriptor[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new GamelayerError('layout.invalid', `${file}: ${field}: not a list (${what})`, 'the store is damaged: rebuild the image');
  return v.map((x, i) => checked(x, file, `${field}[${i}]`, what));
}

/** The references of the document `digest` names in `store` (read whole and verified against its digest). */
export async function readDocumentRefs(store: OciStore, digest: string, what: string): Promise<DocumentRefs> {
  const file = store.blobPath(digest);
  const doc = parseLayoutDocument<unknown>(file, await store.readBlob(digest), what);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new GamelayerError('layout.invalid', `${file}: not a manifest or an index (${what})`, 'the store is damaged: rebuild the image');
  }
  const o = doc as Record<string, unknown>;
  return {
    manifests: checkedList(o.manifests, file, 'manifests', what),
    ...(o.config !== undefined ? { config: checked(o.config, file, 'config', what) } : {}),
    layers: checkedList(o.layers, file, 'layers', what),
  };
}
