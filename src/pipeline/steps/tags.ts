// The tags of a build's images, apart from the images step so that the CLI can name them before the build's modules
// load (its early lookup asks the registry what they name, beside the kept layers' HEADs: start-up, issue 17).
import { TREE_NAMES } from '../../types.js';

/** The server image's tag, then `<tag>-<tree>` per tree, in TREE_NAMES order. */
export function imageTags(tag: string): string[] {
  return [tag, ...TREE_NAMES.map((t) => `${tag}-${t}`)];
}
