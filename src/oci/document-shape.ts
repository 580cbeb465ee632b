// What a manifest or an index names (child manifests, config, layers), checked field by field from its parsed JSON:
// a layout's documents are verified against their digests, but a foreign layout (a `--store` someone else wrote, an
// edited index.json) may hold any JSON under a sound digest. `null`, a `layers` that is no list or a `manifests`
// entry that is no descriptor was `error[internal]` where it was taken on trust; it is `layout.invalid`, naming the
// blob file and the field. The store's readers (layout.ts) and its walkers (document-refs.ts: ls, gc) share it, and
// the registry source (registry/image-source.ts), which answers `registry.protocol` instead.
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

/** Makes the error for a document of the wrong shape from its message (`<file>: <field>: <why>`). */
export type ShapeError = (message: string) => GamelayerError;

const layoutInvalid: ShapeError = (message) => new GamelayerError('layout.invalid', message, 'the store is damaged: rebuild the image');

function checked(v: unknown, file: string, field: string, what: string, fail: ShapeError): Descriptor {
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
  if (bad) throw fail(`${file}: ${field}: ${bad}${what ? ` (${what})` : ''}`);
  return v as Descriptor;
}

function checkedList(v: unknown, file: string, field: string, what: string, fail: ShapeError): Descriptor[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw fail(`${file}: ${field}: not a list${what ? ` (${what})` : ''}`);
  return v.map((x, i) => checked(x, file, `${field}[${i}]`, what, fail));
}

/**
 * The references of the parsed document `doc` (of the blob `file`), each checked; `what` says which document (empty:
 * `file` says it already). A document of the wrong shape is `fail`'s error (`layout.invalid` unless told).
 */
export function documentRefsOf(doc: unknown, file: string, what: string, fail: ShapeError = layoutInvalid): DocumentRefs {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw fail(`${file}: not a manifest or an index${what ? ` (${what})` : ''}`);
  const o = doc as Record<string, unknown>;
  return {
    manifests: checkedList(o.manifests, file, 'manifests', what, fail),
    ...(o.config !== undefined && o.config !== null ? { config: checked(o.config, file, 'config', what, fail) } : {}),
    layers: checkedList(o.layers, file, 'layers', what, fail),
  };
}
