// A registry base image whose config is well formed but lies: its rootfs.diff_ids entry is not the sha256 of its
// layer's tar. gamelayer checked the config against its digest and the layer against its own, and copied the lying
// diff_id into every image it built, which a node then refused at pull. Now a base layer is decompressed and hashed
// the first time it is fetched, against the config; the fact is kept beside the verified-blob markers. The tar is
// hashed as the layer comes in from the registry: it was read a second time, back from the store (stop 42); and
// walked there for the folders above and at the trees' mounts, which read it back once more (stop 44).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBusyboxLayout } from './support/busybox-layout.js';
import { writeOneLayerLayout, type TarEntry } from './support/make-layout.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { copySample } from './support/sample.js';
import { runCli } from './support/cli-process.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/gamelayer.js');
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
let reg: TestRegistry;

/** The busybox layout, its config's diff_id replaced by `diffID` when given; returns the layer's true diff_id. */
async function busybox(dir: string, diffID?: string, extraLayers?: TarEntry[][]): Promise<{ layer: string; truth: string }> {
  await writeBusyboxLayout(dir, { tag: 'busybox', ...(extraLayers ? { extraLayers } : {}) });
  const blob = (d: string) => readFile(path.join(dir, 'blobs/sha256', d.slice(7)));
  const put = async (bytes: Buffer) => {
    await writeFile(path.join(dir, 'blobs/sha256', sha256(bytes).slice(7)), bytes);
    return { digest: sha256(bytes), size: bytes.length };
  };
  const indexFile = path.join(dir, 'index.json');
  const index = JSON.parse(await readFile(indexFile, 'utf8')) as { manifests: { digest: string; size: number }[] };
  const manifest = JSON.parse((await blob(index.manifests[0]!.digest)).toString()) as { config: { digest: string; size: number }; layers: { digest: string }[] };
  const config = JSON.parse((await blob(manifest.config.digest)).toString()) as { rootfs: { diff_ids: string[] } };
  const truth = config.rootfs.diff_ids[0]!;
  if (diffID) {
    config.rootfs.diff_ids[0] = diffID;
    const newManifest = await put(Buffer.from(JSON.stringify({ ...manifest, config: { ...manifest.config, ...(await put(Buffer.from(JSON.stringify(config)))) } })));
    await writeFile(indexFile, JSON.stringify({ ...index, manifests: [{ ...index.manifests[0], ...newManifest }] }));
  }
  return { layer: manifest.layers[0]!.digest, truth };
}

async function push(layout: string, to: string): Promise<void> {
  // Blobs as they are: skopeo would gzip a layer typed gzip that is not.
  await run('skopeo', ['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:busybox`, `docker://${to}`]);
}

async function game(baseImage: string): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  const file = path.join(dir, 'gamelayer.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace('baseImage: scratch', `baseImage: ${baseImage}`));
  return dir;
}

beforeAll(async () => {
  reg = await startRegistry();
}, 120_000);
afterAll(async () => reg?.stop());

describe('a registry base image whose config names a wrong diff_id', () => {
  it('fails the build naming the image, the layer index and both digests; an honest base is checked and the fact kept', async () => {
    const lie = `sha256:${'ab'.repeat(32)}`;
    const lying = path.join(await tempDir(), 'lying');
    const { layer, truth } = await busybox(lying, lie);
    expect(truth).not.toBe(lie);
    await push(lying, `${reg.host}/base/lying:1`);
    const dir = await game(`${reg.host}/base/lying:1`);
    const failed = await run(BIN, ['build', '--tag', 'v1'], { cwd: dir }).then(
      () => undefined,
      (e: { stderr: string }) => e.stderr,
    );
    expect(failed, 'the build should fail').toBeDefined();
    expect(failed).toContain(`error[base.diff-id-mismatch]: base image ${reg.host}/base/lying:1@sha256:`);
    expect(failed).toContain(`layer 0 (${layer}) decompresses to a tar whose digest is ${truth}, but the image config's rootfs.diff_ids[0] says ${lie}`);
    // No record, no image: nothing was built on it.
    expect(await readdir(path.join(dir, '.gamelayer/records')).catch(() => [])).toEqual([]);

    const honest = path.join(await tempDir(), 'honest');
    await busybox(honest);
    await push(honest, `${reg.host}/base/honest:1`);
    const ok = await game(`${reg.host}/base/honest:1`);
    await run(BIN, ['build', '--tag', 'v1'], { cwd: ok });
    const marker = path.join(ok, '.gamelayer/cache/verified-blobs', `diffid-${layer.slice(7)}`);
    expect(await readFile(marker, 'utf8')).toBe(truth);
    // The marker is what the next build trusts; one that names another diff_id is no proof: hashed again, and right.
    await writeFile(marker, lie);
    await run(BIN, ['build', '--tag', 'v2'], { cwd: ok });
    expect(await readFile(marker, 'utf8')).toBe(truth);
  });

  it('a layer fetched into the store is hashed and walked for the folders at the mounts on the way in: the stored blob is never read back', async () => {
    const layout = path.join(await tempDir(), 'once');
    // A second layer holds the folder above app's mount as uid 1000 0750: what the walk on the way in must find.
    const at = { mtime: new Date(0), uid: 0, gid: 0, type: 'directory' as const };
    const { layer, truth } = await busybox(layout, undefined, [[{ ...at, name: 'srv/', mode: 0o755 }, { ...at, name: 'srv/steam/', mode: 0o750, uid: 1000, gid: 1000 }]]);
    await push(layout, `${reg.host}/base/once:1`);
    const dir = await game(`${reg.host}/base/once:1`);
    const yaml = path.join(dir, 'gamelayer.yaml');
    await writeFile(yaml, (await readFile(yaml, 'utf8')).replace(/^(\s+app:\s*\n)/m, '$1    mount: /srv/steam/game\n'));
    const trace = path.join(dir, 'openat.txt');
    // libuv's io_uring would open files out of strace's sight: the plain system calls are what is counted.
    const r = await runCli(['build', '--tag', 'v1'], { cwd: dir, env: { UV_USE_IO_URING: '0' }, prefix: ['strace', '-f', '-qq', '-e', 'trace=openat', '-o', trace] });
    expect(r.code, r.stderr).toBe(0);
    // Any blob of the base (both its layers) opened in the store.
    const stored = (await readdir(path.join(layout, 'blobs/sha256'))).map((b) => path.join(dir, '.gamelayer/oci/blobs/sha256', b));
    const opens = (await readFile(trace, 'utf8')).split('\n').filter((l) => stored.some((b) => l.includes(`"${b}"`)));
    // Neither the diff_id check (stop 42) nor the folders above and at the mounts (stop 44: it was one open more, a
    // second decompression of the whole layer) read the stored blob back: the download's pass did both.
    expect(opens).toEqual([]);
    // The folders were read all the same: app's layers carry the base's /srv/steam, and the answer is kept (a later
    // build reads neither the layer nor the base again).
    const record = JSON.parse(await readFile(path.join(dir, '.gamelayer/records/build-v1.json'), 'utf8')) as { parents?: Record<string, Record<string, unknown>> };
    expect(Object.values(record.parents ?? {})[0]?.app).toEqual([{ path: 'srv/steam', uid: 1000, gid: 1000, mode: 0o750 }]);
    expect((await readdir(path.join(dir, '.gamelayer/cache/verified-blobs'))).filter((n) => n.startsWith('parents-'))).toHaveLength(1);
    // Checked all the same: the proven diff_id is kept.
    expect(await readFile(path.join(dir, '.gamelayer/cache/verified-blobs', `diffid-${layer.slice(7)}`), 'utf8')).toBe(truth);
  });

  it('a layer that is not the gzip its media type says fails the build naming the layer, after its digest is proven', async () => {
    const layout = path.join(await tempDir(), 'not-gzip');
    const diffID = `sha256:${'cd'.repeat(32)}`;
    const layer = await writeOneLayerLayout(layout, Buffer.from('plain text, no gzip member\n'.repeat(100)), diffID, undefined, 'busybox');
    await push(layout, `${reg.host}/base/not-gzip:1`);
    const dir = await game(`${reg.host}/base/not-gzip:1`);
    const r = await runCli(['build', '--tag', 'v1'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[base.diff-id-mismatch]: base image ${reg.host}/base/not-gzip:1@sha256:`);
    expect(r.stderr).toContain(`layer 0 (${layer}) does not decompress as application/vnd.oci.image.layer.v1.tar+gzip (`);
    expect(r.stderr).toContain(`so it cannot be the tar its config's rootfs.diff_ids[0] names (${diffID})`);
  });

  it('a zstd layer with no zstd to decompress it says zstd is missing (not that the layer does not decompress)', async () => {
    const layout = path.join(await tempDir(), 'zstd-base');
    const tar = Buffer.alloc(1024); // two zero blocks: an empty tar
    const { stdout } = await run('sh', ['-c', 'head -c 1024 /dev/zero | zstd -q -c | base64 -w0']);
    const layer = await writeOneLayerLayout(layout, Buffer.from(stdout, 'base64'), sha256(tar), 'application/vnd.oci.image.layer.v1.tar+zstd', 'busybox');
    await push(layout, `${reg.host}/base/zstd:1`);
    const dir = await game(`${reg.host}/base/zstd:1`);
    const noTools = await tempDir();
    const r = await runCli(['build', '--tag', 'v1'], { cwd: dir, env: { PATH: noTools } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[base.pull]: base image ${reg.host}/base/zstd:1: cannot run zstd: spawn zstd ENOENT\nhint: install zstd`);
    expect(r.stderr).not.toContain(`layer 0 (${layer}) does not decompress`);
  });
});
