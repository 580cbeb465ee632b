// Secrets never leak; user archives never write outside the work folder; symlinks never carry content from
// outside a tree into a layer. Secrets are planted where a CI machine has them (docker config auths, a password
// on stdin, GAMELAYER_REGISTRY_PASSWORD, AWS/CodeBuild environment, bearer tokens from a token service, a secret
// file a symlink points at), then build, push, k8s, ecs, scan and diff run for real, and every output, every file
// under the project, every blob of the store and every file of the registries' storage (layers decompressed) is
// searched for them.
import { execFileSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GamelayerError } from '../src/errors.js';
import { archiveContentSource } from '../src/oci/content.js';
import { createXxh64 } from '../src/scan/hash.js';
import { readArchive } from '../src/scan/read-archive.js';
import type { FileEntry } from '../src/types.js';
import { runCli, type CliResult } from './support/cli-process.js';
import { KMS_TEST_CREDENTIALS, startFakeKms, type FakeKms } from './support/fake-kms.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { writeGame } from './support/trees.js';
import { listFilesUnder } from './support/verify-state.js';

const SECRET = {
  dockerAuth: 'Dk-Auth-Secret-8812',
  stdin: 'Stdin-Secret-5521',
  env: 'Env-Secret-9907',
  wrong: 'Wrong-Secret-3310',
  awsSecretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYAWS-SECRET-77',
  awsSession: 'FwoGZXIvYXdzEXAMPLESESSIONSECRET3141',
  outside: 'Outside-Tree-Secret-4242',
};
/** Every form a secret could leak in: as is, and base64 of `user:password` (Basic auth, docker auths). */
const FORBIDDEN = [
  ...Object.values(SECRET),
  Buffer.from(`ci:${SECRET.dockerAuth}`).toString('base64'),
  Buffer.from(`ci2:${SECRET.stdin}`).toString('base64'),
  Buffer.from(`tok:${SECRET.env}`).toString('base64'),
  Buffer.from(`ci2:${SECRET.wrong}`).toString('base64'),
];
/** A JWT (what a token service or ECR-style auth hands out): header and payload are base64url JSON. */
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+/;

let root: string;
let project: string;
let basic: TestRegistry;
let token: TestRegistry;
let env: Record<string, string>;
const outputs: { what: string; r: CliResult }[] = [];

async function cli(what: string, args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const r = await runCli(args, { cwd: project, env: { ...env, ...opts.env }, stdin: opts.stdin });
  outputs.push({ what, r });
  return r;
}

function leaks(text: string): string[] {
  const found = FORBIDDEN.filter((s) => text.includes(s));
  if (JWT.test(text)) found.push(`a JWT: ${JWT.exec(text)![0].slice(0, 30)}…`);
  return found;
}

/** The bytes of a file, and for gzip (layers) its decompressed bytes too. */
async function contentsOf(file: string): Promise<string> {
  const bytes = await readFile(file);
  const plainText = bytes.toString('latin1');
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return `${plainText}\n${gunzipSync(bytes).toString('latin1')}`;
  return plainText;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'gl-security-'));
  project = path.join(root, 'game');
  await writeGame(project);
  // A secret outside the tree, reachable from inside only through symlinks (to the file and to its folder).
  await mkdir(path.join(root, 'outside'));
  await writeFile(path.join(root, 'outside/credentials.txt'), `${SECRET.outside}\n`);
  await symlink(path.join(root, 'outside/credentials.txt'), path.join(project, 'app/credentials.txt'));
  await symlink('../../outside', path.join(project, 'app-media/outside'));

  basic = await startRegistry({
    auth: 'basic',
    users: [
      { username: 'ci', password: SECRET.dockerAuth },
      { username: 'ci2', password: SECRET.stdin },
    ],
  });
  token = await startRegistry({ auth: 'token', users: [{ username: 'tok', password: SECRET.env }] });
  const dockerConfig = path.join(root, 'docker');
  await mkdir(dockerConfig);
  await writeFile(
    path.join(dockerConfig, 'config.json'),
    JSON.stringify({ auths: { [basic.host]: { auth: Buffer.from(`ci:${SECRET.dockerAuth}`).toString('base64') } } }),
  );
  env = {
    HOME: root,
    DOCKER_CONFIG: dockerConfig,
    // What a CodeBuild job has in its environment.
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: SECRET.awsSecretKey,
    AWS_SESSION_TOKEN: SECRET.awsSession,
    AWS_REGION: 'us-east-1',
    CODEBUILD_BUILD_ID: 'game-build:6c2e1a8c',
    CODEBUILD_BUILD_ARN: 'arn:aws:codebuild:us-east-1:123456789012:build/game-build:6c2e1a8c',
  };

  const runs: [string, string[], { stdin?: string; env?: Record<string, string> }?][] = [
    ['scan', ['scan', '--json']],
    ['build --push (docker config auths)', ['build', '--push', `${basic.host}/studio/game`]],
    ['push --password-stdin', ['push', `${basic.host}/studio/other:1.0.0`, '--username', 'ci2', '--password-stdin'], { stdin: `${SECRET.stdin}\n` }],
    ['push --password-stdin, wrong password', ['push', `${basic.host}/studio/other:1.0.0`, '--username', 'ci2', '--password-stdin'], { stdin: `${SECRET.wrong}\n` }],
    ['push with a token service', ['push', `${token.host}/studio/game:1.0.0`, '--json'], { env: { GAMELAYER_REGISTRY_USERNAME: 'tok', GAMELAYER_REGISTRY_PASSWORD: SECRET.env } }],
    ['k8s', ['k8s', '--repository', `${basic.host}/studio/game`]],
    ['k8s --out', ['k8s', '--repository', `${basic.host}/studio/game`, '--kind', 'deployment', '--out', path.join(project, 'deploy')]],
    ['ecs', ['ecs', '--repository', `${basic.host}/studio/game`]],
    ['diff', ['diff']],
    ['diff --json', ['diff', '--json']],
  ];
  for (const [what, args, opts] of runs) await cli(what, args, opts);
}, 180_000);
afterAll(async () => {
  await Promise.all([basic?.stop(), token?.stop()]);
  if (root) await rm(root, { recursive: true, force: true });
});

describe('planted secrets never leak', () => {
  it('every command ran as expected (so the search below covers real work)', () => {
    const codes = Object.fromEntries(outputs.map((o) => [o.what, o.r.code]));
    expect(codes).toEqual({
      scan: 0,
      'build --push (docker config auths)': 0,
      'push --password-stdin': 0,
      'push --password-stdin, wrong password': 1,
      'push with a token service': 0,
      k8s: 0,
      'k8s --out': 0,
      ecs: 0,
      diff: 0,
      'diff --json': 0,
    });
    expect(token.tokenServer!.issued.some((t) => t.user === 'tok')).toBe(true); // a bearer token was handed out
    expect(outputs.find((o) => o.what.endsWith('wrong password'))!.r.stderr).toContain('requires authentication and refused ours');
  });

  it('the search finds a planted secret where one is (control: the docker config and the outside file)', async () => {
    expect(leaks(await contentsOf(path.join(root, 'docker/config.json')))).toEqual([Buffer.from(`ci:${SECRET.dockerAuth}`).toString('base64')]);
    expect(leaks(await contentsOf(path.join(root, 'outside/credentials.txt')))).toEqual([SECRET.outside]);
  });

  it('is in no stdout or stderr', () => {
    const found = outputs.flatMap((o) => leaks(o.r.stdout + o.r.stderr).map((l) => `${o.what}: ${l}`));
    expect(found).toEqual([]);
  });

  it('is in no file under the project: state, caches, records, store (layers decompressed), emitted specs', async () => {
    const files = await listFilesUnder(project);
    expect(files.filter((f) => f.startsWith('.gamelayer/records/')).length).toBeGreaterThan(0);
    expect(files.filter((f) => f.startsWith('.gamelayer/oci/blobs/')).length).toBeGreaterThan(5);
    // A deployment runs the server image by default (docs/deploy.md), hence the file's name.
    expect(files).toContain('deploy/deployment-server-image.yaml');
    const found: string[] = [];
    for (const f of files) {
      for (const l of leaks(await contentsOf(path.join(project, f)))) found.push(`${f}: ${l}`);
    }
    expect(found).toEqual([]);
  });

  it("is in no file of either registry's storage (layers decompressed)", async () => {
    const found: string[] = [];
    for (const reg of [basic, token]) {
      const files = await listFilesUnder(reg.storageDir);
      expect(files.some((f) => f.endsWith('/data'))).toBe(true);
      for (const f of files) for (const l of leaks(await contentsOf(path.join(reg.storageDir, f)))) found.push(`${reg.host} ${f}: ${l}`);
    }
    expect(found).toEqual([]);
  });

  it('symlinks out of a tree are stored as links: the scan never follows them, no layer holds what they point at', async () => {
    const rec = JSON.parse(await readFile(path.join(project, '.gamelayer/records/build-last.json'), 'utf8')) as {
      manifests: { tree: string; entries: FileEntry[] }[];
    };
    const app = rec.manifests.find((m) => m.tree === 'app')!.entries;
    const media = rec.manifests.find((m) => m.tree === 'app-media')!.entries;
    expect(app.find((e) => e.path === 'credentials.txt')).toMatchObject({ type: 'symlink', linkTarget: path.join(root, 'outside/credentials.txt') });
    expect(media.find((e) => e.path === 'outside')).toMatchObject({ type: 'symlink', linkTarget: '../../outside' });
    expect(media.filter((e) => e.path.startsWith('outside/'))).toEqual([]);
  });
});

describe('signing keys and KMS credentials never leak', () => {
  // A passphrase-protected PEM key and a KMS key (through the local KMS, credentials in the environment): build
  // --push --sbom --sign, sign and verify (also failing ones), then every output, project file and registry file
  // is searched for the key in every form (PEM lines, DER base64, the private scalar in hex and base64url), the
  // passphrase and the KMS secret.
  const PASSPHRASE = 'Key-Passphrase-5151';
  let kms: FakeKms;
  const signOutputs: { what: string; r: CliResult }[] = [];
  let forbidden: string[] = [];

  beforeAll(async () => {
    kms = await startFakeKms();
    const keyDir = path.join(root, 'keys');
    await mkdir(keyDir);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }).toString();
    await writeFile(path.join(keyDir, 'key.pem'), pem);
    await writeFile(path.join(keyDir, 'pub.pem'), createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }));
    const d = privateKey.export({ format: 'jwk' }).d!;
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    forbidden = [
      PASSPHRASE,
      KMS_TEST_CREDENTIALS.secretAccessKey,
      d,
      Buffer.from(d, 'base64url').toString('hex'),
      Buffer.from(d, 'base64url').toString('base64'),
      der.toString('base64').slice(0, 60),
      ...pem.split('\n').filter((l) => l.length > 40 && !l.startsWith('-----')),
    ];
    const arn = kms.createKey();
    const kmsEnv = { AWS_ACCESS_KEY_ID: KMS_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: KMS_TEST_CREDENTIALS.secretAccessKey, AWS_SESSION_TOKEN: '' };
    const repo = `${basic.host}/studio/signed`;
    const run = async (what: string, args: string[], extra: Record<string, string> = {}) => {
      const r = await runCli(args, { cwd: project, env: { ...env, ...extra } });
      signOutputs.push({ what, r });
    };
    await run('build --push --sbom --sign', ['build', '--push', repo, '--tag', 's1', '--sbom', '--sign', path.join(keyDir, 'key.pem'), '--json'], { GAMELAYER_SIGNING_KEY_PASSWORD: PASSPHRASE });
    await run('sign, wrong passphrase', ['sign', `${repo}:s1`, '--key', path.join(keyDir, 'key.pem')], { GAMELAYER_SIGNING_KEY_PASSWORD: 'not-it' });
    await run('sign with KMS', ['sign', `${repo}:s1`, '--key', `awskms://${kms.host}/${arn}`, '--json'], kmsEnv);
    await run('sign with KMS, wrong secret', ['sign', `${repo}:s1`, '--key', `awskms://${kms.host}/${arn}`], { ...kmsEnv, AWS_SECRET_ACCESS_KEY: `${KMS_TEST_CREDENTIALS.secretAccessKey}x` });
    await run('verify with the PEM', ['verify', `${repo}:s1`, '--key', path.join(keyDir, 'pub.pem'), '--json']);
    await run('verify with KMS', ['verify', `${repo}:s1`, '--key', `awskms://${kms.host}/${arn}`], kmsEnv);
    await run('sbom', ['sbom', `${repo}:s1`]);
  }, 180_000);
  afterAll(async () => kms?.stop());

  const leaked = (text: string) => forbidden.filter((f) => text.includes(f));

  it('every command ran as expected', () => {
    expect(Object.fromEntries(signOutputs.map((o) => [o.what, o.r.code]))).toEqual({
      'build --push --sbom --sign': 0,
      'sign, wrong passphrase': 1,
      'sign with KMS': 0,
      'sign with KMS, wrong secret': 1,
      'verify with the PEM': 0,
      'verify with KMS': 0,
      sbom: 0,
    });
    expect(signOutputs[1]!.r.stderr).toContain('is the passphrase right?');
    expect(kms.rejected).toContain('signature mismatch');
  });

  it('the search finds the key where it is (control: the key file)', async () => {
    expect(leaked(await readFile(path.join(root, 'keys/key.pem'), 'latin1')).length).toBeGreaterThan(0);
  });

  it('is in no output, no project file and no registry file', async () => {
    const found = signOutputs.flatMap((o) => leaked(o.r.stdout + o.r.stderr).map((l) => `${o.what}: ${l}`));
    for (const f of await listFilesUnder(project)) for (const l of leaked(await contentsOf(path.join(project, f)))) found.push(`${f}: ${l}`);
    const files = await listFilesUnder(basic.storageDir);
    expect(files.some((f) => f.includes('sha256-'))).toBe(true); // the signature tags are there to search
    for (const f of files) for (const l of leaked(await contentsOf(path.join(basic.storageDir, f)))) found.push(`registry ${f}: ${l}`);
    expect(found).toEqual([]);
  });
});

describe('archives never write outside the work folder', () => {
  /** A tar.gz written by Python's tarfile, which writes hostile entries as asked. */
  function hostileTar(file: string, script: string): void {
    execFileSync('python3', [
      '-c',
      `import tarfile, io\nt = tarfile.open(${JSON.stringify(file)}, 'w:gz')\n` +
        `def add(name, data):\n    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))\n` +
        `def link(name, target):\n    i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)\n${script}\nt.close()`,
    ]);
  }

  async function snapshot(dir: string): Promise<string[]> {
    return (await readdir(dir, { recursive: true })).map(String).sort();
  }

  it('the archive content cache writes only files named by content hash inside its own folder, whatever the entries say', async () => {
    const work = await mkdtemp(path.join(root, 'traversal-'));
    const cacheDir = path.join(work, 'state/cache/archive-content');
    const tgz = path.join(work, 'hostile.tar.gz');
    // Classic escapes: .. members, an absolute member, and a symlink followed by a member written "through" it.
    hostileTar(
      tgz,
      [
        "add('ok.cfg', b'fine')",
        "add('../escaped-dotdot', b'pwned-1')",
        `add(${JSON.stringify(path.join(work, 'escaped-absolute'))}, b'pwned-2')`,
        `link('up', ${JSON.stringify(work)})`,
        "add('up/escaped-through-link', b'pwned-3')",
      ].join('\n'),
    );
    // The scan refuses this archive outright...
    await expect(readArchive(tgz, 'gzip', { include: ['**'], exclude: [] }, 'engine')).rejects.toThrow(GamelayerError);
    // ...and even handed such entries directly (as a forged manifest would), the content cache stays in its folder.
    const hashOf = async (s: string) => {
      const h = await createXxh64();
      h.update(Buffer.from(s));
      return h.digest();
    };
    const entry = async (p: string, data: string): Promise<FileEntry> => ({ path: p, type: 'file', mode: 0o644, size: data.length, xxh64: await hashOf(data) });
    const entries = [
      await entry('ok.cfg', 'fine'),
      await entry('../escaped-dotdot', 'pwned-1'),
      await entry(path.join(work, 'escaped-absolute').slice(1), 'pwned-2'),
      await entry('up/escaped-through-link', 'pwned-3'),
    ];
    const before = await snapshot(work);
    const source = await archiveContentSource({ kind: 'archive', path: tgz, compression: 'gzip' }, { cacheDir, entries });
    const read = async (e: FileEntry) => {
      const chunks: Buffer[] = [];
      for await (const c of await source.open(e)) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString();
    };
    expect(await read(entries[0]!)).toBe('fine');
    expect(await read(entries[3]!)).toBe('pwned-3'); // served from the cache, by hash, not through the link
    const after = await snapshot(work);
    const added = after.filter((f) => !before.includes(f));
    // Only the cache folders and files named by 16 hex digits appear; nothing else anywhere in the work folder.
    expect(added.every((f) => f === 'state' || f.startsWith('state/cache'))).toBe(true);
    expect(added.filter((f) => f.startsWith('state/cache/archive-content/')).every((f) => /\/[0-9a-f]{16}$/.test(f))).toBe(true);
    expect(existsSync(path.join(root, 'escaped-dotdot'))).toBe(false);
    expect(existsSync(path.join(work, 'escaped-absolute'))).toBe(false);
    expect(existsSync(path.join(work, 'escaped-through-link'))).toBe(false);
  });

  it('a content hash that is not 16 hex digits (a forged record or cache) is refused before it names a file', async () => {
    const work = await mkdtemp(path.join(root, 'forged-'));
    const tgz = path.join(work, 'a.tar.gz');
    hostileTar(tgz, "add('a.cfg', b'x')");
    const forged: FileEntry = { path: 'a.cfg', type: 'file', mode: 0o644, size: 1, xxh64: '../../../../tmp/pwned' };
    const cacheDir = path.join(work, 'cache');
    const e = await archiveContentSource({ kind: 'archive', path: tgz, compression: 'gzip' }, { cacheDir, entries: [forged] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GamelayerError);
    expect((e as GamelayerError).message).toBe(`${tgz}: a.cfg has the content hash "../../../../tmp/pwned"; expected 16 hex digits`);
    expect(await readdir(cacheDir)).toEqual([]);
  });
});
