// Two trees taking the same files: a tree whose source lies inside another's (app-media at ShooterGame/Content/Paks,
// app at ShooterGame) while the outer tree's globs still take that folder and its mount puts it elsewhere than the
// inner tree's mount (or the same source named twice). Every such file was packed, pushed and pulled twice (1 GB of
// paks shipped in the app image too), and nothing said so. A nested mount at the matching path is fine: the outer
// tree leaves the inner mount out (config/load.ts), so nothing is counted there.
import path from 'node:path';
import type { GameConfig } from '../config/load.js';
import { eachEntry } from '../entries/packed-list.js';
import { formatBytes } from '../report/reporter.js';
import { count } from '../report/plural.js';
import { isSameOrInside, realPathOfExisting } from '../util/real-path.js';
import { TREE_NAMES, type TreeManifest, type TreeName } from '../types.js';

/** One warning per pair of trees (per platform) where one holds files of the other's source that the other holds too. */
export function overlapWarnings(config: Pick<GameConfig, 'trees'>, manifests: readonly TreeManifest[]): string[] {
  const warnings: string[] = [];
  // Resolved once per tree: a source that is a symlink into another tree's folder takes those same files.
  const real = new Map(manifests.map((m) => [m, realPathOfExisting(m.root)] as const));
  for (const outer of manifests) {
    for (const innerManifest of manifests) {
      const inner = innerManifest.tree;
      if (inner === outer.tree) continue;
      if (outer.platform && innerManifest.platform && outer.platform !== innerManifest.platform) continue;
      if (!isSameOrInside(real.get(outer)!, real.get(innerManifest)!)) continue;
      const rel = path.relative(real.get(outer)!, real.get(innerManifest)!);
      // The same source twice: one warning for the pair, not one each way.
      if (rel === '' && TREE_NAMES.indexOf(inner) < TREE_NAMES.indexOf(outer.tree)) continue;
      const relPosix = rel.split(path.sep).join('/');
      const shared = sharedFiles(outer, innerManifest, relPosix);
      if (shared.files === 0) continue;
      const glob = shared.whole ? relPosix : `${relPosix}/**`;
      warnings.push(overlapText(config, outer, inner, innerManifest.root, relPosix, glob, shared.files, shared.bytes));
    }
  }
  return warnings;
}

/**
 * The outer tree's files under `rel` that the inner tree holds too (at the path less `rel`). The inner tree's paths
 * are collected only once the outer tree holds something there (a nested mount at the matching path holds nothing).
 */
function sharedFiles(outer: TreeManifest, inner: TreeManifest, rel: string): { files: number; bytes: number; whole: boolean } {
  const candidates: { path: string; size: number }[] = [];
  let whole = false; // the inner source is a file of the outer tree (an engine tarball in the app folder)
  for (const e of eachEntry(outer.entries)) {
    if (e.type === 'dir') continue;
    if (rel !== '' && e.path !== rel && !e.path.startsWith(`${rel}/`)) continue;
    if (e.path === rel) {
      whole = true;
      candidates.push({ path: '', size: e.size });
    } else candidates.push({ path: rel === '' ? e.path : e.path.slice(rel.length + 1), size: e.size });
  }
  if (candidates.length === 0) return { files: 0, bytes: 0, whole };
  // An archive source is one file of the outer tree: all of it is shipped twice, whatever the inner tree takes.
  if (whole) return { files: 1, bytes: candidates[0]!.size, whole };
  const held = new Set<string>();
  for (const e of eachEntry(inner.entries)) if (e.type !== 'dir') held.add(e.path);
  let files = 0;
  let bytes = 0;
  for (const c of candidates) {
    if (!held.has(c.path)) continue;
    files++;
    bytes += c.size;
  }
  return { files, bytes, whole };
}

function overlapText(config: Pick<GameConfig, 'trees'>, outer: TreeManifest, inner: TreeName, source: string, rel: string, glob: string, files: number, bytes: number): string {
  const label = outer.platform ? `${outer.tree} (${outer.platform})` : outer.tree;
  const held = `${count(files, 'file')} (${formatBytes(bytes)})`;
  const innerMount = config.trees[inner].mount;
  if (rel === '') {
    return (
      `trees.${outer.tree} and trees.${inner} have the same source ${source}, and both hold ${held} of it: every such file is packed, pushed and pulled twice; ` +
      `give each tree its own folder, or split the folder between them with include / exclude`
    );
  }
  const outerMount = path.posix.join(config.trees[outer.tree].mount, rel);
  return (
    `trees.${inner}.source ${source} lies inside trees.${outer.tree}.source ${outer.root}, and ${label} still holds ${held} of it ` +
    `(at ${outerMount}, and trees.${inner} at ${innerMount}): every such file is packed, pushed and pulled twice; ` +
    `leave them out of ${outer.tree} (trees.${outer.tree}.exclude: ["${glob}"]), or mount ${inner} at ${outerMount}, which ${outer.tree} then leaves out`
  );
}
