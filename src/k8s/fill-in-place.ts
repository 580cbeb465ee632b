// `k8s --fill --in-place`: the manifest is rewritten where it really is, as it was. Through a symlink the old code
// replaced the link with a regular file (the shared manifest it pointed at kept its old images), and the new file
// got the default mode: a 0600 manifest (Secrets beside the Deployment) came back world-readable.
import { GamelayerError } from '../errors.js';
import { writeThroughLink } from '../util/write-through-link.js';

/** Replaces `file`'s text atomically, at its real path, keeping its permission bits (and owner, when root). */
export function writeInPlace(file: string, text: string): Promise<string> {
  return writeThroughLink(file, text, (e, real) => new GamelayerError('deploy.write', `${real}: cannot write: ${(e as Error).message}`));
}
