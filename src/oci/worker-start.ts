// Starting the image stage's worker threads (the gzip pool's and the zstd feed's) the same way from the compiled
// code, the CLI bundle and the TypeScript sources.
import { Worker } from 'node:worker_threads';

export type OciWorkerName = 'gzip-worker' | 'zstd-feed-worker';

export interface OciWorkerEvents<Reply> {
  onMessage(reply: Reply): void;
  /** The thread failed or exited: called once, whichever came first (`what` names it in the exit's message). */
  onFail(error: Error): void;
}

/**
 * A worker thread running `name`, not keeping the process alive (the caller refs it while a job is out). Compiled
 * (dist/), the worker is the .js beside this file; in the CLI bundle, its own entry point beside every chunk
 * (scripts/build-dist.mjs); from the TypeScript sources, a tiny CommonJS boot file registers tsx in the thread first.
 */
export function startOciWorker<Reply>(name: OciWorkerName, what: string, events: OciWorkerEvents<Reply>): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const worker = new Worker(new URL(fromSource ? `./${name}-boot.cjs` : `./${name}.js`, import.meta.url));
  worker.on('message', (r: Reply) => events.onMessage(r));
  let failed = false;
  const fail = (e: Error) => {
    if (failed) return;
    failed = true;
    events.onFail(e);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`${what} exited with code ${code}`)));
  // After the listeners: a 'message' listener refs the worker's port again, so a worker unref'd before it kept the
  // process alive until its first job was done; a build that failed before any (a layer's content refused while its
  // first block filled) printed its error and never exited.
  worker.unref();
  return worker;
}
