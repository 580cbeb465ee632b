// Signing keys: an ECDSA P-256 private key from a PEM file (node:crypto), or an AWS KMS asymmetric key
// (`awskms:///<key id, ARN or alias>`, cosign's notation) that signs through the KMS Sign API, so the private key never
// leaves KMS. Public keys for verification: a PEM file, or the KMS key's GetPublicKey. Nothing here prints key
// material: messages name the file or the key id, never its content, and errors from parsing are not echoed.
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { readFileBounded } from '../util/read-bounded.js';
import { GamelayerError } from '../errors.js';
import { EXPIRED_HINT, EXPIRED_TOKEN } from '../util/aws-expired.js';

export const KMS_ENDPOINT_ENV = 'GAMELAYER_KMS_ENDPOINT';
/** Passphrase of an encrypted PEM private key (never a command-line argument: it would show in ps). */
export const KEY_PASSWORD_ENV = 'GAMELAYER_SIGNING_KEY_PASSWORD';
const KMS_PREFIX = 'awskms://';

export interface KmsOptions {
  /** AWS region; default the region in the key ARN, else the SDK's (AWS_REGION, profile). */
  region?: string;
  /** KMS API endpoint; default the authority of `awskms://HOST/…`, else $GAMELAYER_KMS_ENDPOINT, else the SDK's. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface Signer {
  /** What signs, safe to print: the key file's path or the KMS key id. */
  readonly name: string;
  /** An ECDSA P-256 / SHA-256 signature of `data`, ASN.1 DER (as cosign stores it, base64 in an annotation). */
  sign(data: Buffer): Promise<Buffer>;
  publicKey(): Promise<KeyObject>;
}

export function isKmsKey(ref: string): boolean {
  return ref.startsWith(KMS_PREFIX);
}

/** `awskms:///arn…` → key id and endpoint (`awskms://host:port/arn…`: the API at http(s)://host:port). */
function parseKmsRef(ref: string, opts: KmsOptions, env: NodeJS.ProcessEnv): { keyId: string; endpoint?: string; region?: string } {
  const rest = ref.slice(KMS_PREFIX.length);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? '' : rest.slice(0, slash);
  const keyId = slash < 0 ? '' : rest.slice(slash + 1);
  if (!keyId) throw new GamelayerError('sign.kms-ref', `${ref}: expected awskms:///<key id, ARN or alias/NAME> (or awskms://HOST:PORT/<key>)`);
  const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(authority);
  const endpoint = opts.endpoint ?? (authority ? `${loopback ? 'http' : 'https'}://${authority}` : env[KMS_ENDPOINT_ENV] || undefined);
  const region = opts.region ?? /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(keyId)?.[1];
  return { keyId, endpoint, region };
}

async function kmsClient(ref: string, opts: KmsOptions, env: NodeJS.ProcessEnv) {
  const { keyId, endpoint, region } = parseKmsRef(ref, opts, env);
  // gamelayer runs on Node 20 by design; the SDK's notice about its future Node 22 floor is not for our users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { KMSClient, SignCommand, GetPublicKeyCommand } = await import('@aws-sdk/client-kms');
  const sdk = new KMSClient({ region, endpoint, credentials: opts.credentials, maxAttempts: 4, requestHandler: { connectionTimeout: 10_000, requestTimeout: 60_000, httpsAgent: (await import('../util/proxy-agent.js')).awsHttpsAgent() } });
  const fail = (what: string, e: unknown) => {
    const err = e as { name?: string; message?: string };
    if (e instanceof GamelayerError) return e;
    if (/region is missing/i.test(err.message ?? '')) {
      return new GamelayerError('sign.kms-region', `KMS ${what} for ${keyId}: no AWS region`, 'use the key ARN (it names its region), or set AWS_REGION');
    }
    if (err.name === 'CredentialsProviderError' || /Could not load credentials/i.test(err.message ?? '')) {
      return new GamelayerError('sign.kms', `KMS ${what} for ${keyId}: no AWS credentials found`, 'set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role is attached', { cause: e });
    }
    if (err.name === EXPIRED_TOKEN) {
      // The session, not the key nor its policy: the hint below sent the user to check those.
      return new GamelayerError('sign.kms', `KMS ${what} for ${keyId}${region ? ` (region ${region})` : ''}: the AWS credentials have expired: ${err.message ?? err.name}`, EXPIRED_HINT, { cause: e });
    }
    // The network, not the key: an endpoint nothing answers at, a name that does not resolve, a proxy needed.
    const code = (e as { code?: string }).code ?? '';
    if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EPROXY'].includes(code)) {
      const at = endpoint ?? `kms.${region ?? '<region>'}.amazonaws.com`;
      return new GamelayerError('sign.kms', `KMS ${what} for ${keyId}${region ? ` (region ${region})` : ''}: cannot reach KMS at ${at}: ${code}`, 'check the network and HTTPS_PROXY / NO_PROXY, and the endpoint (awskms://HOST/KEY or GAMELAYER_KMS_ENDPOINT)', { cause: e });
    }
    // AWS error names and messages carry no credentials; they are shown as they come.
    return new GamelayerError('sign.kms', `KMS ${what} for ${keyId}${region ? ` (region ${region})` : ''} failed: ${err.name ?? 'Error'}: ${err.message ?? String(e)}`, 'check the key id, that the key is ECC_NIST_P256 with SIGN_VERIFY usage, and that these AWS credentials may kms:Sign / kms:GetPublicKey it', { cause: e });
  };
  return {
    keyId,
    /** KMS hashes a message of up to 4 KiB itself (RAW); a larger one is sent as its SHA-256 digest. */
    async sign(data: Buffer): Promise<Buffer> {
      const raw = data.length <= 4096;
      const message = raw ? data : createHash('sha256').update(data).digest();
      try {
        const out = await sdk.send(new SignCommand({ KeyId: keyId, Message: message, MessageType: raw ? 'RAW' : 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
        if (!out.Signature?.length) throw new GamelayerError('sign.kms', `KMS Sign for ${keyId} returned no signature`);
        return Buffer.from(out.Signature);
      } catch (e) {
        throw fail('Sign', e);
      }
    },
    async publicKey(): Promise<KeyObject> {
      let out;
      try {
        out = await sdk.send(new GetPublicKeyCommand({ KeyId: keyId }));
      } catch (e) {
        throw fail('GetPublicKey', e);
      }
      // The answer is checked as any other bytes from the network: an endpoint that is not KMS (or a proxy) may send
      // a KeySpec that is no string, or a PublicKey that is none ("[object Object]", or error[internal] from Buffer).
      const spec: unknown = out.KeySpec;
      if (spec !== 'ECC_NIST_P256') {
        throw new GamelayerError('sign.key-type', `KMS key ${keyId} is ${typeof spec === 'string' ? spec : `of unknown type (KeySpec ${JSON.stringify(spec) ?? 'missing'})`}; cosign-format signatures here need ECC_NIST_P256`);
      }
      const der: unknown = out.PublicKey;
      if (!(der instanceof Uint8Array) || der.length === 0) {
        throw new GamelayerError('sign.key', `KMS key ${keyId}: GetPublicKey answered no public key (PublicKey ${der === undefined ? 'missing' : `of type ${typeof der}`})`, 'check that the endpoint is KMS (awskms://HOST/KEY or GAMELAYER_KMS_ENDPOINT)');
      }
      return publicKeyFromDer(Buffer.from(der), `KMS key ${keyId}`);
    },
  };
}

function publicKeyFromDer(der: Buffer, where: string): KeyObject {
  try {
    return checkP256(createPublicKey({ key: der, format: 'der', type: 'spki' }), where);
  } catch (e) {
    if (e instanceof GamelayerError) throw e;
    throw new GamelayerError('sign.key', `${where}: not a DER SubjectPublicKeyInfo public key`);
  }
}

/** Signing wants a private key, verifying its public half: the hint says how to make the one that is wanted. */
const KEY_TYPE_HINT = {
  private: 'make one with: openssl ecparam -genkey -name prime256v1 -noout | openssl pkcs8 -topk8 -nocrypt -out cosign.key',
  public: 'pass the public key of the ECDSA P-256 key that signed (openssl pkey -in cosign.key -pubout -out cosign.pub)',
};

function checkP256(key: KeyObject, where: string): KeyObject {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new GamelayerError('sign.key-type', `${where}: a ${[key.asymmetricKeyType ?? 'non-asymmetric', key.asymmetricKeyDetails?.namedCurve].filter(Boolean).join(' ')} key; expected ECDSA P-256`, KEY_TYPE_HINT[key.type === 'public' ? 'public' : 'private']);
  }
  return key;
}

/**
 * Asks of a signer, before a build pushes anything, all that signing needs: its public key and one signature of a
 * fixed probe, checked against it. A KMS role may read a key (kms:GetPublicKey) without the right to sign with it
 * (kms:Sign): asked for the public key alone, that left a pushed build unsigned. One KMS Sign call per run.
 */
export async function proveSigner(signer: Signer): Promise<void> {
  const publicKey = await signer.publicKey();
  const probe = Buffer.from('gamelayer: signing key probe, nothing is signed with this signature\n');
  const signature = await signer.sign(probe);
  if (!cryptoVerify('sha256', probe, { key: publicKey, dsaEncoding: 'der' }, signature)) {
    throw new GamelayerError('sign.key', `${signer.name}: its signature of a probe does not verify with its public key`, 'check that the key is the ECDSA P-256 key meant');
  }
}

/** A signer for `--key FILE|awskms:///KEY`. */
export async function signerFor(ref: string, opts: KmsOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<Signer> {
  if (isKmsKey(ref)) {
    const kms = await kmsClient(ref, opts, env);
    let pub: Promise<KeyObject> | undefined;
    return {
      name: `awskms key ${kms.keyId}`,
      sign: (data) => kms.sign(data),
      publicKey: () => (pub ??= kms.publicKey()),
    };
  }
  const key = await readPrivateKey(ref, env);
  return {
    name: ref,
    sign: async (data) => cryptoSign('sha256', data, { key, dsaEncoding: 'der' }),
    publicKey: async () => createPublicKey(key),
  };
}

async function readPrivateKey(file: string, env: NodeJS.ProcessEnv): Promise<KeyObject> {
  const pem = await readKeyFile(file);
  if (/ENCRYPTED (COSIGN|SIGSTORE) PRIVATE KEY/.test(pem)) {
    throw new GamelayerError('sign.key-format', `${file}: a cosign-encrypted key, which gamelayer does not read`, 'export it as PKCS#8 PEM (openssl pkcs8), or keep the key in AWS KMS (--key awskms:///ARN)');
  }
  // The public half (cosign.pub) passed by mistake: say so, rather than "not a readable private key".
  if (/-----BEGIN PUBLIC KEY-----/.test(pem) && !/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    throw new GamelayerError('sign.key-public', `${file}: a public key; signing takes the private key (cosign.key)`, 'pass the private key it was made from; the public key is what verify --key and sbom --key take');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem', passphrase: env[KEY_PASSWORD_ENV] });
  } catch (e) {
    const encrypted = /ENCRYPTED/.test(pem);
    // The parser's message may quote the input: never echo it.
    throw new GamelayerError(
      'sign.key',
      `${file}: not a readable PEM private key${encrypted ? ' (it is encrypted: is the passphrase right?)' : ''}`,
      encrypted ? `set the passphrase in ${KEY_PASSWORD_ENV}` : 'expected an ECDSA P-256 key in PEM (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY")',
      { cause: new Error((e as NodeJS.ErrnoException).code ?? 'parse error') },
    );
  }
  return checkP256(key, file);
}

/**
 * The public key of `--key FILE|awskms:///KEY` for verification: a PEM public key. A private key is refused: whoever
 * verifies should not hold (or be handed) the signer's secret, and a verifier taking one invites passing it around.
 */
export async function publicKeyFor(ref: string, opts: KmsOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<KeyObject> {
  if (isKmsKey(ref)) return (await kmsClient(ref, opts, env)).publicKey();
  const pem = await readKeyFile(ref);
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    const cosign = /(COSIGN|SIGSTORE) PRIVATE KEY/.test(pem);
    // The hint is a command to paste: a path with spaces or quotes is single-quoted for sh.
    const arg = /^[\w./:@%+=,-]+$/.test(ref) ? ref : `'${ref.replaceAll("'", `'\\''`)}'`;
    throw new GamelayerError(
      'sign.key-private',
      `${ref}: a private key; --key here takes the public key (cosign.pub)`,
      cosign ? `make the public key with: cosign public-key --key ${arg} > cosign.pub` : `make the public key with: openssl pkey -in ${arg} -pubout -out cosign.pub`,
    );
  }
  try {
    return checkP256(createPublicKey({ key: pem, format: 'pem' }), ref);
  } catch (e) {
    if (e instanceof GamelayerError) throw e;
    throw new GamelayerError('sign.key', `${ref}: not a readable PEM public key`, 'expected "-----BEGIN PUBLIC KEY-----" (cosign.pub)');
  }
}

/** A PEM key is well under a KiB; /dev/zero given as --key was read to 600 MiB, then "Invalid string length". */
const KEY_FILE_MAX_BYTES = 1024 * 1024;

async function readKeyFile(file: string): Promise<string> {
  let read: Buffer | { tooBig: true };
  try {
    read = await readFileBounded(file, KEY_FILE_MAX_BYTES);
  } catch (e) {
    throw new GamelayerError('sign.key-file', `cannot read key file ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!Buffer.isBuffer(read)) {
    throw new GamelayerError('sign.key-file', `cannot read key file ${file}: more than ${KEY_FILE_MAX_BYTES} bytes, more than a PEM key holds`);
  }
  return read.toString('utf8');
}
