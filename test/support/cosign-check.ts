// Checks and signatures of the cosign registry format made by tools other than gamelayer.
//
// The reference is skopeo with a policy.json `sigstoreSigned` requirement (and `--sign-by-sigstore-private-key`).
// Debian's skopeo 1.9.3 (and its podman / buildah) are built with a Debian-local patch that disables sigstore: they
// answer "Debian-local change: sigstore disabled". On such a machine the same rule is applied with other
// independent tools: skopeo fetches the manifest, the signature manifest and the payload (`skopeo copy … dir:`),
// sha256sum gives the manifest digest, openssl verifies the ECDSA signature, and the payload's critical section must
// name that digest and the reference (containers/image's matchRepoDigestOrExact). Signing likewise: openssl signs
// the payload, and the signature manifest is put through the plain registry API.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const SIGSTORE_DISABLED = 'sigstore disabled';
const SIG_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
const ANNOTATION = 'dev.cosignproject.cosign/signature';

export interface PolicyOutcome {
  accepted: boolean;
  /** What decided: skopeo's policy engine, or the openssl + skopeo rule on a Debian skopeo. */
  by: 'skopeo-policy' | 'openssl';
  detail: string;
}

/** Set once skopeo answered "sigstore disabled": the binary does not change, so later checks go to openssl at once. */
let skopeoLacksSigstore = false;

/** `skopeo copy --policy` (sigstoreSigned, keyPath `pub`) of `ref`; the openssl rule where skopeo lacks sigstore. */
export async function sigstorePolicyCheck(ref: string, pub: string, registriesD: string): Promise<PolicyOutcome> {
  const host = ref.slice(0, ref.indexOf('/'));
  const work = await mkdtemp(path.join(os.tmpdir(), 'gl-policy-'));
  try {
    const policy = path.join(work, 'policy.json');
    await writeFile(
      policy,
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: { docker: { [host]: [{ type: 'sigstoreSigned', keyPath: pub, signedIdentity: { type: 'matchRepoDigestOrExact' } }] } },
      }),
    );
    if (!skopeoLacksSigstore) {
      const r = spawnSync('skopeo', ['--registries.d', registriesD, '--policy', policy, 'copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${work}/layout:x`], { encoding: 'utf8' });
      if (!r.stderr.includes(SIGSTORE_DISABLED)) return { accepted: r.status === 0, by: 'skopeo-policy', detail: r.stderr };
      skopeoLacksSigstore = true;
    }
    return { ...(await opensslRule(ref, pub, work)), by: 'openssl' };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function skopeo(args: string[]): Buffer {
  return execFileSync('skopeo', args, { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function opensslRule(ref: string, pub: string, work: string): Promise<{ accepted: boolean; detail: string }> {
  const manifest = skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
  const digest = `sha256:${execFileSync('sha256sum', { input: manifest }).toString().slice(0, 64)}`;
  const repo = ref.replace(/[:@][^/]*$/, '');
  const sigRef = `${repo}:${digest.replace(':', '-')}.sig`;
  const sigDir = path.join(work, 'sig');
  const copied = spawnSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${sigRef}`, `dir:${sigDir}`], { encoding: 'utf8' });
  if (copied.status !== 0) return { accepted: false, detail: `no signature: ${copied.stderr.trim()}` };
  const sigManifest = JSON.parse(await readFile(path.join(sigDir, 'manifest.json'), 'utf8')) as { layers: { mediaType: string; digest: string; annotations?: Record<string, string> }[] };
  const reasons: string[] = [];
  for (const l of sigManifest.layers) {
    if (l.mediaType !== SIG_TYPE || !l.annotations?.[ANNOTATION]) continue;
    const payloadFile = path.join(sigDir, l.digest.slice('sha256:'.length));
    const sigFile = path.join(work, 'sig.der');
    await writeFile(sigFile, Buffer.from(l.annotations[ANNOTATION], 'base64'));
    const v = spawnSync('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', sigFile, payloadFile], { encoding: 'utf8' });
    if (!v.stdout.includes('Verified OK')) {
      reasons.push(`openssl: ${v.stdout.trim() || v.stderr.trim()}`);
      continue;
    }
    const payload = JSON.parse(await readFile(payloadFile, 'utf8'));
    const keys = Object.keys(payload.critical ?? {}).sort().join(',');
    if (keys !== 'identity,image,type' || payload.critical.type !== 'cosign container image signature') {
      reasons.push(`payload critical section ${keys}`);
      continue;
    }
    if (payload.critical.image['docker-manifest-digest'] !== digest) {
      reasons.push(`signs ${payload.critical.image['docker-manifest-digest']}, manifest is ${digest}`);
      continue;
    }
    // matchRepoDigestOrExact: a tag reference must match exactly; a digest reference, the repository.
    const identity = payload.critical.identity['docker-reference'];
    const wanted = ref.includes('@') ? repo : ref;
    const got = ref.includes('@') ? identity.replace(/[:@][^/]*$/, '') : identity;
    if (got !== wanted) {
      reasons.push(`identity ${identity} for ${ref}`);
      continue;
    }
    return { accepted: true, detail: 'Verified OK' };
  }
  return { accepted: false, detail: reasons.join('; ') || 'no simple-signing layer' };
}

/**
 * Signs `ref` as skopeo --sign-by-sigstore-private-key would, without gamelayer: skopeo when it has sigstore,
 * else openssl for the signature and the plain registry API for the signature manifest.
 */
export async function foreignSign(src: string, dest: string, privateKeyPem: string, cosignKey: { file: string; passphraseFile: string }, registriesD: string): Promise<'skopeo' | 'openssl'> {
  const r = spawnSync(
    'skopeo',
    ['--registries.d', registriesD, 'copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--sign-by-sigstore-private-key', cosignKey.file, '--sign-passphrase-file', cosignKey.passphraseFile, `docker://${src}`, `docker://${dest}`],
    { encoding: 'utf8' },
  );
  if (r.status === 0) return 'skopeo';
  if (!r.stderr.includes(SIGSTORE_DISABLED)) throw new Error(`skopeo copy --sign-by-sigstore-private-key failed: ${r.stderr}`);
  // The copy itself (skopeo, unsigned), then the signature.
  skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${src}`, `docker://${dest}`]);
  const manifest = skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${dest}`]);
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  const payload = Buffer.from(
    JSON.stringify({ critical: { identity: { 'docker-reference': dest }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: { creator: 'openssl test signer' } }),
  );
  const work = await mkdtemp(path.join(os.tmpdir(), 'gl-sign-'));
  try {
    await writeFile(path.join(work, 'payload'), payload);
    await writeFile(path.join(work, 'key.pem'), privateKeyPem);
    const signature = execFileSync('openssl', ['dgst', '-sha256', '-sign', path.join(work, 'key.pem'), path.join(work, 'payload')]);
    const [host, ...rest] = dest.split('/');
    const repoPath = rest.join('/').replace(/:[^/]*$/, '');
    const config = Buffer.from(JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(payload)}`] } }));
    await putBlob(host!, repoPath, payload);
    await putBlob(host!, repoPath, config);
    const sigManifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: [{ mediaType: SIG_TYPE, digest: `sha256:${sha(payload)}`, size: payload.length, annotations: { [ANNOTATION]: signature.toString('base64') } }],
    });
    const res = await fetch(`http://${host}/v2/${repoPath}/manifests/${digest.replace(':', '-')}.sig`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: sigManifest,
    });
    if (res.status !== 201) throw new Error(`put signature manifest: HTTP ${res.status} ${await res.text()}`);
    return 'openssl';
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function putBlob(host: string, repo: string, bytes: Buffer): Promise<void> {
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`start upload: HTTP ${start.status}`);
  const location = new URL(start.headers.get('location')!, `http://${host}`);
  location.searchParams.set('digest', `sha256:${sha(bytes)}`);
  const put = await fetch(location, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
  if (put.status !== 201) throw new Error(`put blob: HTTP ${put.status}`);
}
