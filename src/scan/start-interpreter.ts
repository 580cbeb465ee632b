// On a scratch base the start program's #! interpreter (/bin/sh) must come from a tree: when none holds it, Docker's
// only words are "exec /opt/local/engine/start.sh: no such file or directory", of a file that is there, and only
// run-local explained them, after the engine failed. build, dockerfile and load say it up front, as a warning.
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
 * The warning for a start program that cannot run on this base, or undefined. Only a scratch base is judged: it
 * holds no file, while an image base's files are not read here (it is taken to provide the interpreter).
 */
export async function startInterpreterWarning(config: GameConfig, platforms: readonly string[]): Promise<string | undefined> {
  if (config.baseImage !== 'scratch') return undefined;
  const argv = startArgv(config.start);
  for (const platform of platforms) {
    // Unreadable or missing sources are the scan's to report, with their own error: no guess here.
    const w = await problem(config, platform, argv).catch(() => undefined);
    if (w) return w;
  }
  return undefined;
}

async function problem(config: GameConfig, platform: string, argv: string[]): Promise<string | undefined> {
  const where = `${config.file}: start`;
  if (argv[0] === 'sh' && argv[1] === '-c' && argv.length === 3) {
    if (await lookUp(config, platform, '/bin/sh')) return undefined;
    return `${where}: "${argv[2]}" runs through /bin/sh (one string with blanks), which no tree holds and baseImage scratch has not: ` +
      `the engine cannot start; ${hint('/bin/sh')}, or write start as a list`;
  }
  const program = argv[0];
  if (program === undefined || !path.posix.isAbsolute(program)) return undefined;
  const found = await lookUp(config, platform, program);
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
  const tree = owner(config, path.posix.normalize(p));
  if (!tree) return undefined;
  const rel = path.posix.relative(tree.mount, path.posix.normalize(p));
  if (rel === '' || !globMatcher(tree.include)(rel) || globMatcher(tree.exclude)(rel)) return undefined;
  const source = treeSourceFor(tree, platform).path;
  if (!(await lstat(source)).isDirectory()) return (await archiveMembers(source, [rel], config.stateDir)).get(rel);
  const file = path.join(source, ...rel.split('/'));
  const s = await lstat(file).catch(() => undefined);
  if (!s) return undefined;
  if (!s.isFile()) return { type: s.isSymbolicLink() ? 'symlink' : 'other' };
  // Opened as a regular file only: one swapped for a FIFO since the lstat must not block the build.
  const opened = await openRegularFile(file);
  if ('notFile' in opened) return { type: 'other' };
  try {
    return { type: 'file', head: await readUpTo(opened.handle, Math.min(opened.size, HEAD_BYTES)) };
  } finally {
    await opened.handle.close();
  }
}

function owner(config: GameConfig, p: string): TreeConfig | undefined {
  let best: TreeConfig | undefined;
  for (const t of Object.values(config.trees)) {
    if (isSameOrInside(t.mount, p) && (!best || t.mount.length > best.mount.length)) best = t;
  }
  return best;
}
