// What a token service's answer (its parsed JSON) gives as a Bearer token. One reading for the full path
// (auth.ts, which makes a problem an error) and the fast path of a no-op (cli/fast-noop/registry-check.ts, which
// falls through on one), so the fast path never sends a token the full path would refuse or read another field.
// No imports: the fast path's bundle loads this.

/** The token, or what is wrong with the answer (a phrase after "<service> answered …"). */
export type TokenAnswer = { token: string } | { problem: string };

/**
 * The token of a token service's answer: `token` (or OAuth2's `access_token` when `token` is absent, null or ""),
 * a string a header can carry. Anything else was sent as it came: `null` failed as error[internal], an object as
 * "Bearer [object Object]" (then "refused our credentials"), a CR/LF as a network error to retry later.
 */
export function tokenOf(body: unknown): TokenAnswer {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { problem: `answered ${kindOf(body)}, not a JSON object` };
  const fields = body as Record<string, unknown>;
  const field = fields.token !== undefined && fields.token !== null && fields.token !== '' ? 'token' : 'access_token';
  const token = fields[field];
  const named = field === 'token' ? 'a token' : 'an access_token';
  if (token === undefined || token === null || token === '') return { problem: 'answered without a token' };
  if (typeof token !== 'string') return { problem: `answered ${named} that is ${kindOf(token)}, not a string` };
  // RFC 6750's b64token is narrower; visible ASCII is what an Authorization header holds without harm.
  if (!/^[\x21-\x7e]+$/.test(token)) return { problem: `answered ${named} with characters a header cannot carry (only visible ASCII can)` };
  return { token };
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
