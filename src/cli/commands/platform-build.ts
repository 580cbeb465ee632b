// `build --platform P --push REPO` for a config of several platforms is one part of a multi-platform build: it
// pushes under <tag>-<os>-<arch> and leaves the line's tag alone (its record is no build of every platform);
// `gamelayer index REPO --tag <tag>` merges the parts and moves the line's tag to the merged record.
import type { GameConfig } from '../../config/load.js';
import { GamelayerError } from '../../errors.js';
import { platformTag } from '../../registry/merge-index.js';
import { buildTagClash } from '../../registry/reserved-tags.js';

// The checks of the build's tag and platforms, loaded with this module (one file of the bundle fewer to read).
export { checkBuildPlatforms, checkBuildTag, isPlatformBuild } from '../../pipeline/steps/build-flags.js';


/** The tag of a platform build, or undefined when this build is not one. */
export function platformBuildTag(config: GameConfig, platforms: string[] | undefined, push: string | undefined, tag: string | undefined): string | undefined {
  if (!push || !platforms || config.platforms.length < 2 || platforms.length >= config.platforms.length) return undefined;
  if (platforms.length > 1) {
    throw new GamelayerError(
      'build.platform',
      `--platform ${platforms.join(' ')} --push: a pushed build is of one platform (merged later with gamelayer index) or of all of ${config.platforms.join(', ')}`,
      'build each platform on its own host with --platform P, then run gamelayer index REPO --tag T',
    );
  }
  const base = tag ?? config.version ?? 'latest';
  // The build's own tag is suffixed here, so build's check of it (steps/inputs.ts) would see 1.0.0-app-linux-arm64.
  const clash = buildTagClash(base);
  if (clash) throw new GamelayerError('build.bad-tag', `--tag ${JSON.stringify(base)}: ${clash}`, 'choose a tag that does not end in -engine, -engine-media, -app or -app-media');
  return platformTag(base, platforms[0]!);
}
