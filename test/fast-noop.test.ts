// The checked fast path of a no-op `build --push` (issue 17 item 3; src/cli/fast-noop.ts, docs/builds.md): the run
// after a no-op, with nothing changed, prints what the full path prints (but its timings), changes nothing the full
// path would not, and only reads the registry; any change of what the stamp vouched for falls through to the full
// path, which GAMELAYER_DEBUG_FAST_NOOP=1 makes say why. A real registry, the real CLI, no mocks.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, cp, open, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { maskTimings } from '../src/cli/fast-noop/replay.js';
import { mkfifo } from './support/mkfifo.js';
import { storedBlobs, storedManifests, storedTags } from './support/registry.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';
import { upgradedCli } from './support/upgraded-cli.js';

const BIN = path.resolve('bin/gamelayer.js');
const registry = useRegistry();
const NOT_TAKEN = 'gamelayer: fast no-op path not taken: ';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}, bin = BIN): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, GAMELAYER_DEBUG_FAST_NOOP: '1', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Why the fast path fell through (GAMELAYER_DEBUG_FAST_NOOP's line), or undefined when it answered. */
function reason(r: Run): string | undefined {
  const line = r.stderr.split('\n').find((l) => l.startsWith(NOT_TAKEN));
  return line?.slice(NOT_TAKEN.length);
}

/**
 * Runs `args` until the full path stamps a no-op, or a stamp answers (at most 8 runs, half a second apart): a run that hashed a file
 * again prints that, with a timing, and is not stamped; the scan hashes a file changed in the last 2 s on every run
 * (the stat cache's racy window). Returns the runs' fall-through reasons.
 */
async function untilStamped(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<(string | undefined)[]> {
  const reasons: (string | undefined)[] = [];
  for (let i = 0; i < 8; i++) {
    const r = await run(dir, args, env);
    expect(r.code).toBe(0);
    reasons.push(reason(r));
    // Answered by the fast path: a stamp is there (a build's stamp pass wrote it).
    if (reason(r) === undefined || !r.stderr.includes('gamelayer: no-op not stamped: ')) return reasons;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no stamp after 8 runs: ${reasons.join('; ')}`);
}

/** A sample game pushed once and then run as a no-op by the full path until it stamped it. */
async function stampedGame(name: string, yaml?: (text: string) => string): Promise<{ dir: string; repo: string; args: string[] }> {
  const dir = await tempDir();
  copySample(dir);
  if (yaml) await writeFile(path.join(dir, 'gamelayer.yaml'), yaml(await readFile(path.join(dir, 'gamelayer.yaml'), 'utf8')));
  const repo = `${registry.host}/studio/${name}`;
  const args = ['build', '--push', repo, '--tag', 'v1', '--line', 'main'];
  expect((await untilStamped(dir, args))[0]).toBe('no stamp');
  return { dir, repo, args };
}

/** Every entry of the state folder: each file's name, inode, size, mtime and content hash; each folder's name. */
async function stateSnapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const name of (await readdir(d)).sort()) {
      const full = path.join(d, name);
      const st = await stat(full, { bigint: true });
      const rel = path.relative(dir, full);
      if (st.isDirectory()) {
        out.push(`${rel}/`);
        await walk(full);
      } else out.push(`${rel} ino=${st.ino} size=${st.size} mtime=${st.mtimeNs} sha256=${createHash('sha256').update(await readFile(full)).digest('hex')}`);
    }
  };
  await walk(path.join(dir, '.gamelayer'));
  return out;
}

async function registrySnapshot(repo: string): Promise<unknown> {
  const name = repo.slice(registry.host.length + 1);
  return { tags: await storedTags(registry.storageDir, name), manifests: (await storedManifests(registry.storageDir, name)).sort(), blobs: (await storedBlobs(registry.storageDir, name)).sort() };
}

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

/** Points `tag` of `repo` at the manifest `from` names (through the registry's API, as another pusher would). */
async function moveTag(repo: string, tag: string, from: string): Promise<void> {
  const name = repo.slice(registry.host.length + 1);
  const got = await fetch(`http://${registry.host}/v2/${name}/manifests/${from}`, { headers: { accept: ACCEPT } });
  expect(got.status).toBe(200);
  const put = await fetch(`http://${registry.host}/v2/${name}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': got.headers.get('content-type')! }, body: Buffer.from(await got.arrayBuffer()) });
  expect(put.status).toBe(201);
}

/** The layers the game's last build record names (tree markers too), each once. */
async function recordLayers(dir: string): Promise<string[]> {
  const text = await readFile(path.join(dir, '.gamelayer', 'records', 'build-v1.json'), 'utf8');
  return [...new Set((JSON.parse(text.slice(text.indexOf('{'))) as { layers: { digest: string }[] }).layers.map((l) => l.digest))];
}

/** The record blob the record tag's index names (its artifact manifest's one layer), as the registry serves it. */
async function recordBlobOf(repo: string, tag = 'v1.gamelayer-record'): Promise<{ digest: string; size: number; data: string }> {
  const name = repo.slice(registry.host.length + 1);
  const get = async (ref: string) => (await (await fetch(`http://${registry.host}/v2/${name}/manifests/${ref}`, { headers: { accept: ACCEPT } })).json()) as { manifests?: { digest: string; platform?: { os: string } }[]; layers?: { digest: string; size: number }[] };
  const index = await get(tag);
  const artifact = await get(index.manifests!.find((m) => m.platform?.os === 'unknown')!.digest);
  const { digest, size } = artifact.layers![0]!;
  const hex = digest.slice('sha256:'.length);
  return { digest, size, data: path.join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data') };
}

const sortedLines = (s: string) => s.split('\n').filter((l) => !l.startsWith(NOT_TAKEN)).sort();

describe('the fast path of a no-op build --push', () => {
  it('prints what the full path prints, changes what it changes, and only reads the registry', async () => {
    const { dir, repo, args } = await stampedGame('fast-same');
    const stateBefore = await stateSnapshot(dir);
    const registryBefore = await registrySnapshot(repo);
    await registry.resetAccessLog();

    const fast = await run(dir, args);
    await new Promise((r) => setTimeout(r, 100));
    const log = await registry.accessLog();
    expect(fast.code).toBe(0);
    expect(reason(fast)).toBeUndefined();
    // Each once: HEAD of the image tags, the record's tag and the line tag, and each layer the record keeps; GET of the
    // record blob (hashed, as the full path does).
    const name = repo.slice(registry.host.length + 1);
    const layers = await recordLayers(dir);
    expect(log.map((e) => `${e.method} ${e.path}`).sort()).toEqual(
      [
        ...['v1', 'v1-engine', 'v1-engine-media', 'v1-app', 'v1-app-media', 'v1.gamelayer-record', 'gamelayer-line.main'].map((t) => `HEAD /v2/${name}/manifests/${t}`),
        ...layers.map((d) => `HEAD /v2/${name}/blobs/${d}`),
        `GET /v2/${name}/blobs/${(await recordBlobOf(repo)).digest}`,
      ].sort(),
    );
    expect(await stateSnapshot(dir)).toEqual(stateBefore);
    expect(await registrySnapshot(repo)).toEqual(registryBefore);

    // The full path on the same state: the same output but its timings, the same state folder (but the stamp, which
    // it removes) and registry.
    await registry.resetAccessLog();
    const full = await run(dir, args, { GAMELAYER_NO_FAST_NOOP: '1' });
    await new Promise((r) => setTimeout(r, 100));
    expect(full.code).toBe(0);
    expect(reason(full)).toBeUndefined();
    expect(maskTimings(fast.stdout)).toBe(maskTimings(full.stdout));
    expect(fast.stdout).toMatch(/scan \d+\.\d\ds, total \d+\.\d\ds/);
    // stderr: the same lines (the full path says each tag is up to date in the order the answers come).
    expect(sortedLines(fast.stderr)).toEqual(sortedLines(full.stderr));
    expect(await stateSnapshot(dir)).toEqual(stateBefore.filter((e) => !e.startsWith('.gamelayer/cache/fast-noop/') || e.endsWith('/')));
    expect(await registrySnapshot(repo)).toEqual(registryBefore);
    // The full path asks more (the ping, the kept layers): what a test of a fall-through sees.
    expect((await registry.accessLog()).some((e) => e.path === '/v2/')).toBe(true);
  });

  it('falls through on a changed, touched, added or removed file of a tree', async () => {
    const { dir, args } = await stampedGame('fast-files');
    const app = path.join(dir, 'app');
    const file = path.join(app, 'config', (await readdir(path.join(app, 'config')))[0]!);
    const steps: [string, () => Promise<void>][] = [
      ['changed content', async () => {
        const text = await readFile(file);
        text[0] = text[0] === 0x41 ? 0x42 : 0x41;
        await writeFile(file, text);
      }],
      ['touched', () => utimes(file, new Date(), new Date(Date.now() - 3_600_000))],
      ['added', () => writeFile(path.join(app, 'config', 'new.cfg'), 'x\n')],
      ['removed', () => rm(path.join(app, 'config', 'new.cfg'))],
    ];
    for (const [what, change] of steps) {
      await change();
      const reasons = await untilStamped(dir, args);
      expect(reasons[0], what).toBe(`tree source ${app} changed`);
      // The full path ran (and stamped its own outcome once it was a no-op): the next run is the fast path's.
      expect(reason(await run(dir, args)), what).toBeUndefined();
    }
  });

  it('falls through on a change in a path the tree excludes', async () => {
    const { dir, args } = await stampedGame('fast-excluded', (y) => y.replace('    source: ./app\n', '    source: ./app\n    exclude: ["logs/**"]\n'));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(path.join(dir, 'app', 'logs'), { recursive: true });
    await writeFile(path.join(dir, 'app', 'logs', 'server.log'), 'started\n');
    const r = await run(dir, args);
    expect(r.code).toBe(0);
    expect(reason(r)).toBe(`tree source ${path.join(dir, 'app')} changed`);
    // Excluded: the full path built nothing; it was a no-op, stamped, and the fast path answers the next run.
    expect(r.stdout).toContain('layers: 0 built');
    // Not stamped: the log was written in the scan's racy window (2 s), though the scan hashed nothing to say so.
    expect(r.stderr).toContain('gamelayer: no-op not stamped: a file of a tree was written in the 2000 ms before it started');
    await untilStamped(dir, args).catch(() => undefined);
    expect(reason(await run(dir, args))).toBeUndefined();
  });

  it('falls through on the config text, an environment variable, another flag or another command line', async () => {
    const { dir, args } = await stampedGame('fast-key');
    expect(reason(await run(dir, args, { GAMELAYER_REGISTRY_RETRIES: '3' }))).toBe('environment variable GAMELAYER_REGISTRY_RETRIES changed');
    // That run stamped itself under its environment: the one without the variable differs again.
    expect(reason(await run(dir, args))).toBe('environment variable GAMELAYER_REGISTRY_RETRIES changed');
    expect(reason(await run(dir, args))).toBeUndefined();
    expect(reason(await run(dir, [...args, '--json']))).toBe('not a command line it answers');
    expect(reason(await run(dir, [...args, '--rebase']))).toBe('not a command line it answers');
    // No --line: the line would come from the git branch (or none), which the fast path does not check: no stamp.
    const gitLine = ['build', '--push', args[2]!, '--tag', 'v1'];
    for (let i = 0; i < 2; i++) {
      const r = await run(dir, gitLine);
      expect(reason(r)).toBe('no stamp');
      expect(r.stderr).toMatch(/gamelayer: no-op not stamped: the line is not named by --line or the environment \((no branch found|git branch)\)/);
    }
    // Another line: a stamp of its own (none yet). Its build wrote the state folder (the last build's record) and
    // its push moved the build's record tag to its own record: the next run of the first line is the full path's.
    expect(reason(await run(dir, [...args.slice(0, -2), '--line', 'other']))).toBe('no stamp');
    expect(reason(await run(dir, args))).toBe('state folder changed');
    await untilStamped(dir, args);
    await appendFile(path.join(dir, 'gamelayer.yaml'), '# a comment\n');
    expect((await untilStamped(dir, args))[0]).toBe('config text changed');
    expect(reason(await run(dir, args))).toBeUndefined();
  });

  it('answers after a diff against the repository that kept record blobs, which the no-op does not read', async () => {
    const { dir, repo, args } = await stampedGame('fast-diff');
    const blobs = path.join(dir, '.gamelayer', 'cache', 'record-blobs');
    // CodeBuild's pre_build and post_build diffs: each reads a record blob from the registry and keeps a copy.
    for (const diff of [['diff', '--against', repo, '--line', 'main'], ['diff', '--against', repo, '--previous']]) {
      const d = await run(dir, diff);
      expect(d.code, diff.join(' ')).toBe(0);
    }
    expect(await readdir(blobs)).toEqual([`${(await recordBlobOf(repo)).digest.slice('sha256:'.length)}.blob`]);
    const r = await run(dir, args);
    expect(r.code).toBe(0);
    expect(reason(r)).toBeUndefined();
    // The full no-op reads its line's record from the line's copy, not there: a copy gone is not read or kept again.
    await rm(blobs, { recursive: true });
    const full = await run(dir, args, { GAMELAYER_NO_FAST_NOOP: '1' });
    expect(full.code).toBe(0);
    await expect(stat(blobs)).rejects.toThrow();
  });

  it('falls through on a tag moved or deleted or a kept layer deleted in the registry, and the full path puts it back', async () => {
    const { dir, repo, args } = await stampedGame('fast-tags');
    const name = repo.slice(registry.host.length + 1);
    const before = await registrySnapshot(repo);
    await moveTag(repo, 'v1-app', 'v1-engine');
    const moved = await run(dir, args);
    expect(moved.code).toBe(0);
    expect(reason(moved)).toBe(`tag v1-app moved in ${name}`);
    expect((await registrySnapshot(repo) as { tags: unknown }).tags).toEqual((before as { tags: unknown }).tags);
    await untilStamped(dir, args);
    expect(reason(await run(dir, args))).toBeUndefined();

    // A kept layer's blob deleted from the repository (its manifests stay): the full path sends it again.
    const [layer] = await recordLayers(dir);
    expect((await fetch(`http://${registry.host}/v2/${name}/blobs/${layer}`, { method: 'DELETE' })).status).toBe(202);
    await registry.resetAccessLog();
    const lost = await run(dir, args);
    expect(lost.code).toBe(0);
    expect(reason(lost)).toBe(`layer ${layer} gone from ${name}`);
    expect(await registry.uploadedBlobs(name)).toContain(layer);
    await untilStamped(dir, args);
    expect(reason(await run(dir, args))).toBeUndefined();

    const head = await fetch(`http://${registry.host}/v2/${name}/manifests/v1.gamelayer-record`, { method: 'HEAD', headers: { accept: ACCEPT } });
    expect((await fetch(`http://${registry.host}/v2/${name}/manifests/${head.headers.get('docker-content-digest')}`, { method: 'DELETE' })).status).toBe(202);
    const gone = await run(dir, args);
    expect(gone.code).toBe(0);
    expect(reason(gone)).toMatch(/^tag (v1\.gamelayer-record|gamelayer-line\.main) gone from /);
    expect((await registrySnapshot(repo) as { tags: Record<string, string> }).tags['v1.gamelayer-record']).toBeDefined();
  });

  it('keeps no value of a variable in its stamp, owner-only, and still names a changed one', async () => {
    const dir = await tempDir();
    copySample(dir);
    const args = ['build', '--push', `${registry.host}/studio/fast-secret`, '--tag', 'v1', '--line', 'main'];
    const secrets = { AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-secret-key-1', GAMELAYER_REGISTRY_USERNAME: 'ci-user-7', GAMELAYER_REGISTRY_PASSWORD: 'pw-9f3k2' };
    await untilStamped(dir, args, secrets);
    expect(reason(await run(dir, args, secrets))).toBeUndefined();
    const stamps = path.join(dir, '.gamelayer', 'cache', 'fast-noop');
    const [file] = await readdir(stamps);
    const text = await readFile(path.join(stamps, file!), 'utf8');
    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
    expect((await stat(path.join(stamps, file!))).mode & 0o777).toBe(0o600);
    const changed = await run(dir, args, { ...secrets, AWS_SECRET_ACCESS_KEY: 'another-secret' });
    expect(changed.code).toBe(0);
    expect(reason(changed)).toBe('environment variable AWS_SECRET_ACCESS_KEY changed');
  });

  it('falls through on a damaged or deleted record blob in the registry, which the full path repairs or reports', async () => {
    const { dir, repo, args } = await stampedGame('fast-record');
    const name = repo.slice(registry.host.length + 1);
    const blob = await recordBlobOf(repo);
    const bytes = await readFile(blob.data);
    const original = Buffer.from(bytes);
    const at = bytes.length >> 1;
    bytes[at] = bytes[at]! ^ 0x01;
    await writeFile(blob.data, bytes);
    const damaged = await run(dir, args);
    expect(damaged.code).toBe(0);
    expect(reason(damaged)).toBe(`record blob ${blob.digest}: other bytes in ${name}`);
    // The full path stored the record anew: the record tag's blob is now intact bytes.
    const now = await recordBlobOf(repo);
    expect(now.digest).not.toBe(blob.digest);
    expect(`sha256:${createHash('sha256').update(await readFile(now.data)).digest('hex')}`).toBe(now.digest);
    await untilStamped(dir, args);
    expect(reason(await run(dir, args))).toBeUndefined();

    expect((await fetch(`http://${registry.host}/v2/${name}/blobs/${now.digest}`, { method: 'DELETE' })).status).toBe(202);
    const lost = await run(dir, args);
    expect(reason(lost)).toBe(`record blob ${now.digest} gone from ${name}`);
    // The full path reads the previous record from there and reports it gone (the fast path answered 0 before).
    expect(lost.code).not.toBe(0);
    expect(lost.stderr).toContain(`error[registry.not-found]: get build record ${now.digest} from ${name}`);
    // The registry's storage is the file's: a record of the same content in another test (records are deterministic)
    // is the same blob, which must not stay damaged for it.
    await writeFile(blob.data, original);
  });

  it('falls through when a build of another tag took the last-build pointer as the no-op ended', async () => {
    const dir = await tempDir();
    copySample(dir);
    const state = path.join(dir, '.gamelayer');
    const records = path.join(state, 'records');
    const trigger = path.join(dir, 'swap-now');
    const swap = { stateDir: state, pointer: path.join(records, 'build-last.json'), ours: path.join(records, 'build-v1.json'), theirs: path.join(records, 'build-v2.json'), trigger };
    const env = { NODE_OPTIONS: `--require ${path.resolve('test/support/swap-pointer-at-walk.cjs')}`, GL_TEST_SWAP_POINTER: JSON.stringify(swap) };
    const args = ['build', '--push', `${registry.host}/studio/fast-pointer`, '--tag', 'v1', '--line', 'main'];
    await untilStamped(dir, args, env);
    // A build of v2 (no push), then the no-op of v1 points the pointer back at v1; as it ends, v2's build (the
    // hook) takes the pointer again.
    expect((await run(dir, ['build', '--tag', 'v2', '--line', 'main'], env)).code).toBe(0);
    await writeFile(trigger, '');
    const noop = await run(dir, args, env);
    expect(noop.code).toBe(0);
    expect(reason(noop)).toBe('state folder changed');
    await expect(stat(trigger)).rejects.toThrow();
    const pointed = await run(dir, args, env);
    expect(reason(pointed)).toBe('the last-build pointer names another build');
    // The full path points it back at v1.
    expect(await readFile(swap.pointer)).toEqual(await readFile(swap.ours));
  });

  it('falls through on a blob of the local store written in place, which the full path repairs', async () => {
    const { dir, repo, args } = await stampedGame('fast-store');
    const name = repo.slice(registry.host.length + 1);
    const head = await fetch(`http://${registry.host}/v2/${name}/manifests/v1`, { method: 'HEAD', headers: { accept: ACCEPT } });
    const digest = head.headers.get('docker-content-digest')!;
    const file = path.join(dir, '.gamelayer', 'oci', 'blobs', 'sha256', digest.slice('sha256:'.length));
    const bytes = await readFile(file);
    // One byte written into the server's manifest: same file, same size, its folder untouched.
    const fh = await open(file, 'r+');
    await fh.write(Buffer.from([bytes[10]! ^ 0x20]), 0, 1, 10);
    await fh.close();
    const r = await run(dir, args);
    expect(r.code).toBe(0);
    expect(reason(r)).toBe(`store blob ${digest.slice('sha256:'.length)} changed`);
    expect(await readFile(file)).toEqual(bytes);
  });

  it('removes the stamp when the full path runs the command with the fast path turned off', async () => {
    const { dir, args } = await stampedGame('fast-off');
    const off = await run(dir, args, { GAMELAYER_NO_FAST_NOOP: '1' });
    expect(off.code).toBe(0);
    expect(reason(off)).toBeUndefined();
    expect(await readdir(path.join(dir, '.gamelayer', 'cache', 'fast-noop'))).toEqual([]);
    expect(reason(await run(dir, args))).toBe('no stamp');
  });

  it('falls through on a damaged stamp and on another gamelayer', async () => {
    const { dir, args } = await stampedGame('fast-stamp');
    const stamps = path.join(dir, '.gamelayer', 'cache', 'fast-noop');
    const [file] = await readdir(stamps);
    const text = await readFile(path.join(stamps, file!), 'utf8');
    await writeFile(path.join(stamps, file!), text.replace('"argv"', '"argw"'));
    expect((await untilStamped(dir, args))[0]).toBe('stamp damaged (checksum)');
    expect(reason(await run(dir, args))).toBeUndefined();
    // A FIFO in the stamp's place is no stamp (reading it would hold the command for ever); the full path runs.
    await rm(path.join(stamps, file!));
    await mkfifo(path.join(stamps, file!));
    const fifo = await run(dir, args);
    expect(reason(fifo)).toBe('stamp is no regular file');
    expect(fifo.code).toBe(0);

    const other = await upgradedCli(await tempDir(), JSON.parse(await readFile('package.json', 'utf8')).version);
    const r = await run(dir, args, {}, other);
    expect(r.code).toBe(0);
    expect(reason(r)).toBe('gamelayer code identity changed');
  });

  it('falls through on a base tag moved in the registry', async () => {
    // The base: a sample build pushed to its own repository (its server image, on scratch).
    const src = await tempDir();
    copySample(src);
    const baseRepo = `${registry.host}/studio/fast-base-src`;
    expect((await run(src, ['build', '--push', baseRepo, '--tag', 'b1', '--line', 'base'])).code).toBe(0);
    const { dir, args } = await stampedGame('fast-base', (y) => y.replace('baseImage: scratch', `baseImage: ${baseRepo}:b1`).replace(/mount: .*\n/g, ''));
    expect(reason(await run(dir, args))).toBeUndefined();
    await moveTag(baseRepo, 'b1', 'b1-engine');
    const r = await run(dir, args);
    expect(reason(r)).toBe(`base studio/fast-base-src:b1 moved`);
  });
});

describe('the fast path with a registry that asks for credentials', () => {
  const tokenRegistry = useRegistry({ auth: 'token' });

  it('reads with the docker config\'s credentials through the token exchange, and falls through for a credential helper', async () => {
    const dir = await tempDir();
    copySample(dir);
    const dockerConfig = await tempDir();
    const user = tokenRegistry.users[0]!;
    const auths = { auths: { [tokenRegistry.host]: { auth: Buffer.from(`${user.username}:${user.password}`).toString('base64') } } };
    await writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify(auths));
    const env = { DOCKER_CONFIG: dockerConfig };
    const args = ['build', '--push', `${tokenRegistry.host}/studio/fast-token`, '--tag', 'v1', '--line', 'main'];
    expect((await untilStamped(dir, args, env))[0]).toBe('no stamp');
    await tokenRegistry.resetAccessLog();
    const issued = tokenRegistry.tokenServer!.issued.length;
    const fast = await run(dir, args, env);
    await new Promise((r) => setTimeout(r, 100));
    expect(fast.code).toBe(0);
    expect(reason(fast)).toBeUndefined();
    expect(fast.stdout).toContain('0 B sent');
    // One pull token from the realm the registry named, asked with the config's credentials.
    expect(tokenRegistry.tokenServer!.issued.length).toBe(issued + 1);
    expect(tokenRegistry.tokenServer!.issued.at(-1)).toMatchObject({ user: user.username, scopes: ['repository:studio/fast-token:pull'] });
    const log = await tokenRegistry.accessLog();
    expect(log.filter((e) => e.method !== 'HEAD' || !/^\/v2\/studio\/fast-token\/(manifests|blobs)\//.test(e.path)).map((e) => `${e.method} ${e.path.replace(/sha256:\w+/, 'D')}`)).toEqual(['GET /v2/studio/fast-token/blobs/D']);
    expect(log.filter((e) => e.status === 200)).toHaveLength(8 + (await recordLayers(dir)).length);

    // An `auth` that is not base64 of user:password: the full path refuses it; the fast path does not send it.
    const file = path.join(dockerConfig, 'config.json');
    await writeFile(file, JSON.stringify({ auths: { [tokenRegistry.host]: { auth: Buffer.from('no-colon-here').toString('base64') } } }));
    const bad = await run(dir, args, env);
    expect(reason(bad)).toBe(`${file}: auths.${tokenRegistry.host}.auth is not base64 of "user:password"`);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`error[registry.credentials]: ${file}: auths.${tokenRegistry.host}.auth is not base64`);
    // A FIFO where the config is: read bounded, as the full path reads it, it falls through instead of waiting.
    await writeFile(file, JSON.stringify(auths));
    await untilStamped(dir, args, env);
    await rm(file);
    await mkfifo(file);
    const fifo = await run(dir, args, env);
    expect(reason(fifo)).toBe(`${file}: cannot read: a FIFO, not a regular file`);
    expect(fifo.stderr).toContain(`error[registry.credentials]: ${file}: cannot read: a FIFO`);
    await rm(file);
    await writeFile(file, JSON.stringify(auths));
    await untilStamped(dir, args, env);

    // A credential helper for the registry: the full path would run it; the fast path does not guess.
    await writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ ...auths, credHelpers: { [tokenRegistry.host]: 'none-such' } }));
    expect(reason(await run(dir, args, env))).toBe(`${tokenRegistry.host}: a credential helper in ${path.join(dockerConfig, 'config.json')}`);
    // An empty helper name is none (the full path reads `auths`): the fast path reads the config the same way.
    await writeFile(file, JSON.stringify({ ...auths, credHelpers: { [tokenRegistry.host]: '' } }));
    await untilStamped(dir, args, env);
    const emptyHelper = await run(dir, args, env);
    expect(reason(emptyHelper)).toBeUndefined();
    expect(emptyHelper.code).toBe(0);
  });

  it('reads the token service\'s answer as the full path does: access_token for an empty token, none a header cannot carry', async () => {
    const dir = await tempDir();
    copySample(dir);
    const dockerConfig = await tempDir();
    const user = tokenRegistry.users[0]!;
    const host = tokenRegistry.host;
    await writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user.username}:${user.password}`).toString('base64') } } }));
    const env = { DOCKER_CONFIG: dockerConfig };
    const args = ['build', '--push', `${host}/studio/fast-token-answer`, '--tag', 'v1', '--line', 'main'];
    const tokens = tokenRegistry.tokenServer!;
    try {
      // `token` empty, the token in `access_token`: the full path takes that one, and so does the fast path (it
      // fell through, "answered no token").
      tokens.answer = (token) => ({ token: '', access_token: token });
      expect((await untilStamped(dir, args, env))[0]).toBe('no stamp');
      const empty = await run(dir, args, env);
      expect(reason(empty)).toBeUndefined();
      expect(empty.code).toBe(0);
      // A space after the token (which the registry takes, trimming the header) or a letter beyond ASCII: the full
      // path refuses the token (and removes the stamp); the fast path falls through rather than send it (it
      // answered with the space).
      for (const odd of [(token: string) => `${token} `, (token: string) => `${token}\u00e9`]) {
        tokens.answer = undefined;
        await untilStamped(dir, args, env);
        tokens.answer = (token) => ({ token: odd(token) });
        const r = await run(dir, args, env);
        expect(reason(r)).toBe(`${host}: token service answered a token with characters a header cannot carry (only visible ASCII can)`);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain('error[registry.auth]');
      }
    } finally {
      tokens.answer = undefined;
    }
  });
});

/**
 * Every file and folder of the trees under `dir` written an hour ago: a checkout made before the build, out of the
 * scan's racy window. Not the config: its change time (which utimes sets to now) must be a second before a stamp.
 */
async function aged(dir: string): Promise<void> {
  const past = new Date(Date.now() - 3_600_000);
  for (const name of await readdir(dir, { recursive: true })) if (name !== 'gamelayer.yaml') await utimes(path.join(dir, name), past, past);
  // The config, copied just now, a second old before any build: a stamp (a pass's too) needs it settled, and two
  // quick builds could otherwise start their pass within that second (seen: 'no stamp' on a fast run).
  await new Promise((r) => setTimeout(r, 1100));
}

describe('the stamp pass of a build that pushed', () => {
  it('stamps its command: the next run, a no-op, is the fast path\'s, and diff --previous still compares with the build before', async () => {
    const dir = await tempDir();
    copySample(dir);
    await aged(dir);
    const repo = `${registry.host}/studio/fast-pass`;
    const args = (tag: string) => ['build', '--push', repo, '--tag', tag, '--line', 'main'];
    expect((await run(dir, args('v1'))).code).toBe(0);
    const file = path.join(dir, 'app', 'config', (await readdir(path.join(dir, 'app', 'config')))[0]!);
    await appendFile(file, 'changed\n');
    await utimes(file, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    const real = await run(dir, args('v2'));
    expect(real.code).toBe(0);
    expect(real.stdout).not.toContain('layers: 0 built');
    const previousDiff = (cwd: string) => run(cwd, ['diff', '--against', repo, '--previous']);
    // After the real build: the build before it (the pass left no re-run note). In a copy: the diff keeps the record
    // blob it read in the state folder's cache, which a stamp does not vouch for.
    const copy = await tempDir();
    await cp(dir, copy, { recursive: true });
    const afterReal = await previousDiff(copy);
    expect(afterReal.stdout).toContain(`${repo}:v1 (the line's previous build, which v2 was planned on)`);

    await registry.resetAccessLog();
    const fast = await run(dir, args('v2'));
    await new Promise((r) => setTimeout(r, 100));
    expect(fast.code).toBe(0);
    expect(reason(fast)).toBeUndefined();
    expect(fast.stderr).not.toContain('gamelayer: ');
    expect([...new Set((await registry.accessLog()).map((e) => e.method))].sort()).toEqual(['GET', 'HEAD']);
    // The fast answer wrote the note the no-op writes: the last build itself, nothing changed.
    const afterFast = await previousDiff(dir);
    expect(afterFast.stdout).toContain('no changes');
    expect(afterFast.stdout).toContain(`${repo}:v2 (the line's previous build: the last build itself, which the last run made again unchanged)`);
    const full = await run(dir, args('v2'), { GAMELAYER_NO_FAST_NOOP: '1' });
    expect(full.code).toBe(0);
    expect(maskTimings(fast.stdout)).toBe(maskTimings(full.stdout));
    // The build said what its pass did (GAMELAYER_DEBUG_FAST_NOOP), and nothing else changed in its output.
    expect(real.stderr).toMatch(/^gamelayer: stamp pass: done in \d+ ms$/m);
  });

  it('runs no pass with the fast path turned off or for a command line it does not answer; on a terminal, one whose stamp answers there', async () => {
    const dir = await tempDir();
    copySample(dir);
    await aged(dir);
    const args = ['build', '--push', `${registry.host}/studio/fast-no-pass`, '--tag', 'v1', '--line', 'main'];
    const stamps = path.join(dir, '.gamelayer', 'cache', 'fast-noop');
    const off = await run(dir, args, { GAMELAYER_NO_FAST_NOOP: '1' });
    expect(off.code).toBe(0);
    expect(off.stderr).not.toContain('stamp pass');
    expect(await readdir(stamps).catch(() => [])).toEqual([]);
    const json = await run(dir, [...args.slice(0, 4), 'v2', '--line', 'main', '--json']);
    expect(json.code).toBe(0);
    expect(json.stderr).not.toContain('stamp pass');
    expect(await readdir(stamps).catch(() => [])).toEqual([]);
    // On a terminal (script(1) gives the run one): the pass runs in the same process, on the same terminal, so its
    // stamp's key says so too, and the next run of the command on a terminal is the fast path's.
    const command = [process.execPath, BIN, ...args.slice(0, 4), 'v3', '--line', 'main'].map((a) => `'${a}'`).join(' ');
    const onTerminal = () => new Promise<Run>((resolve) => {
      execFile('script', ['-qec', command, '/dev/null'], { cwd: dir, env: { ...process.env, GAMELAYER_DEBUG_FAST_NOOP: '1' } }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
    });
    const tty = await onTerminal();
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain('pushed sha256:');
    expect(tty.stdout).toMatch(/gamelayer: stamp pass: done in \d+ ms/);
    expect(await readdir(stamps)).toHaveLength(1);
    const again = await onTerminal();
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('blobs: 0 uploaded, 0 mounted, 17 already there; 0 B sent');
    expect(again.stdout).not.toContain('fast no-op path not taken');
  });
});
