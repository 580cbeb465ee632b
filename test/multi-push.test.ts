// One build pushed to several real registries in one run (issue 21, item 3): every blob read from the store once
// (the kernel's count of bytes read, /proc/<pid>/io rchar, against one single push) and uploaded once per registry
// (each registry's own access log); a target whose credentials are refused gets no manifest, the other gets all.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBigGame, makeProject } from './support/big-game.js';
import { runCli } from './support/cli-process.js';
import { DEFAULT_USER, startRegistry, storageProblems, storedRepositories, storedTags, type TestRegistry } from './support/registry.js';
import { tempDir } from './support/tmp.js';
import { copySample } from './support/sample.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { pushBuildToMany } from '../src/pipeline/steps/push-many.js';
import { readBuildRecord } from '../src/state/records.js';

const registries: TestRegistry[] = [];
let project: string;
let blobBytes: number;
let ioHook: string;
let dockerConfig: string;

async function registry(opts: Parameters<typeof startRegistry>[0] = {}): Promise<TestRegistry> {
  const r = await startRegistry(opts);
  registries.push(r);
  return r;
}

/** Runs the CLI and reads its own /proc/self/io at exit: rchar = bytes it read through read() (files and sockets). */
async function cliWithIo(args: string[], env: Record<string, string> = {}, stdin?: string) {
  const out = path.join(await tempDir('gl-io-'), 'io');
  const r = await runCli(args, { cwd: project, env: { ...env, NODE_OPTIONS: `--require ${ioHook}`, GL_IO_OUT: out, DOCKER_CONFIG: dockerConfig }, stdin });
  const io = await readFile(out, 'utf8').catch(() => '');
  const rchar = Number(/rchar: (\d+)/.exec(io)?.[1] ?? NaN);
  return { ...r, rchar };
}

/** Completed blob uploads per digest, from the registry's own access log. */
async function uploadsByDigest(r: TestRegistry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const e of await r.accessLog()) {
    if (e.method !== 'PUT' || e.status !== 201 || !e.path.includes('/blobs/uploads/')) continue;
    const d = decodeURIComponent(/digest=([^&]+)/.exec(e.path)?.[1] ?? '');
    out.set(d, (out.get(d) ?? 0) + 1);
  }
  return out;
}

beforeAll(async () => {
  const dir = await tempDir('gl-multi-');
  const game = await makeBigGame(dir, 12e6, 120);
  project = await makeProject(path.join(dir, 'project'), game);
  ioHook = path.join(dir, 'io-hook.cjs');
  await writeFile(ioHook, "process.on('exit', () => { if (process.env.GL_IO_OUT) require('fs').writeFileSync(process.env.GL_IO_OUT, require('fs').readFileSync('/proc/self/io')); });\n");
  dockerConfig = path.join(dir, 'docker');
  await mkdir(dockerConfig);
  const built = await runCli(['build', '--tag', 'v1', '--json'], { cwd: project });
  expect(built.code, built.stderr).toBe(0);
  const layers = JSON.parse(built.stdout).summary.layers as { size: number }[];
  blobBytes = layers.reduce((n, l) => n + l.size, 0);
}, 180_000);
afterAll(async () => Promise.all(registries.map((r) => r.stop())));

describe('push to several registries in one run', () => {
  it('reads each blob once and uploads it once per registry; each registry holds the same images', async () => {
    const open = await registry();
    const locked = await registry({ auth: 'basic', users: [DEFAULT_USER] });
    const single = await registry();
    // Per-host credentials from the docker config: the open registry needs none, the locked one its user.
    await writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [locked.host]: { auth: Buffer.from(`${DEFAULT_USER.username}:${DEFAULT_USER.password}`).toString('base64') } } }));

    const one = await cliWithIo(['push', `${single.host}/studio/big:v1`, '--json']);
    expect(one.code, one.stderr).toBe(0);
    const both = await cliWithIo(['push', `${open.host}/studio/big:v1`, `${locked.host}/studio/big:v1`, '--json']);
    expect(both.code, both.stderr).toBe(0);
    const result = JSON.parse(both.stdout) as { targets: { repository: string; status: string; uploaded: number }[]; reads: Record<string, number> };
    expect(result.targets.map((t) => t.status)).toEqual(['pushed', 'pushed']);
    // The kernel's count: one push reads the blobs once; the push to two registries reads hardly more than that.
    expect(one.rchar).toBeGreaterThan(blobBytes);
    expect(both.rchar - one.rchar).toBeLessThan(blobBytes * 0.15);

    // Every store blob of the five images was read in one pass, shared by both uploads.
    expect(Object.keys(result.reads).length).toBeGreaterThan(20);
    expect(Object.values(result.reads).every((n) => n === 1)).toBe(true);

    // Each registry completed each blob's upload exactly once, and as many as the single push did.
    const singleUploads = await uploadsByDigest(single);
    for (const r of [open, locked]) {
      const uploads = await uploadsByDigest(r);
      expect([...uploads.values()].every((n) => n === 1)).toBe(true);
      expect([...uploads.keys()].sort()).toEqual([...singleUploads.keys()].sort());
      expect(await storageProblems(r.storageDir)).toEqual([]);
    }
    const tagsOpen = await storedTags(open.storageDir, 'studio/big');
    expect(await storedTags(locked.storageDir, 'studio/big')).toEqual(tagsOpen);
    expect(tagsOpen).toEqual(await storedTags(single.storageDir, 'studio/big'));
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `--creds=${DEFAULT_USER.username}:${DEFAULT_USER.password}`, `docker://${locked.host}/studio/big:v1`]).toString());
    expect(inspect.Digest).toBe(tagsOpen.v1);

    // The local record says where the build went: both repositories.
    const record = JSON.parse(await readFile(path.join(project, '.gamelayer/records/build-v1.json'), 'utf8'));
    expect(record.pushed.map((p: { repository: string }) => p.repository).sort()).toEqual([`${locked.host}/studio/big`, `${open.host}/studio/big`, `${single.host}/studio/big`].sort());

    // Again: nothing new is sent to either.
    const again = await cliWithIo(['push', `${open.host}/studio/big:v1`, `${locked.host}/studio/big:v1`, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).targets.map((t: { uploaded: number }) => t.uploaded)).toEqual([0, 0]);
  }, 180_000);

  it('credentials good for one registry only: the other gets no manifest, and the error says what each got', async () => {
    const good = await registry({ auth: 'basic', users: [DEFAULT_USER] });
    const other = await registry({ auth: 'basic', users: [{ username: 'someone-else', password: 'not-the-same-pw' }] });
    await writeFile(path.join(dockerConfig, 'config.json'), '{}');
    const r = await cliWithIo(
      ['push', `${good.host}/studio/big:v1`, `${other.host}/studio/big:v1`, '--username', DEFAULT_USER.username, '--password-stdin'],
      {},
      `${DEFAULT_USER.password}\n`,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[push.targets-failed]');
    expect(r.stderr).toContain(`${other.host}/studio/big: `);
    expect(r.stderr).toMatch(new RegExp(`${good.host.replace(/\./g, '\\.')}/studio/big: pushed`));
    // Nothing of the build in the registry that refused the credentials; all of it in the other.
    expect(await storedRepositories(other.storageDir)).toEqual([]);
    expect(Object.keys(await storedTags(good.storageDir, 'studio/big'))).toContain('v1');
    expect(await storageProblems(good.storageDir)).toEqual([]);
  }, 180_000);

  it('a registry that lets the user read but not push: refused mid-upload, no manifest there, the other complete', async () => {
    const good = await registry();
    const readOnly = await registry({ auth: 'token', users: [DEFAULT_USER], readOnlyRepos: ['studio/big'] });
    await writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [readOnly.host]: { auth: Buffer.from(`${DEFAULT_USER.username}:${DEFAULT_USER.password}`).toString('base64') } } }));
    const r = await cliWithIo(['push', `${good.host}/studio/big:v1`, `${readOnly.host}/studio/big:v1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[push.targets-failed]');
    expect(r.stderr).toContain(`${readOnly.host}/studio/big`);
    // The refusal came from uploads (the registry answered them), and not one manifest PUT reached it.
    const log = await readOnly.accessLog();
    expect(log.some((e) => e.method === 'POST' && e.path.includes('/blobs/uploads/'))).toBe(true);
    expect(log.filter((e) => e.method === 'PUT' && e.path.includes('/manifests/'))).toEqual([]);
    expect(await storedRepositories(readOnly.storageDir)).toEqual([]);
    expect(await storageProblems(good.storageDir)).toEqual([]);
    expect(Object.keys(await storedTags(good.storageDir, 'studio/big'))).toContain('v1');
  }, 180_000);

  it('an upload cut part-way to one registry is sent again from a read of its own; the other is not held up, both intact', async () => {
    const a = await registry();
    const b = await registry();
    const proxy = await startFaultProxy(b.host, [{ method: 'PATCH', path: /\/blobs\/uploads\//, count: 1, action: { kind: 'drop-request', afterBytes: 64 } }]);
    try {
      const record = await readBuildRecord(path.join(project, '.gamelayer/records/build-v1.json'));
      const result = await pushBuildToMany({ store: path.join(project, '.gamelayer/oci'), record, repositories: [`${a.host}/studio/cut`, `${proxy.host}/studio/cut`], retry: { baseDelayMs: 10 } });
      expect(result.targets.map((t) => t.status)).toEqual(['pushed', 'pushed']);
      expect(proxy.fired[0]).toBe(1);
      // The cut blob was read once more (the retry's own read); every other blob once.
      const reads = Object.values(result.reads);
      expect(reads.filter((n) => n === 2)).toHaveLength(1);
      expect(reads.filter((n) => n !== 1 && n !== 2)).toEqual([]);
      for (const r of [a, b]) expect(await storageProblems(r.storageDir)).toEqual([]);
      expect(await storedTags(b.storageDir, 'studio/cut')).toEqual(await storedTags(a.storageDir, 'studio/cut'));
    } finally {
      await proxy.stop();
    }
  }, 180_000);

  it('build --push A --push B: one build in both; k8s --registry pins each copy', async () => {
    const a = await registry();
    const b = await registry();
    const dir = await tempDir();
    copySample(dir);
    const built = await runCli(['build', '--tag', 'v1', '--push', `${a.host}/studio/sample`, '--push', `${b.host}/studio/sample`, '--json'], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const out = JSON.parse(built.stdout) as { images: { name: string; digest: string }[]; push: { targets: { repository: string; status: string }[] } };
    expect(out.push.targets.map((t) => `${t.repository} ${t.status}`)).toEqual([`${a.host}/studio/sample pushed`, `${b.host}/studio/sample pushed`]);
    const server = out.images.find((i) => i.name === 'server')!.digest;
    for (const r of [a, b]) {
      const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${r.host}/studio/sample:v1`]).toString());
      expect(inspect.Digest).toBe(server);
    }
    const onB = await runCli(['k8s', '--registry', b.host], { cwd: dir });
    expect(onB.code, onB.stderr).toBe(0);
    expect(onB.stdout).toContain(`${b.host}/studio/sample:v1@${server}`);
    expect(onB.stdout).not.toContain(a.host);
    const onA = await runCli(['k8s', '--registry', a.host], { cwd: dir });
    expect(onA.stdout.replaceAll(a.host, b.host)).toBe(onB.stdout);
  }, 180_000);

  it('blobs sent in resumable chunks (as to ECR, or above 1 GiB) still share one read, chunk after chunk', async () => {
    const a = await registry();
    const b = await registry();
    const record = await readBuildRecord(path.join(project, '.gamelayer/records/build-v1.json'));
    const result = await pushBuildToMany({ store: path.join(project, '.gamelayer/oci'), record, repositories: [`${a.host}/studio/chunks`, `${b.host}/studio/chunks`], chunkedAbove: 1, chunkSize: 256 * 1024 });
    expect(result.targets.map((t) => t.status)).toEqual(['pushed', 'pushed']);
    expect(Object.values(result.reads).every((n) => n === 1)).toBe(true);
    // Chunks really were sent: more PATCHes than blobs, in both registries.
    for (const r of [a, b]) {
      const log = await r.accessLog();
      expect(log.filter((e) => e.method === 'PATCH').length).toBeGreaterThan(Object.keys(result.reads).length + 10);
      expect(await storageProblems(r.storageDir)).toEqual([]);
    }
    expect(await storedTags(b.storageDir, 'studio/chunks')).toEqual(await storedTags(a.storageDir, 'studio/chunks'));
  }, 180_000);
});
