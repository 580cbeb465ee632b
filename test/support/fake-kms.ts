// A local stand-in for AWS KMS's JSON API (AWS JSON 1.1 over HTTP, `X-Amz-Target: TrentService.<Op>`) for the calls
// gamelayer makes: Sign (ECDSA_SHA_256, MessageType RAW) and GetPublicKey, with ECC_NIST_P256 keys made here, so
// the real SDK serialises, signs and parses real HTTP traffic. Every request's SigV4 signature is verified against
// the static test credentials (a wrong key or a bad signature is refused as KMS would). The private keys never
// leave this process, as with KMS.
import { createHash, createHmac, generateKeyPairSync, randomUUID, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EXPIRED_TOKEN_MESSAGE, expiredSession } from './sigv4.js';

export const KMS_TEST_CREDENTIALS = { accessKeyId: 'AKIDFAKEKMSTEST00001', secretAccessKey: 'fake/kms/secret/Kms-Secret-6060' };
export const KMS_TEST_REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const TARGET_PREFIX = 'TrentService.';

export interface KmsCall {
  op: string;
  keyId?: string;
  messageType?: string;
  accessKeyId: string;
}

export interface FakeKms {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  /** `127.0.0.1:PORT`, for `awskms://HOST/ARN`. */
  host: string;
  calls: KmsCall[];
  /** Requests refused for a bad signature or credentials, with the reason. */
  rejected: string[];
  /** Keys (ARNs) whose Sign the caller's IAM policy does not allow (GetPublicKey still answers), as KMS refuses. */
  signDenied: Set<string>;
  /**
   * Answers KMS itself never gives (what a wrong endpoint or a proxy might), per key ARN: the body of a successful
   * Sign (given the message signed) or GetPublicKey replaced by what the function makes of the real one.
   */
  tamper: Map<string, { sign?: (real: Record<string, unknown>, message: Buffer) => unknown; getPublicKey?: (real: Record<string, unknown>) => unknown }>;
  /** A new P-256 signing key; returns its ARN. */
  createKey(): string;
  /** A key of another spec (for the refusal test). */
  createRsaKey(): string;
  publicKeyPem(arn: string): string;
  stop(): Promise<void>;
}

interface Key {
  spec: 'ECC_NIST_P256' | 'RSA_2048';
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export async function startFakeKms(): Promise<FakeKms> {
  const keys = new Map<string, Key>();
  const calls: KmsCall[] = [];
  const rejected: string[] = [];
  const lookup = (id: unknown) => {
    const s = String(id ?? '');
    return keys.get(s) ?? [...keys.entries()].find(([arn]) => arn.endsWith(`key/${s}`))?.[1];
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, Buffer.concat(chunks), res);
      } catch (e) {
        send(res, 500, { __type: 'KMSInternalException', message: String(e) });
      }
    });
  });

  function handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    if (expiredSession(req)) return send(res, 400, { __type: 'ExpiredTokenException', message: EXPIRED_TOKEN_MESSAGE });
    const problem = checkSignature(req, body);
    if (problem) {
      rejected.push(problem);
      return send(res, 400, { __type: problem.startsWith('unknown access key') ? 'UnrecognizedClientException' : 'InvalidSignatureException', message: problem });
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    if (req.method !== 'POST' || !target.startsWith(TARGET_PREFIX) || req.headers['content-type'] !== 'application/x-amz-json-1.1') {
      return send(res, 400, { __type: 'UnknownOperationException', message: `unknown target ${target}` });
    }
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    const op = target.slice(TARGET_PREFIX.length);
    calls.push({ op, keyId: input.KeyId as string | undefined, messageType: input.MessageType as string | undefined, accessKeyId: credentialOf(req)!.accessKeyId });
    const key = lookup(input.KeyId);
    if (!key) return send(res, 400, { __type: 'NotFoundException', message: `Key '${String(input.KeyId)}' does not exist` });
    const arn = [...keys.entries()].find(([, k]) => k === key)![0];
    switch (op) {
      case 'GetPublicKey': {
        const real = {
          KeyId: arn,
          KeySpec: key.spec,
          KeyUsage: 'SIGN_VERIFY',
          PublicKey: key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
          SigningAlgorithms: key.spec === 'ECC_NIST_P256' ? ['ECDSA_SHA_256'] : ['RSASSA_PSS_SHA_256'],
        };
        return send(res, 200, fake.tamper.get(arn)?.getPublicKey?.(real) ?? real);
      }
      case 'Sign': {
        if (fake.signDenied.has(arn)) {
          return send(res, 400, { __type: 'AccessDeniedException', message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/codebuild-game/1 is not authorized to perform: kms:Sign on resource: ${arn} because no identity-based policy allows the kms:Sign action` });
        }
        if (key.spec !== 'ECC_NIST_P256' || input.SigningAlgorithm !== 'ECDSA_SHA_256') {
          return send(res, 400, { __type: 'InvalidKeyUsageException', message: `${String(input.SigningAlgorithm)} is not valid for ${key.spec}` });
        }
        const message = Buffer.from(String(input.Message ?? ''), 'base64');
        if (input.MessageType !== 'RAW') {
          // KMS signs a given digest as is; node:crypto cannot sign a pre-hashed digest, so this fake does RAW only.
          return send(res, 400, { __type: 'ValidationException', message: `MessageType ${String(input.MessageType)} is not faked` });
        }
        if (message.length === 0 || message.length > 4096) return send(res, 400, { __type: 'ValidationException', message: 'Message must be 1 to 4096 bytes' });
        const signature = cryptoSign('sha256', message, { key: key.privateKey, dsaEncoding: 'der' });
        const real = { KeyId: arn, Signature: signature.toString('base64'), SigningAlgorithm: 'ECDSA_SHA_256' };
        return send(res, 200, fake.tamper.get(arn)?.sign?.(real, message) ?? real);
      }
      default:
        return send(res, 400, { __type: 'UnknownOperationException', message: `operation ${op} is not faked` });
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const add = (spec: Key['spec']) => {
    const pair = spec === 'ECC_NIST_P256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const arn = `arn:aws:kms:${KMS_TEST_REGION}:${ACCOUNT}:key/${randomUUID()}`;
    keys.set(arn, { spec, privateKey: pair.privateKey, publicKey: pair.publicKey });
    return arn;
  };
  const fake: FakeKms = {
    signDenied: new Set(),
    tamper: new Map(),
    endpoint: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    calls,
    rejected,
    createKey: () => add('ECC_NIST_P256'),
    createRsaKey: () => add('RSA_2048'),
    publicKeyPem: (arn) => keys.get(arn)!.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return fake;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1', 'content-length': String(Buffer.byteLength(text)), 'x-amzn-requestid': randomUUID() };
  if (status >= 400) headers['x-amzn-errortype'] = String((body as { __type: string }).__type);
  res.writeHead(status, headers);
  res.end(text);
}

function credentialOf(req: IncomingMessage): { accessKeyId: string; scope: string[]; signedHeaders: string[]; signature: string } | undefined {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(String(req.headers.authorization ?? ''));
  if (!m) return undefined;
  return { accessKeyId: m[1]!, scope: m[2]!.split('/'), signedHeaders: m[3]!.split(';'), signature: m[4]! };
}

/** Verifies AWS Signature Version 4 as KMS would; returns why it is refused, or undefined. */
function checkSignature(req: IncomingMessage, body: Buffer): string | undefined {
  const cred = credentialOf(req);
  if (!cred) return `missing or malformed Authorization header`;
  if (cred.accessKeyId !== KMS_TEST_CREDENTIALS.accessKeyId) return `unknown access key ${cred.accessKeyId}`;
  const [date, region, service, terminator] = cred.scope;
  if (region !== KMS_TEST_REGION || service !== 'kms' || terminator !== 'aws4_request') {
    return `credential scope ${cred.scope.join('/')}: expected <date>/${KMS_TEST_REGION}/kms/aws4_request`;
  }
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date ?? '-')) return `x-amz-date ${amzDate} does not match the scope date ${date}`;
  const url = new URL(req.url ?? '/', 'http://x');
  const canonicalQuery = [...url.searchParams.entries()]
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .sort()
    .join('&');
  const canonicalHeaders = cred.signedHeaders.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const canonicalRequest = [req.method, url.pathname, canonicalQuery, canonicalHeaders, cred.signedHeaders.join(';'), payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, cred.scope.join('/'), createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  let key = hmac(`AWS4${KMS_TEST_CREDENTIALS.secretAccessKey}`, date!);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, terminator);
  const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
  return expected === cred.signature ? undefined : 'signature mismatch';
}
