// A FROM-scratch base image as an OCI image layout, made from Debian's static busybox without any daemon:
// /bin/busybox plus one symlink per applet (sh, cp, sha256sum, …), /tmp, PATH=/bin. A game whose gamelayer.yaml
// says `baseImage: oci:<dir>:<tag>` then gets tree images that can run the copy and guard scripts.
// (Debian's busybox runs its applets from its shell even without a link, so leaving links out breaks nothing.)
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { tarOf, type TarEntry } from './make-layout.js';
import { tempDir } from './tmp.js';

export const BUSYBOX_BIN = '/usr/bin/busybox';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The host's platform as OCI names it. */
export function hostPlatform(): { os: 'linux'; architecture: string } {
  const architecture = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
  return { os: 'linux', architecture };
}

export interface BusyboxLayoutOptions {
  /** Image tag in the layout (default `busybox`). */
  tag?: string;
  /** Layers on top of busybox's, each a list of tar entries (no file bodies: folders, links, empty files). */
  extraLayers?: TarEntry[][];
}


/** Writes the layout into `dir` and returns the baseImage reference for gamelayer.yaml (`oci:<dir>:<tag>`). */
export async function writeBusyboxLayout(dir: string, options: BusyboxLayoutOptions = {}): Promise<string> {
  const tag = options.tag ?? 'busybox';
  const bin = await readFile(BUSYBOX_BIN);
  const applets = execFileSync(BUSYBOX_BIN, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((a) => a.trim())
    .filter((a) => a && a !== 'busybox' && !a.includes('/'))
    .sort();
  const base = { mtime: new Date(0), uid: 0, gid: 0 };
  const entries: TarEntry[] = [
    { ...base, name: 'bin/', type: 'directory', mode: 0o755 },
    { ...base, name: 'bin/busybox', type: 'file', mode: 0o755, size: bin.length },
    ...applets.map((a): TarEntry => ({ ...base, name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' })),
    { ...base, name: 'tmp/', type: 'directory', mode: 0o1777 },
  ];
  const tar = await tarOf(entries, new Map([['bin/busybox', bin]]));
  const layer = gzipSync(tar, { level: 1 });

  const blobs = path.join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (bytes: Buffer, mediaType: string) => {
    const digest = sha256(bytes);
    await writeFile(path.join(blobs, digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.length };
  };
  const platform = hostPlatform();
  const layerDesc = await put(layer, 'application/vnd.oci.image.layer.v1.tar+gzip');
  const extra = [];
  for (const entries of options.extraLayers ?? []) {
    const t = await tarOf(entries, new Map());
    extra.push({ tar: t, desc: await put(gzipSync(t, { level: 1 }), 'application/vnd.oci.image.layer.v1.tar+gzip') });
  }
  const config = await put(
    Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        os: platform.os,
        config: { Env: ['PATH=/bin'], Cmd: ['sh'], Labels: { 'busybox.sha256': sha256(bin) } },
        rootfs: { type: 'layers', diff_ids: [sha256(tar), ...extra.map((x) => sha256(x.tar))] },
        history: [{ created_by: `busybox ${applets.length} applets` }],
      }),
    ),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = await put(
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layerDesc, ...extra.map((x) => x.desc)] })),
    'application/vnd.oci.image.manifest.v1+json',
  );
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    }),
  );
  return `oci:${dir}:${tag}`;
}

/**
 * The busybox layout copied (skopeo) to `reference` (`host/repo:tag` of a plain-HTTP test registry), with `creds`
 * (`user:password`) where the registry asks for them: a base image kept in a registry.
 */
export async function pushBusyboxBase(reference: string, creds?: string): Promise<void> {
  const layout = path.join(await tempDir(), 'base');
  await writeBusyboxLayout(layout);
  // Not execFileSync: the registry may be served from this process (the fake ECR's front).
  await promisify(execFile)('skopeo', ['copy', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : []), `oci:${layout}:busybox`, `docker://${reference}`]);
}

/**
 * A game in `dir` on the busybox base (written to `dir/base`): the four trees as folders named after them, mounted at
 * /opt/local/<tree>, and `engine/run` the start program with `script` as its body. `extra`: more lines of
 * gamelayer.yaml (`layers: {compression: zstd}`).
 */
export async function writeBusyboxGame(dir: string, game: string, script: string, extra: string[] = []): Promise<void> {
  const base = await writeBusyboxLayout(path.join(dir, 'base'));
  const trees = ['engine', 'engine-media', 'app', 'app-media'];
  for (const t of trees) await mkdir(path.join(dir, t), { recursive: true });
  await writeFile(path.join(dir, 'engine', 'run'), `#!/bin/sh\n${script}`, { mode: 0o755 });
  await writeFile(path.join(dir, 'gamelayer.yaml'), [`game: ${game}`, `baseImage: ${base}`, 'start: [/opt/local/engine/run]', ...extra, 'trees:', ...trees.map((t) => `  ${t}: {source: ${t}}`), ''].join('\n'));
}
