// Named pipes for the zstd layer writer (zstd reads the blob's tar from one), in a folder of this process's own under
// the temp dir, each used once: named here for the build's zstd launcher to make (zstd-host.ts), or, without perl,
// made ahead in batches by `mkfifo`.
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GamelayerError } from '../errors.js';
import { isStaleTemp, tempTag } from '../util/temp-files.js';

/** Named pipes made ahead: each `mkfifo` is a spawn (a fork of this large process), so one makes several. */
const FIFO_BATCH = 8;
const fifoPool: string[] = [];
let fifoDir: string | undefined;
let fifoSeq = 0;
const FIFO_DIR = 'gamelayer-fifos.';

/** Drops the pipes made ahead and their folder (at exit, or when the zstd workers are closed). */
export function removeFifos(): void {
  fifoPool.length = 0;
  if (fifoDir) rmSync(fifoDir, { recursive: true, force: true });
}

/** This process's folder for named pipes under the temp dir (mode 700, removed at exit), made on first use. */
function pipeFolder(): string {
  if (!fifoDir || !existsSync(fifoDir)) {
    if (!fifoDir) {
      process.once('exit', removeFifos);
      // Those of processes that were killed (their names carry pid and host): a few empty pipes each.
      for (const name of readdirSync(tmpdir())) if (name.startsWith(FIFO_DIR) && isStaleTemp(name)) rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
    }
    fifoDir = mkdtempSync(path.join(tmpdir(), `${FIFO_DIR}${tempTag()}.`));
  }
  return fifoDir;
}

/** A fresh name in that folder, for a pipe (or a zstd's message file) someone else makes. */
export function fifoName(): string {
  return path.join(pipeFolder(), `zstd-in.${fifoSeq++}`);
}

/**
 * A fresh named pipe (mode 600) in this process's own folder: one made earlier, else a batch of FIFO_BATCH. Each is
 * used once and removed as soon as both ends are open.
 */
export async function takeFifo(): Promise<string> {
  for (let ready = fifoPool.pop(); ready !== undefined; ready = fifoPool.pop()) {
    if (lstatSync(ready, { throwIfNoEntry: false })?.isFIFO()) return ready;
  }
  const names = Array.from({ length: FIFO_BATCH }, () => fifoName());
  await promisify(execFile)('mkfifo', ['-m', '600', ...names]).catch((e: Error) => {
    throw new GamelayerError('zstd.failed', `cannot make a named pipe for zstd in ${fifoDir}: ${e.message}`, 'zstd layers need mkfifo (coreutils)');
  });
  fifoPool.push(...names.slice(1));
  return names[0]!;
}
