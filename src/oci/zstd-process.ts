// One `zstd` process as a Duplex: what is written goes to its stdin, its stdout is read. The stream ends only after
// zstd exited 0: a zstd that fails half-way (a corrupt frame, killed) gives an error with its message,
// never output cut short that looks complete. Used to compress (zstd-stream.ts) and to decompress (layer-decompress.ts).
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { tailOf } from '../util/child-output.js';
import { zstdMissing } from './compressor-id.js';

/**
 * `failed` makes the error of a zstd that exited non-zero (`why`: its status and message): a failed compression is
 * zstd's (`zstd.failed`); bytes a decompression refused are the layer's, which its reader names.
 */
export function zstdProcess(bin: string, args: readonly string[], failed: (why: string) => Error): Duplex {
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr = tailOf(child.stderr);
  let outEnded = false;
  let exit: number | null | undefined;
  // zstd gone while we write (EPIPE): its exit status and message say why, not the pipe.
  let inputError: Error | undefined;

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
    if (exit !== 0) duplex.destroy(failed(`${bin} exited with ${exit}: ${stderr().trim()}`));
    else if (inputError) duplex.destroy(inputError);
    else duplex.push(null);
  };
  child.stdout.on('data', (d: Buffer) => {
    if (!duplex.push(d)) child.stdout.pause();
  });
  child.stdout.on('end', () => {
    outEnded = true;
    finish();
  });
  child.on('error', (e) => duplex.destroy(zstdMissing(bin, e)));
  child.stdin.on('error', (e) => {
    inputError = e;
    finish();
  });
  child.on('close', (code, signal) => {
    exit = code ?? (signal ? -1 : 0);
    finish();
  });
  return duplex;
}
