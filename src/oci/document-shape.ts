// What a manifest or an index names (child manifests, config, layers), checked field by field from its parsed JSON:
// a layout's documents are verified against their digests, but a foreign layout (a `--store` someone else wrote, an
// edited index.json) may hold any JSON under a sound digest. `null`, a `layers` that is no list or a `manifests`
// entry that is no descriptor was `error[internal]` where it was taken on trust; it is `layout.invalid`, naming the
// blob file and the field. The store's readers (layout.ts) and its walkers (document-refs.ts: ls, gc) share it.
import { GamelayerError } from '../errors.js';
import type { Descriptor } from '../types.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A `sha256:<64 hex>` digest (the only kind gamelayer names blobs with). */
export function isDigest(s: string): boolean {
  return DIGEST.test(s);
}

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

/** The references of the parsed document `doc` (of the blob `file`), each checked; `what` says which document. */
export function documentRefsOf(doc: unknown, file: string, what: string): DocumentRefs {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new GamelayerError('layout.invalid', `${file}: not a manifest or an index (${what})`, 'the store is damaged: rebuild the image');
  }
  const o = doc as Record<string, unknown>;
  return {
    manifests: checkedList(o.manifests, file, 'manifests', what),
    ...(o.config !== undefined && o.config !== null ? { config: checked(o.config, file, 'config', what) } : {}),
    layers: checkedList(o.layers, file, 'layers', what),
  };
}
