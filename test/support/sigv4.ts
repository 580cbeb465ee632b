// AWS Signature Version 4 as an AWS endpoint checks it, for the local stand-ins of AWS services (fake-codebuild,
// fake-ecr): the real SDK signs, and a request signed with another secret, for another service or region, or
// whose body or signed headers changed on the way, is refused as AWS would refuse it.
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface SigV4Expectation {
  credentials: { accessKeyId: string; secretAccessKey: string };
  service: string;
  /** The region the scope must name; any region when absent (ECR's region comes from the host name). */
  region?: string;
}

export interface SigV4Credential {
  accessKeyId: string;
  scope: string[];
  signedHeaders: string[];
  signature: string;
}

export function credentialOf(req: IncomingMessage): SigV4Credential | undefined {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    String(req.headers.authorization ?? ''),
  );
  if (!m) return undefined;
  return { accessKeyId: m[1]!, scope: m[2]!.split('/'), signedHeaders: m[3]!.split(';'), signature: m[4]! };
}

/** Verifies the request's SigV4 signature; returns why it is refused, or undefined. */
export function checkSigV4(req: IncomingMessage, body: Buffer, expect: SigV4Expectation): string | undefined {
  const cred = credentialOf(req);
  if (!cred) return `missing or malformed Authorization header: ${String(req.headers.authorization)}`;
  if (cred.accessKeyId !== expect.credentials.accessKeyId) return `unknown access key ${cred.accessKeyId}`;
  const [date, region, service, terminator] = cred.scope;
  if ((expect.region !== undefined && region !== expect.region) || service !== expect.service || terminator !== 'aws4_request') {
    return `credential scope ${cred.scope.join('/')}: expected <date>/${expect.region ?? '<region>'}/${expect.service}/aws4_request`;
  }
  if (!cred.signedHeaders.includes('host')) return 'the host header is not signed';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date ?? '-')) return `x-amz-date ${amzDate} does not match the scope date ${date}`;
  const url = new URL(req.url ?? '/', 'http://x');
  const canonicalQuery = [...url.searchParams.entries()]
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .sort()
    .join('&');
  const canonicalHeaders = cred.signedHeaders
    .map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const canonicalRequest = [req.method, url.pathname, canonicalQuery, canonicalHeaders, cred.signedHeaders.join(';'), payloadHash].join('\n');
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    cred.scope.join('/'),
    createHash('sha256').update(canonicalRequest).digest('hex'),
  ].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  let key = hmac(`AWS4${expect.credentials.secretAccessKey}`, date!);
  key = hmac(key, region!);
  key = hmac(key, service!);
  key = hmac(key, terminator!);
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === cred.signature ? undefined : 'signature mismatch';
}

/**
 * A session token the stand-ins take as expired (`AWS_SESSION_TOKEN=expired-…`): AWS answers such a request, however
 * well signed, `ExpiredTokenException` (HTTP 400), as for an SSO or assumed-role session that ran out.
 */
export const EXPIRED_SESSION_PREFIX = 'expired-';
export const EXPIRED_TOKEN_MESSAGE = 'The security token included in the request is expired';

export function expiredSession(req: IncomingMessage): boolean {
  return String(req.headers['x-amz-security-token'] ?? '').startsWith(EXPIRED_SESSION_PREFIX);
}
