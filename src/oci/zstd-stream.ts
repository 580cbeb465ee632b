// zstd through its stdin and stdout: the reference the layer writer's blobs are checked against (test/oci-zstd.test.ts:
// a stretch of the tar gives the same frame through a named pipe), and a plain zstd stream for a library caller.
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { GamelayerError } from '../errors.js';
import { tailOf } from '../util/child-output.js';
import { DEFAULT_ZSTD_LEVEL, zstdArgs, zstdMissing as missing, type ZstdOptions } from './compressor-id.js';

/**
 * A duplex that zstd-compresses what is written to it. It ends only after zstd exited 0: a zstd
 * that fails half-way gives a stream error, never a truncated blob that looks complete.
 */
export function createZstd(options: ZstdOptions = {}): Duplex {
  const bin = options.bin ?? 'zstd';
  const child = spawn(bin, zstdArgs(options.level ?? DEFAULT_ZSTD_LEVEL, options.threads), { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = tailOf(child.stderr);
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
    else duplex.destroy(new GamelayerError('zstd.failed', `${bin} exited with ${exit}: ${stderr().trim()}`));
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
