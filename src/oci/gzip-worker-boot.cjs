// Worker entry: Node 20 does not hand the main thread's TypeScript loader to worker threads, so the
// worker registers tsx's in-thread CommonJS hook itself, then loads the typed worker code.
require('tsx/cjs/api').register();
require('./gzip-worker.ts');
