// Base images for tests against the real Docker engine, which can pull nothing from outside: a `FROM scratch`
// image holding Debian's static busybox as /bin/busybox with sh/cp/… links, built through dockerode.
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import Docker from 'dockerode';
import * as tar from 'tar-stream';
import { packEntries } from '../../src/oci/tar.js';
import { removeImagesAfterRun } from './docker-cleanup.js';

export const BUSYBOX_IMAGE = 'gamelayer-test/busybox:1';
const BUSYBOX = '/usr/bin/busybox';
const APPLETS = ['sh', 'cp', 'ls', 'cat', 'sha256sum', 'grep', 'sed', 'find', 'stat', 'readlink', 'sleep', 'dirname', 'pwd', 'echo', 'true', 'wc', 'sort'];

export const docker = new Docker();

/** Runs a daemon JSON-lines stream to its end; throws on an error message. */
export async function drain(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const c of stream as AsyncIterable<Buffer>) text += c.toString();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const m = JSON.parse(line) as { error?: string };
    if (m.error) throw new Error(m.error);
  }
  return text;
}

export async function tarOf(files: { name: string; content?: Buffer; mode?: number }[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const entries = files.map((f) => ({ header: { name: f.name, mode: f.mode ?? 0o644, mtime: new Date(0) }, body: f.content ?? Buffer.alloc(0) }));
  for await (const c of packEntries(entries)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Builds (once per busybox binary) the busybox base image in the daemon and returns its name. */
export async function busyboxImage(): Promise<string> {
  const bin = await readFile(BUSYBOX);
  const id = createHash('sha256').update(bin).digest('hex').slice(0, 12);
  try {
    const img = await docker.getImage(BUSYBOX_IMAGE).inspect();
    if (img.Config?.Labels?.['busybox.sha256'] === id) return BUSYBOX_IMAGE;
  } catch {
    // not built yet
  }
  const links = APPLETS.map((a) => `/bin/busybox ln -s /bin/busybox /bin/${a}`).join(' && ');
  const dockerfile = [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    // The busybox shell itself creates the applet links: no other tool is needed.
    `RUN ["/bin/busybox", "sh", "-c", "${links} && /bin/busybox mkdir -p /tmp && /bin/busybox chmod 1777 /tmp"]`,
    `LABEL busybox.sha256=${id}`,
  ].join('\n');
  const context = await tarOf([
    { name: 'Dockerfile', content: Buffer.from(dockerfile) },
    { name: 'busybox', content: bin, mode: 0o755 },
  ]);
  await drain(await docker.buildImage(Readable.from([context]), { t: BUSYBOX_IMAGE, rm: true, forcerm: true }));
  return BUSYBOX_IMAGE;
}

/** `docker save` of an image into `dir/<name>.tar` (a docker-archive base for the daemonless build). */
export async function saveImage(image: string, dir: string): Promise<string> {
  const file = path.join(dir, `${image.replace(/[/:]/g, '_')}.tar`);
  await pipeline(await docker.getImage(image).get(), createWriteStream(file));
  return file;
}

export interface FsEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  sha256?: string;
  linkTarget?: string;
}

/** The file system of an image, via `docker export` of a created (never started) container. */
export async function imageFiles(image: string, under = ''): Promise<Map<string, FsEntry>> {
  const c = await docker.createContainer({ Image: image, Entrypoint: ['/nonexistent'], Cmd: [] });
  try {
    return await tarFiles(await c.export(), under);
  } finally {
    await c.remove({ force: true });
  }
}

/** Entries of a tar stream (only names under `under`, if given), with content hashes. */
export async function tarFiles(stream: NodeJS.ReadableStream, under = ''): Promise<Map<string, FsEntry>> {
  const out = new Map<string, FsEntry>();
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const name = h.name.replace(/^\.?\//, '').replace(/\/$/, '');
      const hash = createHash('sha256');
      for await (const c of entry) hash.update(c as Buffer);
      if (under && name !== under && !name.startsWith(`${under}/`)) continue;
      if (h.type === 'file') out.set(name, { type: 'file', mode: (h.mode ?? 0) & 0o7777, sha256: hash.digest('hex') });
      else if (h.type === 'directory') out.set(name, { type: 'dir', mode: (h.mode ?? 0) & 0o7777 });
      else if (h.type === 'symlink') out.set(name, { type: 'symlink', mode: 0o777, linkTarget: h.linkname ?? '' });
    }
  })();
  await Promise.all([pipeline(stream as unknown as Readable, extract), done]);
  return out;
}

/** Runs an image to completion; returns its exit code and output. */
export async function runImage(image: string, cmd: string[] = [], entrypoint?: string[]): Promise<{ code: number; output: string }> {
  const c = await docker.createContainer({ Image: image, Cmd: cmd, ...(entrypoint ? { Entrypoint: entrypoint } : {}), HostConfig: { NetworkMode: 'none' } });
  try {
    const stream = await c.attach({ stream: true, stdout: true, stderr: true });
    let output = '';
    const out = new PassThrough();
    out.on('data', (d: Buffer) => (output += d.toString()));
    c.modem.demuxStream(stream, out, out);
    await c.start();
    const r = (await c.wait()) as { StatusCode: number };
    await new Promise((res) => setTimeout(res, 50));
    return { code: r.StatusCode, output };
  } finally {
    await c.remove({ force: true });
  }
}

/** Removes the images `refs` name once the run is over (docker-cleanup.ts says why not at once). */
export async function removeImages(refs: string[]): Promise<void> {
  removeImagesAfterRun(refs);
}
