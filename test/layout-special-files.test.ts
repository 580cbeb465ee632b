// A small document of an OCI layout (index.json, a manifest or config blob) that is not a regular file: a FIFO, a
// link to /dev/zero, a directory. A base image's layout is someone else's folder and the store can be tampered with,
// so neither is trusted to hold files. The old code read such a path with readFile: a FIFO blocked the build for
// ever, /dev/zero was read without end (2.7 GB of memory in 5 s), a directory was an internal error (EISDIR).
// Each is refused now, naming the file and what it is.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useReapedCli } from './support/reaped-cli.js';
import { addTag } from './support/make-layout.js';
import { mkfifo } from './support/mkfifo.js';
import { tempDir } from './support/tmp.js';
import { writeTinyGame } from './support/trees.js';

// A CLI left blocked on a FIFO by a failing run is killed, not left behind.
const run = useReapedCli();

// A damaged base layout is the base's error: building again (the store's hint) would not mend it.
const BASE_HINT = "hint: the base image's layout is damaged or incomplete: copy it again (skopeo copy … oci:DIR:TAG)\n";

const blob = (layout: string, digest: string) => path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));

/** A game on `oci:base:b`, a one-layer base layout; returns the layout's manifest and config digests. */
async function gameOnBase(prefix: string) {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: odd-base', 'start: [/opt/local/engine/run]', 'baseImage: oci:base:b']);
  const written = await addTag(path.join(dir, 'base'), 'b', [{ layers: [{ files: { 'etc/os-release': 'ID=test\n' } }] }]);
  return { dir, layout: path.join(dir, 'base'), manifest: written.top.digest, config: written.images[0]!.config.digest, layer: written.images[0]!.layers[0]!.digest };
}

describe('a base layout whose documents are not regular files', () => {
  it('a manifest blob that is a directory is refused, naming the blob file (was: internal EISDIR)', async () => {
    const g = await gameOnBase('gl-base-dir-');
    await rm(blob(g.layout, g.manifest));
    await mkdir(blob(g.layout, g.manifest));
    const r = await run(['build'], g.dir);
    expect(r.stderr).toContain(`error[base.blob-corrupt]: base image oci:base:b: ${blob(g.layout, g.manifest)}: a directory, not a blob file\n${BASE_HINT}`);
    expect(r.code).toBe(1);
  });

  it('a config blob that is a FIFO is refused at once (was: the build blocked for ever)', async () => {
    const g = await gameOnBase('gl-base-fifo-');
    await rm(blob(g.layout, g.config));
    await mkfifo(blob(g.layout, g.config));
    const r = await run(['build'], g.dir);
    expect(r.stderr).toContain(`error[base.blob-corrupt]: base image oci:base:b: ${blob(g.layout, g.config)}: a FIFO, not a blob file\n${BASE_HINT}`);
    expect(r.code).toBe(1);
  });

  it('a layer blob overwritten with other bytes of its size: the base is named, with its own hint (was: the store\'s, build again)', async () => {
    const g = await gameOnBase('gl-base-samesize-');
    const file = blob(g.layout, g.layer);
    const bytes = await readFile(file);
    bytes[bytes.length >> 1]! ^= 0xff;
    await writeFile(file, bytes);
    const r = await run(['build'], g.dir);
    expect(r.stderr).toContain(`error[base.blob-corrupt]: base image oci:base:b: ${file}: content hashes to sha256:`);
    expect(r.stderr).toContain(`, not ${g.layer}\n${BASE_HINT}`);
    expect(r.code).toBe(1);
  });

  it('index.json linked to /dev/zero is refused at once (was: read without end)', async () => {
    const g = await gameOnBase('gl-base-zero-');
    await rm(path.join(g.layout, 'index.json'));
    await symlink('/dev/zero', path.join(g.layout, 'index.json'));
    const r = await run(['build'], g.dir);
    expect(r.stderr).toContain(`error[store.index-invalid]: ${path.join(g.layout, 'index.json')}: a character device, not the layout's index file\n`);
    expect(r.code).toBe(1);
  });
});

describe("the store's own manifest blob made a FIFO", () => {
  it('ls, gc and push refuse it naming the blob file; the next build writes it anew', async () => {
    const dir = await tempDir('gl-store-fifo-');
    await writeTinyGame(dir, ['game: odd-store', 'start: [/opt/local/engine/run]']);
    const built = await run(['build', '--json'], dir);
    expect(built.code).toBe(0);
    const out = JSON.parse(built.stdout) as { tags: string[]; images: { name: string; digest: string }[] };
    const digest = out.images.find((i) => i.name === 'server')!.digest;
    const file = blob(path.join(dir, '.gamelayer', 'oci'), digest);
    await rm(file);
    await mkfifo(file);
    for (const args of [['ls'], ['gc']]) {
      const r = await run(args, dir);
      expect(r.stderr, args.join(' ')).toContain(`error[store.blob-corrupt]: ${file}: a FIFO, not a blob file\n`);
      expect(r.code).toBe(1);
    }
    const push = await run(['push', '--image', out.tags[0]!, '127.0.0.1:9/odd/store'], dir);
    expect(push.stderr).toContain(`error[layout.corrupt]: ${file}: a FIFO, not a blob file (manifest ${digest})\n`);
    expect(push.code).toBe(1);
    expect((await run(['build'], dir)).code).toBe(0);
    expect((await run(['ls'], dir)).code).toBe(0);
  });
});

/**
 * A base layout whose one layer is empty (0 bytes, uncompressed: a valid if odd layer) and whose blob is then made a
 * FIFO: its size (0) is the descriptor's, so the size check passed it, and the copy's read blocked for ever.
 */
async function gameOnEmptyLayerFifo(prefix: string) {
  const dir = await tempDir(prefix);
  await writeTinyGame(dir, ['game: odd-base', 'start: [/opt/local/engine/run]', 'baseImage: oci:base:b']);
  const layout = path.join(dir, 'base');
  await mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  const put = async (bytes: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(blob(layout, digest), bytes);
    return { digest, size: bytes.length };
  };
  const layer = await put(Buffer.alloc(0));
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const manifest = await put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  await writeFile(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const ref = { 'org.opencontainers.image.ref.name': 'b' };
  await writeFile(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: ref }] }));
  await rm(blob(layout, layer.digest));
  await mkfifo(blob(layout, layer.digest));
  return { dir, layout, layer: layer.digest, manifest: manifest.digest };
}

describe('a layer blob that is a FIFO of the size its descriptor says (0 bytes)', () => {
  it('a base layout: the build refuses it at once, naming the blob (was: blocked for ever)', async () => {
    const g = await gameOnEmptyLayerFifo('gl-base-layer-fifo-');
    const r = await run(['build'], g.dir);
    expect(r.stderr).toContain(`error[base.blob-corrupt]: base image oci:base:b: ${blob(g.layout, g.layer)}: a FIFO, not a blob file\n${BASE_HINT}`);
    expect(r.code).toBe(1);
  });

  it('push --store of that layout refuses it before reaching the registry (was: read it, and blocked, after connecting)', async () => {
    const g = await gameOnEmptyLayerFifo('gl-push-layer-fifo-');
    const r = await run(['push', '--store', 'base', '--image', 'b', '127.0.0.1:9/odd/store'], g.dir, { env: { GAMELAYER_REGISTRY_RETRIES: '1' } });
    expect(r.stderr).toContain(`error[layout.corrupt]: ${blob(g.layout, g.layer)}: a FIFO, not a blob file (manifest ${g.manifest})\n`);
    expect(r.code).toBe(1);
  });
});

describe("a folder in the store's blobs where a layer's blob goes", () => {
  it('the build that writes the layer again names it and leaves it (was: error[internal] EISDIR)', async () => {
    const dir = await tempDir('gl-store-blob-dir-');
    await writeTinyGame(dir, ['game: odd-store', 'start: [/opt/local/engine/run]']);
    const built = await run(['build', '--json'], dir);
    expect(built.code).toBe(0);
    const server = (JSON.parse(built.stdout) as { images: { name: string; digest: string }[] }).images.find((i) => i.name === 'server')!.digest;
    const store = path.join(dir, '.gamelayer', 'oci');
    const manifest = JSON.parse(await readFile(blob(store, server), 'utf8')) as { layers: { digest: string }[] };
    const layer = manifest.layers.at(-1)!.digest;
    await rm(blob(store, layer));
    await mkdir(blob(store, layer));
    await writeFile(path.join(blob(store, layer), 'kept.txt'), 'not the store\'s\n');
    const r = await run(['build'], dir);
    expect(r.stderr).toContain(`error[store.blob-corrupt]: ${blob(store, layer)}: a directory, where the blob ${layer} goes\n`);
    expect(r.code).toBe(1);
    // Nothing of it removed.
    expect(await readFile(path.join(blob(store, layer), 'kept.txt'), 'utf8')).toBe("not the store's\n");
  });
});
