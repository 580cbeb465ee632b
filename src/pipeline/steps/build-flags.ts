// A build's --tag and --platform, checked on their own: build() checks them, and the CLI before anything else is
// read or warned of (a usage error came after the start script's warning).
import type { GameConfig } from '../../config/load.js';
import { GamelayerError } from '../../errors.js';
import { buildTagClash, reservedTagMeaning } from '../../registry/reserved-tags.js';
import { platformTag } from '../../registry/merge-index.js';

const TAG = /^[\w][\w.-]{0,127}$/;
/** The tag whose record file is the last build's pointer (records/build-last.json). */
const LAST_TAG = 'last';

/** The build's tag (`--tag`, else the config's version, else `latest`) as a tag the build may take. */
export function checkBuildTag(tag: string): void {
  if (!TAG.test(tag) || !TAG.test(`${tag}-engine-media`)) {
    throw new GamelayerError('build.bad-tag', `--tag ${JSON.stringify(tag)}: expected letters, digits, "_", "." or "-" (at most 115 characters, leaving room for tree suffixes)`);
  }
  // A build's tags land beside its record, line and signature tags: one of their forms would replace what it names.
  const reserved = reservedTagMeaning(tag);
  if (reserved) throw new GamelayerError('build.bad-tag', `--tag ${JSON.stringify(tag)}: a tag of gamelayer's own form (it names ${reserved})`, 'choose another tag');
  // records/build-<tag>.json: tag `last` would be the last-build pointer itself, which the next build replaces.
  if (tag === LAST_TAG) {
    throw new GamelayerError('build.bad-tag', `--tag "last": the name of the last build's record (records/build-last.json), which the next build replaces: this build's record would be lost`, 'choose another tag');
  }
  const clash = buildTagClash(tag);
  if (clash) throw new GamelayerError('build.bad-tag', `--tag ${JSON.stringify(tag)}: ${clash}`, 'choose a tag that does not end in -engine, -engine-media, -app or -app-media (such as 1.0.0-app.1 or app-1.0.0)');
}

/** `--platform` values: each one of the config's platforms. */
export function checkBuildPlatforms(config: GameConfig, platforms: readonly string[]): void {
  for (const p of platforms) {
    if (!config.platforms.includes(p)) {
      throw new GamelayerError('build.platform', `--platform ${p}: not in the platforms of ${config.file} (${config.platforms.join(', ')})`);
    }
  }
}

/**
 * Whether a build's record is of one platform of the config's several, tagged <tag>-<os>-<arch> (build --platform P
 * --push): it moves no line (its record holds one platform; `gamelayer index` merges the parts and moves the line).
 */
export function isPlatformBuild(config: Pick<GameConfig, 'platforms'>, record: { tags: readonly string[]; platforms: readonly string[] }): boolean {
  if (config.platforms.length < 2 || record.platforms.length !== 1) return false;
  const tag = record.tags[0] ?? '';
  return tag.endsWith(platformTag('', record.platforms[0]!));
}
