// The server image run as it is (`k8s --volumes none`, `ecs --volumes none`): every tree already at its mount.
import { wholeFilesNeeded } from '../chunk/refuse.js';
import { GamelayerError } from '../errors.js';
import type { DeployInput } from './input.js';

/**
 * The build's server image, tagged and by digest; a chunked tree (chunks in place of files) or an old record without
 * one is refused, the hint naming `copyModes`, the command's modes that copy.
 */
export function requireServerImage(input: DeployInput, copyModes: string): { image: string; digestRef: string } {
  const chunked = input.trees.filter((t) => t.chunked).map((t) => t.tree);
  if (chunked.length > 0) throw wholeFilesNeeded(chunked, '--volumes none (the server image run as it is)', `pass ${copyModes}: the copy step assembles the files`);
  if (!input.serverImage || !input.serverDigestRef) {
    throw new GamelayerError(
      'deploy.no-server-image',
      `build ${input.tag} of ${input.game} has no server image (no image named "server" in its build record), so --volumes none has nothing to run`,
      `build again with gamelayer build (it writes the server image), or pass ${copyModes}`,
    );
  }
  return { image: input.serverImage, digestRef: input.serverDigestRef };
}
