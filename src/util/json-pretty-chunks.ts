// JSON.stringify(value, null, indent) in pieces (issue 17 item 2): `diff --json` of a 100k-file removal lists every
// removed entry, and the whole text as one string (16 MB, with V8's builder parts and the write's buffer
// beside it) was the command's peak at 1M entries. The same characters, made and handed on a piece at a time.

/** Characters per piece handed on: below V8's large-object size, so a piece dies young (see json-chunks.ts). */
const PIECE = 1 << 15;

/** Pieces of JSON.stringify(value, null, indent) for an indent of 1 to 10; `value` must stringify to text. */
export function* jsonPrettyChunks(value: unknown, indent = 2, piece = PIECE): Generator<string> {
  if (!Number.isInteger(indent) || indent < 1 || indent > 10) throw new Error(`jsonPrettyChunks: indent ${indent} is not 1 to 10`);
  const step = ' '.repeat(indent);
  let parts: string[] = [];
  let size = 0;
  const put = (s: string) => {
    parts.push(s);
    size += s.length;
  };
  const flush = () => {
    const s = parts.join('');
    parts = [];
    size = 0;
    return s;
  };
  /** JSON.stringify skips these in an object and writes null for them in an array. */
  const skipped = (x: unknown) => x === undefined || typeof x === 'function' || typeof x === 'symbol';
  /** A value as JSON.stringify sees it: its toJSON's, if it has one (called with its key, as JSON.stringify does). */
  const resolved = (key: string, v: unknown): unknown =>
    v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function' ? (v as { toJSON: (k: string) => unknown }).toJSON(key) : v;
  /** Leaves, and boxed primitives (which JSON.stringify unwraps): written as JSON.stringify writes them. */
  const leaf = (v: unknown) => v === null || typeof v !== 'object' || v instanceof Number || v instanceof String || v instanceof Boolean;
  // A leaf is put where it is met, not walked: a generator per field of 100k entries was as costly as their text.
  function* walk(v: object, at: string): Generator<string> {
    const inner = `${at}${step}`;
    if (Array.isArray(v)) {
      const n = v.length;
      if (n === 0) return put('[]');
      put('[');
      for (let i = 0; i < n; i++) {
        put(`${i > 0 ? ',' : ''}\n${inner}`);
        const x = resolved(String(i), v[i]);
        if (skipped(x)) put('null');
        else if (leaf(x)) put(JSON.stringify(x));
        else yield* walk(x as object, inner);
        if (size >= piece) yield flush();
      }
      put(`\n${at}]`);
      return;
    }
    let first = true;
    for (const k of Object.keys(v)) {
      const x = resolved(k, (v as Record<string, unknown>)[k]);
      if (skipped(x)) continue;
      put(`${first ? '{' : ','}\n${inner}${JSON.stringify(k)}: `);
      first = false;
      if (leaf(x)) put(JSON.stringify(x));
      else yield* walk(x as object, inner);
      if (size >= piece) yield flush();
    }
    put(first ? '{}' : `\n${at}}`);
  }
  const top = resolved('', value);
  if (skipped(top)) throw new Error('jsonPrettyChunks: the value has no JSON text');
  if (leaf(top)) put(JSON.stringify(top));
  else yield* walk(top as object, '');
  if (size > 0) yield flush();
}
