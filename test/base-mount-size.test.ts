// A base image in the registry pushed to whose manifest names a layer with a wrong size: a registry stores such a
// manifest (it checks that the blob is there, not its size), and the build mounts that layer without reading it.
// The push used to put our manifest with the base's wrong size (even -5) on it: an image no client can pull. A size
// that is no byte count at all (-5) is refused when the base manifest is read (stop 40).
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli-process.js';
import { copySample } from './support/sample.js';
import { useRegistry } from './support/suite-registry.js';
import { tempDir } from './support/tmp.js';

const registry = useRegistry();
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function putBlob(repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  expect(start.status).toBe(202);
  const at = new URL(start.headers.get('location')!, registry.url);
  at.searchParams.set('digest', digest);
  const put = await fetch(at, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'content-type': 'application/octet-stream' } });
  expect(put.status).toBe(201);
  return digest;
}

/** A one-file tar (512-byte header, the file, end blocks). */
function tarOf(name: string, content: Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000755\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\x0000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([h, content, pad, Buffer.alloc(1024)]);
}

let layer: { digest: string; size: number };
let config: { digest: string; size: number };
const baseRepo = `bases/lying-${process.pid}`;

beforeAll(async () => {
  const raw = tarOf('bin/tool', Buffer.from('#!/bin/sh\necho base\n'));
  const gz = gzipSync(raw);
  layer = { digest: await putBlob(baseRepo, gz), size: gz.length };
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(raw)] }, config: {} }));
  config = { digest: await putBlob(baseRepo, cfg), size: cfg.length };
}, 60_000);

async function baseTagged(tag: string, size: number): Promise<void> {
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size }],
  };
  const res = await fetch(`${registry.url}/v2/${baseRepo}/manifests/${tag}`, { method: 'PUT', body: JSON.stringify(manifest), headers: { 'content-type': manifest.mediaType } });
  expect(res.status, 'the registry stores a manifest whatever size it names').toBe(201);
}

/** The sample on `base`; `topMounts`: each tree mounted at `/<tree>`, so no folder sits above a mount. */
async function gameOn(base: string, topMounts = false): Promise<string> {
  const dir = await tempDir();
  copySample(dir);
  const yaml = path.join(dir, 'gamelayer.yaml');
  let text = await readFile(yaml, 'utf8');
  text = /^baseImage:.*$/m.test(text) ? text.replace(/^baseImage:.*$/m, `baseImage: ${base}`) : `baseImage: ${base}\n${text}`;
  if (topMounts) text = text.replace(/^  ([a-z-]+):\n    source: (.*)$/gm, (_l, tree: string, source: string) => `  ${tree}:\n    source: ${source}\n    mount: /${tree}`);
  await writeFile(yaml, text.replace(/\/opt\/local\/engine\//, topMounts ? '/engine/' : '/opt/local/engine/'));
  return dir;
}

describe('a base layer mounted from a manifest that names it with a wrong size', () => {
  for (const [what, size] of [
    ['one byte', 1],
  ] as const) {
    it(`${what}: the base's layer read for the folders above the mounts stops at the size its manifest names, naming the blob; nothing is pushed`, async () => {
      const tag = `size${size}`.replace('-', 'minus');
      await baseTagged(tag, size);
      const repo = `studio/on-lying-base-read-${tag}-${process.pid}`;
      const r = await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/${repo}`], { cwd: await gameOn(`${registry.host}/${baseRepo}:${tag}`) });
      expect(r.code).toBe(1);
      // The layer read for the folders is copied into the store as it comes in (a push that cannot mount it uploads
      // from there): the store's copy stops at the size the manifest names, and nothing is stored.
      expect(r.stderr).toContain(`error[base.blob-corrupt]: base image ${registry.host}/${baseRepo}:${tag}: the registry sent blob ${layer.digest}: more than ${size} bytes`);
      expect(r.stderr).toContain('nothing was stored');
      const tags = await fetch(`${registry.url}/v2/${repo}/tags/list`);
      const listed = tags.status === 200 ? ((await tags.json()) as { tags: string[] | null }).tags ?? [] : [];
      expect(listed).toEqual([]);
    }, 120_000);

    it(`${what}, the base's folders known from the registry's record of a build on its true manifest (the base not read on this fresh host): the push stops, naming the blob and both sizes, and no manifest of ours is there`, async () => {
      const tag = `size${size}`.replace('-', 'minus');
      // Every mount's folder is looked up in the base (stop 44), so the base is read wherever it is not known. A
      // fresh host building on the line's record takes what the base's layers hold at the mounts from the record
      // (keyed by layer digests and paths) and mounts the layer without reading it, also when the base's tag now
      // names that layer with another size: the push's check is the guard there.
      await baseTagged('true-first', layer.size);
      const repo = `studio/on-lying-base-${tag}-${process.pid}`;
      const first = await runCli(['build', '--tag', 'v0', '--push', `${registry.host}/${repo}`], { cwd: await gameOn(`${registry.host}/${baseRepo}:true-first`, true) });
      expect(first.code, first.stderr).toBe(0);
      const tagsOf = async () => ((await (await fetch(`${registry.url}/v2/${repo}/tags/list`)).json()) as { tags: string[] }).tags.sort();
      const before = await tagsOf();
      expect(before).toContain('v0');
      await baseTagged(tag, size);
      // The line's repository holds that layer already, with its true size: its own check finds the lie there
      // (registry.blob-size). A second repository, new, gets the layer mounted from the base's: the push's guard
      // (push.mount-mismatch). Both are told in the targets' failure.
      const second = `studio/on-lying-base-second-${tag}-${process.pid}`;
      const r = await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/${repo}`, '--push', `${registry.host}/${second}`], { cwd: await gameOn(`${registry.host}/${baseRepo}:${tag}`, true) });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error[push.targets-failed]: 2 of 2 targets failed');
      expect(r.stderr).toContain(`holds ${layer.digest} with ${layer.size} bytes, the blob has ${size}`);
      expect(r.stderr).toContain(`the blob mounted from ${baseRepo} has ${layer.size} bytes, the image names it with ${size}`);
      expect(await tagsOf()).toEqual(before);
      const secondTags = await fetch(`${registry.url}/v2/${second}/tags/list`);
      const listed = secondTags.status === 200 ? ((await secondTags.json()) as { tags: string[] | null }).tags ?? [] : [];
      expect(listed).toEqual([]);
    }, 120_000);
  }

  it('a negative size is not a size: refused when the base is read, naming its manifest and the field; nothing is pushed', async () => {
    await baseTagged('sizeminus5', -5);
    const repo = `studio/on-lying-base-sizeminus5-${process.pid}`;
    const r = await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/${repo}`], { cwd: await gameOn(`${registry.host}/${baseRepo}:sizeminus5`) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[base\.json\]: base image .*: manifest sha256:[0-9a-f]{64}: layers\[0\]\.size: -5 is not a byte count$/m);
    const tags = await fetch(`${registry.url}/v2/${repo}/tags/list`);
    const listed = tags.status === 200 ? ((await tags.json()) as { tags: string[] | null }).tags ?? [] : [];
    expect(listed).toEqual([]);
  }, 120_000);

  it('the true size: built and pushed on it (control)', async () => {
    await baseTagged('true', layer.size);
    const repo = `studio/on-true-base-${process.pid}`;
    const r = await runCli(['build', '--tag', 'v1', '--push', `${registry.host}/${repo}`], { cwd: await gameOn(`${registry.host}/${baseRepo}:true`) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 mounted/);
  }, 120_000);
});
