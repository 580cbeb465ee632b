// `k8s --fill --in-place`: the manifest is rewritten where it really is, as it was. Through a symlink the old code
// replaced the link with a regular file (the shared manifest it pointed at kept its old images), and the new file
// got the default mode: a 0600 manifest (Secrets beside the Deployment) came back world-readable.
import { chmod, chown, realpath, stat, writeFile } from 'node:fs/promises';
import { GamelayerError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

/** Replaces `file`'s text atomically, at its real path, keeping its permission bits (and owner, when root). */
export async function writeInPlace(file: string, text: string): Promise<string> {
  const real = await realpath(file);
  const before = await stat(real);
  try {
    await writeFileAtomic(real, async (tmp) => {
      await writeFile(tmp, text, { mode: 0o600 });
      await chmod(tmp, before.mode & 0o7777);
      if (process.getuid?.() === 0) await chown(tmp, before.uid, before.gid);
    });
  } catch (e) {
    throw new GamelayerError('deploy.write', `${real}: cannot write: ${(e as Error).message}`);
  }
  return real;
}
