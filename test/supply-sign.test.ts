// cosign-format signatures made by gamelayer (PEM key and AWS KMS through the real SDK against a local KMS that
// checks SigV4), judged by a tool we did not write: skopeo's policy.json `sigstoreSigned` requirement must accept
// them and refuse a tampered image or signature; and an image signed by skopeo must pass `gamelayer verify`.
// Debian's skopeo has sigstore disabled (a Debian-local patch): there the same rule is applied by openssl + skopeo
// (test/support/cosign-check.ts), and the foreign signature is made by openssl; the log line says which ran.
import { execFileSync } from 'node:child_process';
import { scryptSync, randomBytes, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPES, RegistryClient } from '../src/registry/client.js';
import { headAvailability } from '../src/registry/push.js';
import { pushReferrer, referrerArtifact } from '../src/registry/referrers.js';
import { runCli } from './support/cli-process.js';
import { KMS_TEST_CREDENTIALS, startFakeKms, type FakeKms } from './support/fake-kms.js';
import { foreignSign, sigstorePolicyCheck } from './support/cosign-check.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { tempDir } from './support/tmp.js';

let registry: TestRegistry;
let kms: FakeKms;
let keys: string;
let game: string;
const SIG_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

beforeAll(async () => {
  [registry, kms] = await Promise.all([startRegistry(), startFakeKms()]);
  keys = await tempDir('gl-keys-');
  // Keys made by openssl, not by the code under test.
  execFileSync('sh', ['-c', 'cd "$1" && openssl ecparam -genkey -name prime256v1 -noout | openssl pkcs8 -topk8 -nocrypt -out key.pem && openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null && openssl ecparam -genkey -name prime256v1 -noout -out other.pem && openssl ec -in other.pem -pubout -out other.pub 2>/dev/null', 'sh', keys]);
  // registries.d: read and write sigstore signatures as attachments (sha256-<hex>.sig) for the test registry.
  await mkdir(path.join(keys, 'registries.d'));
  await writeFile(path.join(keys, 'registries.d', 'test.yaml'), `docker:\n  ${registry.host}:\n    use-sigstore-attachments: true\n`);
  game = await tempDir();
  copySample(game);
});
afterAll(async () => {
  // Which independent tool judged (skopeo's policy engine, or openssl where Debian's skopeo has sigstore disabled).
  console.log(`sigstore checks by: ${[...checkedBy].join(', ')}`);
  await Promise.all([registry?.stop(), kms?.stop()]);
});

async function cli(args: string[], env: Record<string, string> = {}) {
  const r = await runCli(args, { cwd: game, env });
  if (r.code !== 0) throw new Error(`gamelayer ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** skopeo's sigstoreSigned policy (or, where Debian's skopeo has sigstore disabled, the same rule by openssl). */
async function accepted(ref: string, pub: string): Promise<boolean> {
  const outcome = await sigstorePolicyCheck(ref, pub, path.join(keys, 'registries.d'));
  checkedBy.add(outcome.by);
  return outcome.accepted;
}
const checkedBy = new Set<string>();

describe('signatures (cosign format)', () => {
  it('build --push --sbom --sign signs every image and the SBOM; the sigstoreSigned policy accepts them; a no-op build signs nothing new', async () => {
    const repo = `${registry.host}/studio/signed`;
    const key = path.join(keys, 'key.pem');
    const built = JSON.parse(await cli(['build', '--push', repo, '--tag', 'v1', '--sbom', '--sign', key, '--json']));
    // server (+ its SBOM) and four tree images
    expect(built.supplyChain.signaturesAdded).toBe(6);
    const server = built.images.find((i: { name: string }) => i.name === 'server');
    const sig = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repo}:${server.digest.replace(':', '-')}.sig`]).toString());
    expect(sig.layers).toHaveLength(1);
    expect(sig.layers[0].mediaType).toBe(SIG_TYPE);
    expect(sig.layers[0].annotations['dev.cosignproject.cosign/signature']).toMatch(/^[A-Za-z0-9+/=]+$/);

    const pub = path.join(keys, 'pub.pem');
    const verified = JSON.parse(await cli(['verify', `${repo}:v1`, '--key', pub, '--require-sbom', '--json']));
    expect(verified.ok).toBe(true);
    expect(verified.items.map((i: { what: string }) => i.what)).toEqual(['image', 'sbom']);
    expect(verified.items[1].documentValid).toBe(true);
    for (const tree of ['engine', 'engine-media', 'app', 'app-media']) {
      expect(await accepted(`${repo}:v1-${tree}`, pub)).toBe(true);
    }
    expect(await accepted(`${repo}:v1`, pub)).toBe(true);
    expect(await accepted(`${repo}@${server.digest}`, pub)).toBe(true);
    // Another key: the policy refuses, gamelayer verify fails.
    expect(await accepted(`${repo}:v1`, path.join(keys, 'other.pub'))).toBe(false);
    const r = await runCli(['verify', `${repo}:v1`, '--key', path.join(keys, 'other.pub')], { cwd: game });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not verify with this key');

    await registry.resetAccessLog();
    const again = JSON.parse(await cli(['build', '--push', repo, '--tag', 'v1', '--sbom', '--sign', key, '--json']));
    expect(again.supplyChain.signaturesAdded).toBe(0);
    expect(again.supplyChain.bytesSent).toBe(0);
    const writes = (await registry.accessLog()).filter((e) => e.method === 'PUT' || e.method === 'POST' || e.method === 'PATCH');
    expect(writes.filter((e) => /\.sig$|sha256-|blobs\/uploads/.test(e.path))).toEqual([]);

    // Someone attaches another (valid CycloneDX, unsigned) SBOM to the image: verify names it and fails.
    const client = new RegistryClient({ host: registry.host });
    const forged = Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] }));
    const head = (await client.headManifest('studio/signed', 'v1'))!;
    const pushedForged = await pushReferrer(
      { client, availability: headAvailability(client) },
      'studio/signed',
      referrerArtifact({ artifactType: 'application/vnd.cyclonedx+json', subject: head, blobs: [{ mediaType: 'application/vnd.cyclonedx+json', bytes: forged }] }),
    );
    const forgedRun = await runCli(['verify', `${repo}:v1`, '--key', pub], { cwd: game });
    expect(forgedRun.code).toBe(1);
    expect(forgedRun.stderr).toContain(`sbom ${pushedForged.digest}: not verified: no signature`);
    expect(forgedRun.stdout).toMatch(/^verified image /m);
    expect(forgedRun.stderr).toContain(`2 SBOMs are attached to ${head.digest}`);
    // An image carries one SBOM: gamelayer sbom prints none of two, with a key or without (sbom-forged-second.test.ts).
    for (const args of [['--key', pub], [], ['--key', path.join(keys, 'other.pub')]]) {
      const printed = await runCli(['sbom', `${repo}:v1`, ...args], { cwd: game });
      expect(printed.code).toBe(1);
      expect(printed.stderr).toContain(`error[sbom.several]: ${repo}:v1: 2 SBOMs are attached to ${head.digest}`);
    }
  }, 300_000);

  it('a swapped layer (with the old signature copied over) and a tampered signature are refused by the sigstoreSigned policy and by gamelayer verify', async () => {
    const repo = `${registry.host}/studio/tamper`;
    const key = path.join(keys, 'key.pem');
    const pub = path.join(keys, 'pub.pem');
    await cli(['build', '--push', repo, '--tag', 'v1', '--sign', key]);
    const client = new RegistryClient({ host: registry.host });
    const orig = await client.getManifest('studio/tamper', 'v1');
    const origSig = await client.getManifest('studio/tamper', `${orig.digest.replace(':', '-')}.sig`);

    // Layer swap: the last layer replaced by another existing layer, pushed under the same tag; the attacker also
    // copies the valid signature to the new digest's signature tag.
    const m = JSON.parse(orig.bytes.toString('utf8'));
    m.layers[m.layers.length - 1] = m.layers[0];
    const swapped = Buffer.from(JSON.stringify(m));
    const swappedDigest = await client.putManifest('studio/tamper', 'v1', swapped, MEDIA_TYPES.ociManifest);
    await client.putManifest('studio/tamper', `${swappedDigest.replace(':', '-')}.sig`, origSig.bytes, MEDIA_TYPES.ociManifest);
    expect(await accepted(`${repo}:v1`, pub)).toBe(false);
    const r1 = await runCli(['verify', `${repo}:v1`, '--key', pub], { cwd: game });
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain(`signs ${orig.digest}, not ${swappedDigest}`);

    // Back to the signed manifest: accepted again (the check above failed for the swap, not for the setup).
    await client.putManifest('studio/tamper', 'v1', orig.bytes, MEDIA_TYPES.ociManifest);
    expect(await accepted(`${repo}:v1`, pub)).toBe(true);

    // Signature tampered: one byte of the DER signature changed.
    const s = JSON.parse(origSig.bytes.toString('utf8'));
    const der = Buffer.from(s.layers[0].annotations['dev.cosignproject.cosign/signature'], 'base64');
    der.writeUInt8(der.readUInt8(der.length - 2) ^ 0x01, der.length - 2);
    s.layers[0].annotations['dev.cosignproject.cosign/signature'] = der.toString('base64');
    await client.putManifest('studio/tamper', `${orig.digest.replace(':', '-')}.sig`, Buffer.from(JSON.stringify(s)), MEDIA_TYPES.ociManifest);
    expect(await accepted(`${repo}:v1`, pub)).toBe(false);
    const r2 = await runCli(['verify', `${repo}:v1`, '--key', pub], { cwd: game });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('does not verify with this key');

    // A hostile extra "signature" layer (the image's biggest layer blob; the registry only takes blobs it holds) next
    // to the valid signature: reported as invalid, and the valid one still counts.
    const hostile = JSON.parse(origSig.bytes.toString('utf8'));
    const biggest = [...m.layers].sort((a: { size: number }, b: { size: number }) => b.size - a.size)[0];
    hostile.layers.unshift({ ...hostile.layers[0], digest: biggest.digest, size: biggest.size });
    await client.putManifest('studio/tamper', `${orig.digest.replace(':', '-')}.sig`, Buffer.from(JSON.stringify(hostile)), MEDIA_TYPES.ociManifest);
    const r3 = JSON.parse(await cli(['verify', `${repo}:v1`, '--key', pub, '--json']));
    expect(r3.ok).toBe(true);
    expect(r3.items[0].signatures[0]).toMatchObject({ valid: false, reason: expect.stringMatching(biggest.size > 65536 ? /more than 65536 allowed/ : /does not verify/) });
    expect(r3.items[0].signatures[1]).toMatchObject({ valid: true });
  }, 300_000);

  it('an image signed without gamelayer (skopeo --sign-by-sigstore-private-key, or openssl) passes gamelayer verify', async () => {
    const repo = `${registry.host}/studio/by-skopeo`;
    await cli(['build', '--push', repo, '--tag', 'v1']);
    // skopeo reads cosign's encrypted private key format: scrypt (N=32768, r=8, p=1) + nacl secretbox over PKCS#8 DER.
    const passphrase = 'Skopeo-Pass-7171';
    const der = createPrivateKey(await readFile(path.join(keys, 'other.pem'))).export({ format: 'der', type: 'pkcs8' });
    const salt = randomBytes(32);
    const nonce = randomBytes(24);
    const secret = scryptSync(passphrase, salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 << 20 });
    const box = nacl.secretbox(new Uint8Array(der), new Uint8Array(nonce), new Uint8Array(secret));
    const body = JSON.stringify({
      kdf: { name: 'scrypt', params: { N: 32768, r: 8, p: 1 }, salt: salt.toString('base64') },
      cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
      ciphertext: Buffer.from(box).toString('base64'),
    });
    const pem = `-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n${Buffer.from(body).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n`;
    await writeFile(path.join(keys, 'skopeo.key'), pem.replace(/\n\n/g, '\n'));
    await writeFile(path.join(keys, 'skopeo.pass'), passphrase);
    const by = await foreignSign(`${repo}:v1`, `${repo}:signed`, await readFile(path.join(keys, 'other.pem'), 'utf8'), { file: path.join(keys, 'skopeo.key'), passphraseFile: path.join(keys, 'skopeo.pass') }, path.join(keys, 'registries.d'));
    checkedBy.add(`signed by ${by}`);
    const verified = JSON.parse(await cli(['verify', `${repo}:signed`, '--key', path.join(keys, 'other.pub'), '--json']));
    expect(verified.ok).toBe(true);
    expect(verified.items[0].signatures[0].payload.dockerReference).toBe(`${repo}:signed`);
    // and not with gamelayer's own key
    expect((await runCli(['verify', `${repo}:signed`, '--key', path.join(keys, 'pub.pem')], { cwd: game })).code).toBe(1);
  }, 300_000);

  it('AWS KMS: sign through the SDK (SigV4 checked), verify with the KMS key or its PEM; the sigstoreSigned policy accepts it', async () => {
    const repo = `${registry.host}/studio/kms`;
    await cli(['build', '--push', repo, '--tag', 'v1', '--sbom']);
    const arn = kms.createKey();
    const env = { AWS_ACCESS_KEY_ID: KMS_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: KMS_TEST_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
    const keyRef = `awskms://${kms.host}/${arn}`;
    const signed = JSON.parse(await cli(['sign', `${repo}:v1`, '--key', keyRef, '--json'], env));
    expect(signed.signed.map((s: { what: string; upToDate: boolean }) => [s.what, s.upToDate])).toEqual([
      ['image', false],
      ['sbom', false],
    ]);
    expect(kms.rejected).toEqual([]);
    const signCalls = kms.calls.filter((c) => c.op === 'Sign');
    expect(signCalls).toHaveLength(2);
    expect(signCalls.every((c) => c.messageType === 'RAW' && c.keyId === arn && c.accessKeyId === KMS_TEST_CREDENTIALS.accessKeyId)).toBe(true);

    const pub = path.join(keys, 'kms.pub');
    await writeFile(pub, kms.publicKeyPem(arn));
    expect(JSON.parse(await cli(['verify', `${repo}:v1`, '--key', keyRef, '--json'], env)).ok).toBe(true);
    expect(JSON.parse(await cli(['verify', `${repo}:v1`, '--key', pub, '--json'])).ok).toBe(true);
    expect(await accepted(`${repo}:v1`, pub)).toBe(true);

    // Signing again: the KMS key's signature is there, nothing new is signed or sent.
    const before = kms.calls.filter((c) => c.op === 'Sign').length;
    const again = JSON.parse(await cli(['sign', `${repo}:v1`, '--key', keyRef, '--json'], env));
    expect(again.bytesSent).toBe(0);
    expect(kms.calls.filter((c) => c.op === 'Sign').length).toBe(before);

    // Wrong credentials: KMS refuses; the message names the key and the refusal, never the secret.
    const bad = await runCli(['sign', `${repo}:v1`, '--key', keyRef], { cwd: game, env: { ...env, AWS_SECRET_ACCESS_KEY: 'Wrong-Kms-Secret-2323' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(arn);
    expect(bad.stderr).toMatch(/InvalidSignatureException|signature mismatch/);
    expect(bad.stderr + bad.stdout).not.toContain('Wrong-Kms-Secret-2323');
    expect(kms.rejected).toContain('signature mismatch');

    // A key cosign-format signatures cannot use.
    const rsa = await runCli(['sign', `${repo}:v1`, '--key', `awskms://${kms.host}/${kms.createRsaKey()}`], { cwd: game, env });
    expect(rsa.code).toBe(1);
    expect(rsa.stderr).toContain('RSA_2048');
  }, 300_000);

  it('several platforms: the index and every platform manifest are signed and verified', async () => {
    const dir = await tempDir();
    copySample(dir);
    const yaml = await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8');
    await writeFile(path.join(dir, 'gamelayer.yaml'), `${yaml}\nplatforms: [linux/amd64, linux/arm64]\n`);
    const repo = `${registry.host}/studio/multi`;
    const key = path.join(keys, 'key.pem');
    const r = await runCli(['build', '--push', repo, '--tag', 'v1', '--sign', key, '--json'], { cwd: dir });
    expect(r.stderr).toBe('');
    const built = JSON.parse(r.stdout);
    // 5 images, each an index with 2 platform manifests
    expect(built.supplyChain.signaturesAdded).toBe(15);
    const v = JSON.parse((await runCli(['verify', `${repo}:v1-app`, '--key', path.join(keys, 'pub.pem'), '--json'], { cwd: dir })).stdout);
    expect(v.ok).toBe(true);
    expect(v.items.map((i: { what: string }) => i.what)).toEqual(['image', 'platform manifest', 'platform manifest']);
    expect(await accepted(`${repo}:v1`, path.join(keys, 'pub.pem'))).toBe(true);
  }, 300_000);

  it('bad keys are clear errors that never print the key', async () => {
    const repo = `${registry.host}/studio/badkey`;
    const missing = await runCli(['build', '--push', repo, '--sign', path.join(keys, 'nope.pem')], { cwd: game });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read key file');
    const rsaFile = path.join(keys, 'rsa.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', rsaFile], { stdio: 'ignore' });
    const rsa = await runCli(['sign', `${repo}:v1`, '--key', rsaFile], { cwd: game });
    expect(rsa.code).toBe(1);
    expect(rsa.stderr).toContain('expected ECDSA P-256');
    const garbage = path.join(keys, 'garbage.pem');
    await writeFile(garbage, '-----BEGIN PRIVATE KEY-----\nR2FyYmFnZS1LZXktOTk5OQ==\n-----END PRIVATE KEY-----\n');
    const g = await runCli(['sign', `${repo}:v1`, '--key', garbage], { cwd: game });
    expect(g.code).toBe(1);
    expect(g.stderr).toContain('not a readable PEM private key');
    expect(g.stderr).not.toContain('R2FyYmFnZS1LZXktOTk5OQ');
  }, 300_000);
});
