// The deterministic build context of the emitted Dockerfiles (layout.ts): a tar stream with the Dockerfiles and
// every planned layer in its own folder. Sorted bytewise, fixed mtimes, uid/gid 0, modes as scanned, symlinks
// stored; file bytes are streamed from the sources and verified against the scan, never held in memory.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { contentSourceFor, type ContentSource } from '../oci/content.js';
import { sentinelBytes, TREE_SENTINEL } from '../oci/sentinel.js';
import { layerTarEntries, packEntries, sourceDateEpoch, type PackEntry } from '../oci/tar.js';
import { compareBytewise } from '../scan/manifest.js';
import { TREE_NAMES, type FileEntry, type TreeName } from '../types.js';
import { emitDockerfiles, type EmitOptions } from './emit.js';
import type { DockerGame } from './game.js';
import { layerDir, SENTINEL_DIR, treeArchiveName } from './layout.js';
import { writeFileAtomic } from '../util/atomic-write.js';

/** Bumped when the context layout changes, so cached re-packed archives are not reused wrongly. */
const CONTEXT_FORMAT = 'gamelayer-docker-context/1';

interface ContextEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  linkTarget?: string;
  open?: () => Promise<Readable>;
}

export interface ContextOptions extends EmitOptions {
  /** Only these trees (a tree image's build needs its own tree alone); default all four. */
  only?: TreeName[];
  /** Called with content bytes as they are written (progress). */
  onBytes?: (n: number) => void;
}

const dirEntry = (name: string): ContextEntry => ({ name, type: 'dir', mode: 0o755, size: 0 });

function bufferEntry(name: string, bytes: Buffer): ContextEntry {
  return { name, type: 'file', mode: 0o644, size: bytes.length, open: async () => Readable.from([bytes]) };
}

/** A tree's entries as laid out in its stage: `layer-<i>/<mount>/…` and `sentinel/<mount>/.gamelayer-tree`. */
function treeEntries(game: DockerGame, tree: TreeName, content: ContentSource): ContextEntry[] {
  const mount = game.config.trees[tree].mount;
  const out: ContextEntry[] = [];
  const layers = game.plan.layers.filter((l) => l.tree === tree);
  for (const l of layers) {
    const prefix = layerDir(l.index);
    out.push(dirEntry(prefix));
    for (const t of layerTarEntries(l.entries, mount)) out.push(fromFileEntry(`${prefix}/${t.name}`, t.entry, content));
  }
  const bytes = sentinelBytes(game.manifests[tree]);
  const sentinel: FileEntry = { path: TREE_SENTINEL, type: 'file', mode: 0o644, size: bytes.length };
  out.push(dirEntry(SENTINEL_DIR));
  for (const t of layerTarEntries([sentinel], mount)) {
    out.push(t.entry.type === 'file' ? bufferEntry(`${SENTINEL_DIR}/${t.name}`, bytes) : fromFileEntry(`${SENTINEL_DIR}/${t.name}`, t.entry, content));
  }
  return out;
}

function fromFileEntry(name: string, e: FileEntry, content: ContentSource): ContextEntry {
  if (e.type === 'file') return { name, type: 'file', mode: e.mode, size: e.size, open: () => content.open(e) };
  if (e.type === 'symlink') return { name, type: 'symlink', mode: e.mode, size: 0, linkTarget: e.linkTarget };
  return { name, type: 'dir', mode: e.mode, size: 0 };
}

function sorted(entries: ContextEntry[]): ContextEntry[] {
  return entries.sort((a, b) => compareBytewise(a.name, b.name));
}

function tarStream(entries: ContextEntry[], onBytes?: (n: number) => void): Readable {
  const mtime = new Date(sourceDateEpoch() * 1000);
  function* packed(): Generator<PackEntry> {
    for (const e of entries) {
      const h = { name: e.name, mode: e.mode & 0o7777, mtime, uid: 0, gid: 0, uname: '', gname: '' };
      if (e.type === 'dir') yield { header: { ...h, type: 'directory', size: 0 } };
      else if (e.type === 'symlink') yield { header: { ...h, type: 'symlink', size: 0, linkname: e.linkTarget ?? '' } };
      else yield { header: { ...h, type: 'file', size: e.size }, body: e.open! };
    }
  }
  return packEntries(packed(), { onBytes });
}

/**
 * The re-packed tar of an archive tree, kept under `.gamelayer/cache/docker/` and named by what it holds
 * (layout, mount, the layers' input keys, the tree digest), so an unchanged engine is not re-packed.
 */
async function treeArchive(game: DockerGame, tree: TreeName, content: ContentSource): Promise<{ file: string; size: number }> {
  const h = createHash('sha256').update(`${CONTEXT_FORMAT}\n${sourceDateEpoch()}\n${game.config.trees[tree].mount}\n${game.manifests[tree].digest}\n`);
  for (const l of game.plan.layers) if (l.tree === tree) h.update(`${l.inputKey}\n`);
  const dir = path.join(game.config.stateDir, 'cache', 'docker');
  const file = path.join(dir, `${tree}-${h.digest('hex').slice(0, 32)}.tar`);
  const have = await stat(file).catch(() => undefined);
  if (have) return { file, size: have.size };
  await writeFileAtomic(file, (tmp) => pipeline(tarStream(sorted(treeEntries(game, tree, content))), createWriteStream(tmp)));
  return { file, size: (await stat(file)).size };
}

/** Every entry of the context, sorted; archive trees are re-packed (or found in the cache) first. */
async function contextEntries(game: DockerGame, opts: ContextOptions): Promise<ContextEntry[]> {
  const entries: ContextEntry[] = emitDockerfiles(game.input, opts).map((f) => bufferEntry(f.name, Buffer.from(f.content)));
  for (const tree of TREE_NAMES) {
    if (opts.only && !opts.only.includes(tree)) continue;
    const m = game.manifests[tree];
    const content = await contentSourceFor(m.source, {
      cacheDir: path.join(game.config.stateDir, 'cache', 'archive-content'),
      entries: m.entries,
    });
    if (m.source.kind === 'archive') {
      const { file, size } = await treeArchive(game, tree, content);
      entries.push({ name: treeArchiveName(tree), type: 'file', mode: 0o644, size, open: async () => createReadStream(file) });
    } else {
      entries.push(dirEntry(tree));
      for (const e of treeEntries(game, tree, content)) entries.push({ ...e, name: `${tree}/${e.name}` });
    }
  }
  const out = sorted(entries);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.name === out[i - 1]!.name) {
      throw new GamelayerError('docker.context', `build context lists ${out[i]!.name} twice`);
    }
  }
  return out;
}

export interface BuildContext {
  /** The context as a tar stream (read it once). */
  stream: Readable;
  /** Content bytes of the files in it. */
  bytes: number;
}

export async function dockerContext(game: DockerGame, opts: ContextOptions = {}): Promise<BuildContext> {
  const entries = await contextEntries(game, opts);
  const bytes = entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0);
  return { stream: tarStream(entries, opts.onBytes), bytes };
}
