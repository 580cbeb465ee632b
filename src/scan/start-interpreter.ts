// On a scratch base the start program's #! interpreter (/bin/sh) must come from a tree: when none holds it, Docker's
// only words are "exec /opt/local/engine/start.sh: no such file or directory", of a file that is there, and only
// run-local explained them, after the engine failed. build, dockerfile and load say it up front, as a warning; so
// for a start program under a tree's mount that the tree lacks, or one without an execute bit, on any base.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { treeSourceFor, type GameConfig, type TreeConfig } from '../config/load.js';
import { startArgv } from '../config/start.js';
import { globMatcher } from '../util/glob-match.js';
import { isSameOrInside } from '../util/real-path.js';
import { openRegularFile, readUpTo } from '../util/small-file.js';
import { archiveMembers, type ArchiveMember } from './archive-members.js';

const HEAD_BYTES = 256;

/**
 * The warning for a start program that cannot run, or undefined: one under a tree's mount that the tree does not hold
 * (a typo in `start`, a glob that leaves it out), one without an execute bit (a copy that dropped modes: the build
 * passed and Docker said "permission denied"), and on a scratch base a #! script whose interpreter no tree holds.
 * An image base's files are not read here: a program outside every tree's mount is taken to be the base's.
 */
export async function startInterpreterWarning(config: GameConfig, platforms: readonly string[]): Promise<string | undefined> {
  const argv = startArgv(config.start);
  // Platforms whose trees have the same sources have the same answer: their sources are read once.
  const seen = new Set<string>();
  for (const platform of platforms) {
    const sources = JSON.stringify(Object.values(config.trees).map((t) => treeSourceFor(t, platform).path));
    if (seen.has(sources)) continue;
    seen.add(sources);
    // Unreadable or missing sources are the scan's to report, with their own error: no guess here.
    const w = await problem(config, platform, argv).catch(() => undefined);
    if (w) return w;
  }
  return undefined;
}

async function problem(config: GameConfig, platform: string, argv: string[]): Promise<string | undefined> {
  const where = `${config.file}: start`;
  const scratch = config.baseImage === 'scratch';
  if (argv[0] === 'sh' && argv[1] === '-c' && argv.length === 3) {
    if (!scratch || (await lookUp(config, platform, '/bin/sh'))) return undefined;
    return `${where}: "${argv[2]}" runs through /bin/sh (one string with blanks), which no tree holds and baseImage scratch has not: ` +
      `the engine cannot start; ${hint('/bin/sh')}, or write start as a list`;
  }
  const program = argv[0];
  if (program === undefined || !path.posix.isAbsolute(program)) return undefined;
  const at = await locate(config, platform, program);
  // A tree mounted at / holds every path: on an image base, a program it lacks may be the base's.
  if (at && !at.found && (scratch || at.tree.mount !== '/')) {
    const left = at.excluded ? ` (its include / exclude leave ${at.rel} out)` : '';
    return `${where}: ${program} is in no tree: it lies under ${at.mount}, the mount of trees.${at.name}, whose source ${at.source} holds no ${at.rel}${left}: ` +
      `the engine cannot start (Docker says "exec ${program}: no such file or directory"); correct start, or the tree's source or globs`;
  }
  const found = at?.found;
  // An archive's member has its tar header's mode (archive sources went unchecked: a tarball made without modes).
  if (found?.type === 'file' && found.mode !== undefined && (found.mode & 0o111) === 0) {
    const file = at!.archive ? `${at!.rel} in ${at!.source}` : path.join(at!.source, ...at!.rel.split('/'));
    return `${where}: ${program} (${file}) has no execute bit: the engine cannot start (Docker says "permission denied"); ` +
      `chmod +x it in the ${at!.archive ? 'tree before it is archived' : 'source before the build'} (a copy or an archive step that drops modes does this)`;
  }
  if (!scratch) return undefined;
  if (!found?.head || found.head[0] !== 0x23 || found.head[1] !== 0x21) return undefined; // not a #! script
  const interpreter = found.head.subarray(2).toString('utf8').split('\n')[0]!.trim().split(/\s+/)[0] ?? '';
  if (!path.posix.isAbsolute(interpreter) || (await lookUp(config, platform, interpreter))) return undefined;
  return `${where}: ${program} is a script for ${interpreter} (its #! line), which no tree holds and baseImage scratch has not: ` +
    `the engine cannot start (Docker says "exec ${program}: no such file or directory"); ${hint(interpreter)}, or start a static binary`;
}

const hint = (interpreter: string) =>
  `use a baseImage that has ${interpreter} (busybox, debian-slim, ...) or put ${interpreter} into a tree (a tree's mount may be / or ${path.posix.dirname(interpreter)})`;

/** The file at image path `p` as the trees put it there (the innermost mount owns it), or undefined. */
async function lookUp(config: GameConfig, platform: string, p: string): Promise<ArchiveMember | undefined> {
  return (await locate(config, platform, p))?.found;
}

interface Located {
  name: string;
  tree: TreeConfig;
  mount: string;
  source: string;
  rel: string;
  found?: ArchiveMember;
  /** The source is an archive (tar, tar.gz): `rel` is a member of it. */
  archive?: boolean;
  /** Left out by the tree's include / exclude. */
  excluded?: boolean;
}

/** The tree whose mount holds image path `p` (undefined: none, or `p` is the mount itself) and what it puts there. */
async function locate(config: GameConfig, platform: string, p: string): Promise<Located | undefined> {
  const owned = owner(config, path.posix.normalize(p));
  if (!owned) return undefined;
  const [name, tree] = owned;
  const rel = path.posix.relative(tree.mount, path.posix.normalize(p));
  if (rel === '') return undefined;
  const source = treeSourceFor(tree, platform).path;
  const at: Located = { name, tree, mount: tree.mount, source, rel };
  if (!globMatcher(tree.include)(rel) || globMatcher(tree.exclude)(rel)) return { ...at, excluded: true };
  if (!(await lstat(source)).isDirectory()) return { ...at, archive: true, found: (await archiveMembers(source, [rel], config.stateDir)).get(rel) };
  const file = path.join(source, ...rel.split('/'));
  const s = await lstat(file).catch(() => undefined);
  if (!s) return at;
  if (!s.isFile()) return { ...at, found: { type: s.isSymbolicLink() ? 'symlink' : 'other' } };
  // Opened as a regular file only: one swapped for a FIFO since the lstat must not block the build.
  const opened = await openRegularFile(file);
  if ('notFile' in opened) return { ...at, found: { type: 'other' } };
  try {
    return { ...at, found: { type: 'file', mode: s.mode, head: await readUpTo(opened.handle, Math.min(opened.size, HEAD_BYTES)) } };
  } finally {
    await opened.handle.close();
  }
}

function owner(config: GameConfig, p: string): [string, TreeConfig] | undefined {
  let best: [string, TreeConfig] | undefined;
  for (const [name, t] of Object.entries(config.trees)) {
    if (isSameOrInside(t.mount, p) && (!best || t.mount.length > best[1].mount.length)) best = [name, t];
  }
  return best;
}
