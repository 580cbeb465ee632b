// Replacing a file a user keeps behind a symlink (a config or manifest shared from a dotfiles or infra folder) or
// with a narrow mode (0600: Secrets beside a Deployment). A rename over the given path replaced the link with a file
// of its own (the shared target kept the old text) and gave the new file the umask's mode.
import { chmod, chown, realpath, stat, writeFile } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';

/**
 * Replaces the existing `file`'s text atomically at its real path (through any symlinks), keeping its permission
 * bits, and its owner when run as root. Returns the real path. An error of the write goes through `writeError` with
 * that path (each caller names it in its own error code); one of finding the file (it is gone) is thrown as it is.
 */
export async function writeThroughLink(file: string, text: string, writeError: (e: unknown, real: string) => unknown): Promise<string> {
  const real = await realpath(file);
  const before = await stat(real);
  try {
    await writeFileAtomic(real, async (tmp) => {
      // Created private, then given the old file's bits: never readable by more than the old file for a moment.
      await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
      await chmod(tmp, before.mode & 0o7777);
      if (process.getuid?.() === 0) await chown(tmp, before.uid, before.gid);
    });
  } catch (e) {
    throw writeError(e, real);
  }
  return real;
}
