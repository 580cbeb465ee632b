// The checked-out git branch of a folder, read from the repository's files (`HEAD`) rather than by starting `git`
// (a process start on the path of every build that names no line; issue 17, no-op start-up). What
// `git symbolic-ref --quiet --short HEAD` answers, for the layouts a game's checkout has: a `.git` folder in the
// folder or one above it, a small `.git` file whose one line is `gitdir: <path>` (a worktree, a submodule), a
// detached HEAD (no branch). What this reader does not know (GIT_DIR, GIT_CEILING_DIRECTORIES or
// GIT_DISCOVERY_ACROSS_FILESYSTEM set, any other `.git` file, a reftable repository, a HEAD it cannot parse) is asked
// of `git` itself, as before.
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { open, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/** The branch HEAD names (`feature/x` for `refs/heads/feature/x`), or undefined: detached, not a repository. */
export async function gitBranch(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  // Set at all (git reads its value as a boolean: "0", "false" and "" do not cross): git decides.
  if (env.GIT_DIR || env.GIT_CEILING_DIRECTORIES || env.GIT_DISCOVERY_ACROSS_FILESYSTEM !== undefined) return askGit(dir, env);
  // Up from where the folder really is, as git does (its working directory is a physical path): the parents of a
  // symbolic link to the folder are not the repository's.
  const real = await realpath(dir).catch(() => undefined);
  if (real === undefined) return undefined;
  const gitDir = await findGitDir(real);
  if (gitDir === undefined) return undefined;
  if (gitDir === ASK_GIT) return askGit(dir, env);
  const head = await readHead(path.join(gitDir, 'HEAD'));
  if (head === undefined) return askGit(dir, env);
  const branch = branchOfHead(head);
  return branch === ASK_GIT ? askGit(dir, env) : branch;
}

/** Longest HEAD read by hand: `ref: refs/heads/<name>` with a long name; anything bigger is left to git. */
const MAX_HEAD_BYTES = 4096;

/**
 * HEAD's text when it is a small regular file, else undefined (git then answers): a symbolic link (a HEAD made with
 * core.preferSymlinkRefs points at the branch's file, whose text is a commit id, not a detached HEAD), a fifo or a
 * huge file are not read.
 */
async function readHead(file: string): Promise<string | undefined> {
  const handle = await open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const st = await handle.stat();
    if (!st.isFile() || st.size > MAX_HEAD_BYTES) return undefined;
    return await handle.readFile('utf8');
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

/** What only git can read: a HEAD this reader does not parse. */
export const ASK_GIT = Symbol('ask git');

/**
 * What a HEAD file's text says: the branch, undefined when detached (a commit id), or ASK_GIT (a reftable
 * repository keeps `ref: refs/heads/.invalid` here).
 */
export function branchOfHead(head: string): string | undefined | typeof ASK_GIT {
  const text = head.trim();
  if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(text)) return undefined;
  const ref = /^ref:\s*(\S+)$/.exec(text)?.[1];
  if (!ref || ref === 'refs/heads/.invalid') return ASK_GIT;
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  // HEAD pointing outside refs/heads is unheard of in a checkout; git's own shortening decides.
  return ASK_GIT;
}

/** Largest `.git` file read by hand (a `gitdir: <path>` line); a bigger one is left to git. */
const MAX_GITFILE_BYTES = 4096;

/**
 * The git dir of the repository `dir` is in: `.git` in it or the nearest folder above, following a `.git` file;
 * like git (without GIT_DISCOVERY_ACROSS_FILESYSTEM), the search stops at a file system boundary. ASK_GIT: a `.git`
 * file this reader does not parse.
 */
async function findGitDir(dir: string): Promise<string | undefined | typeof ASK_GIT> {
  const device = (await stat(dir).catch(() => undefined))?.dev;
  if (device === undefined) return undefined;
  for (let d = dir; ; d = path.dirname(d)) {
    if (d !== dir && (await stat(d).catch(() => undefined))?.dev !== device) return undefined;
    const dotGit = path.join(d, '.git');
    const st = await stat(dotGit).catch(() => undefined);
    if (st?.isDirectory()) return dotGit;
    if (st?.isFile()) {
      if (st.size > MAX_GITFILE_BYTES) return ASK_GIT;
      // One line `gitdir: <path>` (git's own format), relative to the folder holding the file (worktrees, submodules).
      const text = await readFile(dotGit, 'utf8').catch(() => undefined);
      const target = text === undefined ? undefined : /^gitdir: ([^\r\n]+)$/.exec(text.replace(/[\r\n]+$/, ''))?.[1];
      return target === undefined ? ASK_GIT : path.resolve(d, target);
    }
    if (path.dirname(d) === d) return undefined;
  }
}

/** git's own answer, with the environment the caller gave (its GIT_* variables are what git must see). */
async function askGit(dir: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const out = await promisify(execFile)('git', ['-C', dir, 'symbolic-ref', '--quiet', '--short', 'HEAD'], { timeout: 10_000, env }).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  return out || undefined;
}
