// The entries' mtime of every layer and image: SOURCE_DATE_EPOCH, checked against what a tar header holds. Apart
// from the tar writer, which a build that reuses every layer never loads.
import { GamelayerError } from '../errors.js';

/**
 * The mtime every entry gets: SOURCE_DATE_EPOCH (reproducible-builds.org) when set, else the Unix epoch.
 * A malformed value is an error rather than a silent fallback that would change every digest.
 */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return 0;
  if (!/^\d{1,12}$/.test(v)) {
    throw new GamelayerError(
      'env.source-date-epoch',
      `SOURCE_DATE_EPOCH="${v}" is not a whole number of seconds since 1970`,
      'set it to e.g. $(git log -1 --format=%ct), or unset it',
    );
  }
  const n = Number(v);
  // tar-stream writes the mtime through a 32-bit integer: a later time would silently wrap (99999999999 became
  // 2008, and past 2^32 the header is unreadable). Refused rather than written wrong.
  if (n > MAX_TAR_MTIME) {
    throw new GamelayerError(
      'env.source-date-epoch',
      `SOURCE_DATE_EPOCH="${v}" is later than ${new Date(MAX_TAR_MTIME * 1000).toISOString()} (${MAX_TAR_MTIME}), the latest time gamelayer's tar headers hold`,
      'set it to e.g. $(git log -1 --format=%ct), or unset it',
    );
  }
  return n;
}

/** Latest entry mtime, in seconds since 1970, that the tar writer (tar-stream, a 32-bit field) keeps intact. */
export const MAX_TAR_MTIME = 2 ** 31 - 1;
