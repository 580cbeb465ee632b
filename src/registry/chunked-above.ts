// From which size a blob goes up in chunks (resumable: within a run after a failure, and across runs after a
// killed process, upload.ts). One knob for every push path; a malformed value is an error, not a default.
import { GamelayerError } from '../errors.js';

export const CHUNKED_ABOVE_ENV = 'GAMELAYER_CHUNKED_UPLOAD_ABOVE';
const MIB = 1024 * 1024;

/** 1 GiB, or GAMELAYER_CHUNKED_UPLOAD_ABOVE (MiB, decimals allowed). */
export function chunkedAboveDefault(env: NodeJS.ProcessEnv = process.env): number {
  const v = env[CHUNKED_ABOVE_ENV];
  if (v === undefined || v === '') return 1024 * MIB;
  const mib = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(mib > 0)) {
    throw new GamelayerError('registry.chunked-setting', `${CHUNKED_ABOVE_ENV}="${v}": expected a positive number of MiB, such as 256 or 0.5`);
  }
  return Math.max(1, Math.round(mib * MIB));
}
