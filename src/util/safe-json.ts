// JSON a caller checks itself (a schema, or fields one by one): bytes that are no JSON are undefined, so the caller's
// one "not what was expected" answer covers them too.

/** The value `text` holds as JSON, or undefined when it is no JSON. */
export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
