// Worker entry from the TypeScript sources (tests): see gzip-worker-boot.cjs.
require('tsx/cjs/api').register();
require('./gzip-digest-worker.ts');
