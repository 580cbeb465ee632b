// The build's default line is the checked-out git branch, read from the repository's files without starting git
// (src/pipeline/steps/git-branch.ts). Real repositories made with git in a temp folder, each answer compared with
// what git itself says (`git rev-parse --abbrev-ref HEAD`: `HEAD` when detached).
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ASK_GIT, branchOfHead, gitBranch } from '../src/pipeline/steps/git-branch.js';
import { defaultLine } from '../src/pipeline/steps/previous.js';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);
const git = async (dir: string, ...args: string[]) =>
  (await run('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args])).stdout.trim();
/** What git says HEAD is, as gitBranch answers it: undefined for a detached HEAD. */
const gitSays = async (dir: string) => {
  const b = await git(dir, 'rev-parse', '--abbrev-ref', 'HEAD');
  return b === 'HEAD' ? undefined : b;
};
/** No GIT_* variables of the environment running the tests (a hook's GIT_DIR would redirect git). */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));

let repo: string;
beforeAll(async () => {
  for (const k of Object.keys(process.env)) if (k.startsWith('GIT_')) delete process.env[k];
  repo = path.join(await tempDir(), 'game');
  await mkdir(path.join(repo, 'deep', 'er'), { recursive: true });
  await git(repo, 'init', '-q');
  await writeFile(path.join(repo, 'deep', 'er', 'f.txt'), 'x');
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-qm', 'one');
  await git(repo, 'checkout', '-qb', 'feature/levels');
});

describe('gitBranch', () => {
  it('a branch with a slash, in the repository and in a folder below it, as git says', async () => {
    expect(await gitBranch(repo, cleanEnv)).toBe('feature/levels');
    expect(await gitBranch(path.join(repo, 'deep', 'er'), cleanEnv)).toBe(await gitSays(path.join(repo, 'deep', 'er')));
    expect(await gitBranch(repo, cleanEnv)).toBe(await gitSays(repo));
  });

  it('a worktree (its .git is a file naming the git dir) has its own branch, as git says', async () => {
    const wt = path.join(path.dirname(repo), 'wt');
    await git(repo, 'worktree', 'add', '-q', '-b', 'hotfix', wt);
    expect(await gitBranch(wt, cleanEnv)).toBe('hotfix');
    expect(await gitBranch(wt, cleanEnv)).toBe(await gitSays(wt));
    expect(await gitBranch(repo, cleanEnv)).toBe('feature/levels');
  });

  it('a detached HEAD (a commit checked out) has no branch, in a worktree too, as git says', async () => {
    const detached = path.join(path.dirname(repo), 'detached');
    await git(repo, 'worktree', 'add', '-q', '--detach', detached);
    expect(await gitSays(detached)).toBeUndefined();
    expect(await gitBranch(detached, cleanEnv)).toBeUndefined();
    await git(repo, 'checkout', '-q', '--detach');
    expect(await gitBranch(repo, cleanEnv)).toBe(await gitSays(repo));
    expect(await gitBranch(repo, cleanEnv)).toBeUndefined();
    await git(repo, 'checkout', '-q', 'feature/levels');
    expect(await gitBranch(repo, cleanEnv)).toBe('feature/levels');
  });

  it('a folder in no repository has no branch, as git says (it fails)', async () => {
    const outside = await tempDir();
    await expect(git(outside, 'rev-parse', '--abbrev-ref', 'HEAD')).rejects.toThrow();
    expect(await gitBranch(outside, cleanEnv)).toBeUndefined();
    expect(await gitBranch(path.join(outside, 'missing'), cleanEnv)).toBeUndefined();
  });

  it('a HEAD that is a symbolic link to the branch (core.preferSymlinkRefs) names that branch, as git says', async () => {
    const dir = path.join(await tempDir(), 'linked');
    await mkdir(dir);
    await git(dir, 'init', '-q');
    await git(dir, 'commit', '-q', '--allow-empty', '-m', 'one');
    await git(dir, 'checkout', '-qb', 'side');
    await rm(path.join(dir, '.git', 'HEAD'));
    await symlink('refs/heads/side', path.join(dir, '.git', 'HEAD'));
    expect(await gitSays(dir)).toBe('side');
    // Read through the link, HEAD is the branch's commit id: not a detached HEAD.
    expect(await gitBranch(dir, cleanEnv)).toBe('side');
  });

  it('a folder reached through a symbolic link is looked up where it is, as git does (the link\'s own parents are no repository)', async () => {
    const elsewhere = await tempDir();
    const link = path.join(elsewhere, 'game-link');
    await symlink(path.join(repo, 'deep', 'er'), link);
    expect(await gitSays(link)).toBe('feature/levels');
    expect(await gitBranch(link, cleanEnv)).toBe('feature/levels');
  });

  it('GIT_DISCOVERY_ACROSS_FILESYSTEM set at all (even "0"): git answers, not the files', async () => {
    // A repository git refuses (an extension it does not know): read by hand it would name its branch.
    const dir = path.join(await tempDir(), 'ext');
    await mkdir(dir);
    await git(dir, 'init', '-q');
    await git(dir, 'commit', '-q', '--allow-empty', '-m', 'one');
    await git(dir, 'config', 'core.repositoryformatversion', '1');
    await git(dir, 'config', 'extensions.nosuchextension', 'true');
    await expect(gitSays(dir)).rejects.toThrow(/extension/);
    for (const value of ['1', '0', '']) {
      expect(await gitBranch(dir, { ...cleanEnv, GIT_DISCOVERY_ACROSS_FILESYSTEM: value })).toBeUndefined();
    }
  });

  it('a .git file is read only when small and one `gitdir:` line; any other is left to git', async () => {
    const wt = path.join(path.dirname(repo), 'wt-gitfile');
    await git(repo, 'worktree', 'add', '-q', '-b', 'gitfile', wt);
    const dotGit = path.join(wt, '.git');
    const line = (await readFile(dotGit, 'utf8')).trim();
    expect(line).toMatch(/^gitdir: /);
    // The gitdir line second: git refuses the file (invalid gitfile format), so there is no branch.
    await writeFile(dotGit, `# moved\n${line}\n`);
    await expect(gitSays(wt)).rejects.toThrow();
    expect(await gitBranch(wt, cleanEnv)).toBeUndefined();
    // Bigger than 4 KiB (trailing line ends git ignores): git reads it, and its answer is taken.
    await writeFile(dotGit, `${line}${'\n'.repeat(5000)}`);
    expect(await gitSays(wt)).toBe('gitfile');
    expect(await gitBranch(wt, cleanEnv)).toBe('gitfile');
    // Back to git's own one line: read by hand.
    await writeFile(dotGit, `${line}\n`);
    expect(await gitBranch(wt, cleanEnv)).toBe('gitfile');
  });

  it('the default line of a build in a checkout is its branch; detached, it is "default"', async () => {
    expect(await defaultLine(path.join(repo, 'deep'), cleanEnv)).toEqual({ line: 'feature/levels', from: 'git branch' });
    const detached = path.join(path.dirname(repo), 'detached');
    expect(await defaultLine(detached, cleanEnv)).toEqual({ line: 'default', from: 'no branch found' });
  });
});

describe('branchOfHead', () => {
  it('reads a symbolic ref, a commit id (sha1 and sha256), and leaves what it cannot read to git', () => {
    expect(branchOfHead('ref: refs/heads/main\n')).toBe('main');
    expect(branchOfHead(`${'a'.repeat(40)}\n`)).toBeUndefined();
    expect(branchOfHead(`${'b'.repeat(64)}\n`)).toBeUndefined();
    expect(branchOfHead('ref: refs/heads/.invalid\n')).toBe(ASK_GIT);
    expect(branchOfHead('ref: refs/remotes/origin/main\n')).toBe(ASK_GIT);
    expect(branchOfHead('garbage')).toBe(ASK_GIT);
  });
});
