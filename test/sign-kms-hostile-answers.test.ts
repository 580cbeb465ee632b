// `sign` / `verify --key awskms://…` when what answers at the KMS endpoint lies (a wrong endpoint, a proxy): a Sign
// answer that is another key's signature, or no signature at all, was pushed as this key's and the command said
// "signed" (exit 0); the bad layer then stayed in the signature manifest, which a next sign only appends to. Each
// signature is now checked against the key's public key before it goes up. GetPublicKey answers that are no key
// are refused naming the key.
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import type { FakeKms } from './support/fake-kms.js';
import { KMS_ENV, useRegistryAndKms } from './support/kms-registry.js';
import type { TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { writeGame } from './support/trees.js';

const fx = useRegistryAndKms();
let dir: string;
let reg: TestRegistry;
let kms: FakeKms;
let ref: string;
beforeAll(async () => {
  dir = path.join(await tempDir('gl-kms-hostile-'), 'game');
  ({ reg, kms } = fx);
  await writeGame(dir);
  ref = `${reg.host}/studio/game:v1`;
  const r = await runCli(['build', '-t', 'v1', '--push', `${reg.host}/studio/game`], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
});
const env = KMS_ENV;

/** `verify` of the image with the KMS key's real public key (a PEM file): what a deploy would see. */
async function verifyWithPem(arn: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const pem = path.join(dir, '..', 'kms.pub');
  await writeFile(pem, kms.publicKeyPem(arn));
  return runCli(['verify', ref, '--key', pem], { cwd: dir });
}

describe('sign with a KMS endpoint whose Sign answer is not the key\'s signature', () => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  for (const [what, signature] of [
    ['another key\'s signature of the payload', (payload: Buffer) => cryptoSign('sha256', payload, { key: other, dsaEncoding: 'der' }).toString('base64')],
    ['bytes that are no signature', () => Buffer.from('not a signature').toString('base64')],
  ] as const) {
    it(`${what}: refused before it goes up, nothing pushed`, async () => {
      const arn = kms.createKey();
      let payloads = 0;
      kms.tamper.set(arn, {
        sign: (real, message) => {
          payloads++;
          return { ...real, Signature: signature(message) };
        },
      });
      const r = await runCli(['sign', ref, '--key', `awskms://${kms.host}/${arn}`], { cwd: dir, env });
      expect(payloads).toBe(1);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^error\\[sign\\.key\\]: awskms key ${arn}: its signature of sha256:[0-9a-f]{64} does not verify with its public key; nothing was pushed for it\\n`));
      const v = await verifyWithPem(arn);
      expect(v.code).toBe(1);
      expect(v.stderr).toContain('no signature (no sha256-….sig tag)');
    });
  }
});

describe('verify with a KMS endpoint whose GetPublicKey answer is no key', () => {
  for (const [what, tamper, expected] of [
    ['PublicKey bytes that are no DER key', (real: Record<string, unknown>) => ({ ...real, PublicKey: Buffer.from('not a key').toString('base64') }), 'not a DER SubjectPublicKeyInfo public key'],
    ['an RSA key\'s PublicKey under KeySpec ECC_NIST_P256', (real: Record<string, unknown>) => ({ ...real, PublicKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64') }), 'a rsa key; expected ECDSA P-256'],
    ['no PublicKey', (real: Record<string, unknown>) => ({ ...real, PublicKey: undefined }), ': GetPublicKey answered no public key (PublicKey missing)'],
    ['a number for PublicKey', (real: Record<string, unknown>) => ({ ...real, PublicKey: 5 }), ': GetPublicKey answered no public key (PublicKey of type number)'],
    ['an object for KeySpec', (real: Record<string, unknown>) => ({ ...real, KeySpec: { spec: 'ECC_NIST_P256' } }), ' is of unknown type (KeySpec {"spec":"ECC_NIST_P256"}); cosign-format signatures here need ECC_NIST_P256'],
  ] as const) {
    it(`${what}: refused naming the key`, async () => {
      const arn = kms.createKey();
      kms.tamper.set(arn, { getPublicKey: tamper });
      const r = await runCli(['verify', ref, '--key', `awskms://${kms.host}/${arn}`], { cwd: dir, env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error\[sign\.key(-type)?\]: KMS key /);
      expect(r.stderr).toContain(arn);
      expect(r.stderr).toContain(expected);
      expect(r.stderr).not.toContain('error[internal]');
    });
  }
});
