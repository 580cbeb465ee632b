// A base layer's tar walked for a few paths (the folders above and at the trees' mounts): its whiteouts, opaque
// folders and its own entries there, as oci/base-parents.ts applies them in layer order. A module of its own, as
// the download's pass (oci/base-diffid.ts) walks the tar it decompresses with it too: the layer is then read once.
import type { BaseNode } from '../plan/mount-parents.js';
import { tarExtract } from '../util/tar-extract.js';
import { OPAQUE_WHITEOUT, whiteoutTargetPath } from '../util/whiteout.js';
import { memberName } from './archive-links.js';
import { PathHashSet } from '../util/path-hash-set.js';

/** What one layer says about the tracked paths: whiteouts, opaque folders, and its own entries at them. */
export interface LayerFolders {
  hidden: string[];
  opaque: string[];
  entries: [string, BaseNode][];
  /**
   * The first path, any path of the layer, that it names twice (`etc/passwd`, `etc` for `etc/` and `./etc`): the
   * image spec forbids it, and Docker refuses every image on such a layer at load or pull ("duplicates of file paths
   * not supported"). The walk reads every entry anyway; the paths are kept as hashes (util/path-hash-set.ts).
   */
  duplicate?: string;
}

/**
 * Folders of one base layer a download already read (the diff_id pass, oci/base-diffid.ts), by layer digest, for
 * `paths`: baseNodes applies them instead of reading the layer again.
 */
export interface FoldersSeen {
  paths: readonly string[];
  layers: Map<string, LayerFolders>;
}

/**
 * A writable for a layer's uncompressed tar that collects its LayerFolders for `tracked`: `done` settles once the tar
 * has ended (rejects on a tar it cannot read).
 */
export async function layerFoldersSink(tracked: ReadonlySet<string>): Promise<{ sink: NodeJS.WritableStream; done: Promise<LayerFolders> }> {
  const extract = await tarExtract();
  const out: LayerFolders = { hidden: [], opaque: [], entries: [] };
  const names = new PathHashSet();
  const done = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const name = memberName(h.name);
      if (!names.add(name)) out.duplicate ??= name;
      const slash = name.lastIndexOf('/');
      const hidden = whiteoutTargetPath(name);
      if (name.slice(slash + 1) === OPAQUE_WHITEOUT) out.opaque.push(slash < 0 ? '' : name.slice(0, slash));
      else if (hidden !== undefined) out.hidden.push(hidden);
      else if (tracked.has(name)) out.entries.push([name, nodeOf(h)]);
      entry.resume();
    }
    return out;
  })();
  return { sink: extract as unknown as NodeJS.WritableStream, done };
}

/** A tar header as a node; PAX `uid` / `gid` (ids beyond ustar's octal fields) win, as they do when unpacked. */
function nodeOf(h: { type?: string | null; mode?: number; uid?: number; gid?: number; linkname?: string | null; pax?: unknown }): BaseNode {
  const pax = (h.pax ?? {}) as Record<string, string | undefined>;
  if (h.type === 'directory') {
    const id = (text: string | undefined, plain: number | undefined) => (text !== undefined && /^\d+$/.test(text) ? Number(text) : (plain ?? 0));
    return { type: 'dir', uid: id(pax.uid, h.uid), gid: id(pax.gid, h.gid), mode: (h.mode ?? 0o755) & 0o7777 };
  }
  if (h.type === 'symlink') return { type: 'symlink', target: h.linkname ?? '' };
  return { type: 'other', what: h.type === 'link' ? 'a hard link' : h.type === 'file' || !h.type ? 'a file' : `a ${h.type}` };
}

