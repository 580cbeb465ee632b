// imagedefinitions.json: the file CodePipeline's ECS (standard) deploy action reads to point the containers of a
// service's task definition at new images. Names match the containers `gamelayer ecs` writes.
import path from 'node:path';
import { wholeFilesNeeded } from '../chunk/refuse.js';
import { GamelayerError } from '../errors.js';
import type { DeployInput } from '../k8s/input.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { assertOutFile, assertOutFolder } from '../util/fs-access.js';

export interface ImageDefinition {
  name: string;
  imageUri: string;
}

/**
 * Default: the containers of `gamelayer ecs` — `engine` runs the engine tree image, `copy-<tree>` the other tree
 * images. With `serverContainer`, one entry: that container runs the combined server image.
 */
export function imageDefinitions(input: DeployInput, opts: { serverContainer?: string } = {}): ImageDefinition[] {
  if (opts.serverContainer !== undefined) {
    // The name must match a container of the service's task definition: one ECS cannot have never matches.
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(opts.serverContainer)) {
      throw new GamelayerError('deploy.option', `--server-container: got ${JSON.stringify(opts.serverContainer)}; expected 1-255 letters, digits, "_" and "-" (an ECS container name)`);
    }
    if (!input.serverImage) {
      throw new GamelayerError(
        'codebuild.no-server-image',
        `--server-container ${opts.serverContainer}: the build record has no server image (name "server")`,
        'build again with gamelayer build, or leave out --server-container to write the tree images',
      );
    }
    const chunked = input.trees.filter((t) => t.chunked).map((t) => t.tree);
    if (chunked.length > 0) throw wholeFilesNeeded(chunked, `--server-container ${opts.serverContainer} (the server image run as it is)`, 'leave out --server-container: the copy containers of gamelayer ecs assemble the files');
    return [{ name: opts.serverContainer, imageUri: input.serverImage }];
  }
  return input.trees.map((t) => ({ name: t.tree === 'engine' ? 'engine' : `copy-${t.tree}`, imageUri: t.image }));
}

export function imageDefinitionsJson(defs: ImageDefinition[]): string {
  return `${JSON.stringify(defs, null, 2)}\n`;
}

/** Written beside its final name and renamed, so a pipeline never reads half a file. */
export async function writeImageDefinitions(file: string, defs: ImageDefinition[]): Promise<string> {
  const abs = path.resolve(file);
  await assertOutFolder(path.dirname(abs), '--out');
  await assertOutFile(abs, '--out');
  try {
    await writeFileAtomic(abs, imageDefinitionsJson(defs));
  } catch (e) {
    // As buildspec's --out says it (k8s/output.ts): an unwritable path was error[internal] here.
    throw new GamelayerError('deploy.write', `${abs}: cannot write: ${(e as Error).message}`, undefined, { cause: e });
  }
  return abs;
}
