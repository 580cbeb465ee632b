// The bound of the wait for ECR replication, from GAMELAYER_REPLICATION_TIMEOUT. Apart from ecr-replication.ts (which
// loads the AWS SDK) so that a command checks the value before it scans and pushes, not after minutes of pushing.
import { GamelayerError } from '../errors.js';
import { parseDuration } from '../util/duration.js';

/** Default bound of the wait for replication (ECR documents most replications within 30 minutes). */
export const REPLICATION_TIMEOUT_MS = 30 * 60_000;
/** Environment variable with the bound: seconds (as before), or a duration such as 45m or 1h30m. */
export const REPLICATION_TIMEOUT_ENV = 'GAMELAYER_REPLICATION_TIMEOUT';

/** The bound from the environment, else the default; a bad value is an error naming the variable. */
export function replicationTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[REPLICATION_TIMEOUT_ENV];
  if (raw === undefined || raw === '') return REPLICATION_TIMEOUT_MS;
  const bad = () =>
    new GamelayerError(
      'push.replication-timeout-value',
      `${REPLICATION_TIMEOUT_ENV}=${JSON.stringify(raw)}: expected a duration above 0 such as 1800 (seconds), 90s, 45m or 1h30m`,
      'set it to how long a push to several regions waits for ECR replication (default 30m), or unset it',
    );
  // A number of seconds, as it always took (1800, 90.5, 1e3); else a duration as the flags take.
  const seconds = Number(raw);
  if (raw.trim() !== '' && Number.isFinite(seconds)) {
    if (seconds > 0) return seconds * 1000;
    throw bad();
  }
  try {
    return parseDuration(REPLICATION_TIMEOUT_ENV, raw);
  } catch {
    throw bad();
  }
}
