// zstd layers through Debian's `zstd` CLI (Node 20's zlib has no zstd). Multi-threaded mode with fixed
// settings: its output depends on level and input only, not on the thread count (checked in tests).
import { execFile, spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { GamelayerError } from '../errors.js';

export const DEFAULT_ZSTD_LEVEL = 3;

export interface ZstdOptions {
  level?: number;
  /** The zstd binary; default `zstd` on PATH. */
  bin?: string;
}

/** zstd -T0 uses every core; MT mode splits jobs by level, not by thread count, so bytes stay the same. */
function zstdArgs(level: number): string[] {
  if (!Number.isInteger(level) || level < 1 || level > 19) {
    throw new GamelayerError('zstd.level', `zstd level ${level} is not a whole number from 1 to 19`);
  }
  return [`-${level}`, '-T0', '-q', '-c', '--no-progress'];
}

function missing(bin: string, e: Error): GamelayerError {
  return new GamelayerError('zstd.missing', `cannot run ${bin}: ${e.message}`, 'install zstd (apt-get install zstd) or use gzip layers');
}

const versions = new Map<string, Promise<string>>();

/** `zstd v1.5.4 -3 -T0 …`: everything that decides the bytes, for the layer cache key. */
export async function zstdCompressorId(options: ZstdOptions = {}): Promise<string> {
  const bin = options.bin ?? 'zstd';
  let v = versions.get(bin);
  if (!v) {
    v = promisify(execFile)(bin, ['--version']).then(
      ({ stdout }) => /v\d+\.\d+\.\d+/.exec(stdout)?.[0] ?? stdout.trim(),
      (e: Error) => Promise.reject(missing(bin, e)),
    );
    versions.set(bin, v);
  }
  return `zstd ${await v} ${zstdArgs(options.level ?? DEFAULT_ZSTD_LEVEL).join(' ')}`;
}

/**
 * A duplex that zstd-compresses what is written to it. It ends only after zstd exited 0: a zstd
 * that fails half-way gives a stream error, never a truncated blob that looks complete.
 */
export function createZstd(options: ZstdOptions = {}): Duplex {
  const bin = options.bin ?? 'zstd';
  const child = spawn(bin, zstdArgs(options.level ?? DEFAULT_ZSTD_LEVEL), { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let outEnded = false;
  let exit: number | null | undefined;

  const duplex = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (child.stdin.write(chunk)) cb();
      else child.stdin.once('drain', () => cb());
    },
    final(cb) {
      child.stdin.end(cb);
    },
    read() {
      child.stdout.resume();
    },
    destroy(err, cb) {
      if (exit === undefined) child.kill('SIGKILL');
      cb(err);
    },
  });
  const finish = () => {
    if (!outEnded || exit === undefined) return;
    if (exit === 0) duplex.push(null);
    else duplex.destroy(new GamelayerError('zstd.failed', `${bin} exited with ${exit}: ${stderr.trim()}`));
  };
  child.stdout.on('data', (d: Buffer) => {
    if (!duplex.push(d)) child.stdout.pause();
  });
  child.stdout.on('end', () => {
    outEnded = true;
    finish();
  });
  child.on('error', (e) => duplex.destroy(missing(bin, e)));
  child.stdin.on('error', (e) => duplex.destroy(e));
  child.on('close', (code, signal) => {
    exit = code ?? (signal ? -1 : 0);
    finish();
  });
  return duplex;
}
