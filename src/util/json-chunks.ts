// JSON text in pieces: the same characters as JSON.stringify(value), made and handed on a piece at a time, so a
// record of a 1M-entry game is written without ever being one string (or one buffer) in memory.

/** Arrays longer than this hold many small items (entries): stringified in batches of BATCH, not walked. */
const MANY = 256;
const BATCH = 256;
/**
 * Characters per piece handed on. Below V8's large-object size (128 KiB, also for two-byte text): such strings die
 * young in a scavenge, while a 1 MiB piece went to the large-object space and waited for a full GC, so writing a
 * 1M-entry record (about 200 MB of text) piled up hundreds of MiB of dead pieces.
 */
const PIECE = 1 << 15;

/** Pieces of JSON.stringify(value) (no indentation), each about `piece` characters; `value` must stringify to text. */
export function* jsonChunks(value: unknown, piece = PIECE): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  const put = (s: string) => {
    parts.push(s);
    size += s.length;
  };
  // Nested generators, so a piece can be handed on from any depth.
  function* walk(v: unknown, whole: boolean): Generator<string> {
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON: () => unknown }).toJSON();
    if (whole || v === null || typeof v !== 'object') {
      put(JSON.stringify(v) ?? 'null');
    } else if (Array.isArray(v) && v.length > MANY) {
      // Many small items (entries): stringified a batch at a time, each batch's brackets dropped.
      put('[');
      for (let i = 0; i < v.length; i += BATCH) {
        if (i > 0) put(',');
        put(JSON.stringify(v.slice(i, i + BATCH)).slice(1, -1));
        if (size >= piece) yield flush();
      }
      put(']');
    } else if (Array.isArray(v)) {
      put('[');
      for (let i = 0; i < v.length; i++) {
        if (i > 0) put(',');
        const x = v[i];
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') put('null');
        else yield* walk(x, false);
        if (size >= piece) yield flush();
      }
      put(']');
    } else {
      put('{');
      let first = true;
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        put(`${first ? '' : ','}${JSON.stringify(k)}:`);
        first = false;
        yield* walk(x, false);
      }
      put('}');
    }
  }
  const flush = () => {
    const s = parts.join('');
    parts = [];
    size = 0;
    return s;
  };
  yield* walk(value, false);
  if (size > 0) yield flush();
}
