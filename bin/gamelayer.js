#!/usr/bin/env node
// The gamelayer command: runs the CLI bundle in dist/cli-bundle/ (built from src/ beside the compiled library by
// `npm ci` or `npm pack` through the prepare script, or by `node scripts/build-dist.mjs`) through its launcher,
// which compiles the bundle with a V8 code cache (src/cli/code-cache.ts). For the TypeScript sources directly:
// `npm run gamelayer`. CommonJS (bin/package.json): Node starts it without its ES module loader (start-up, issue 17).
'use strict';
let launch;
try {
  launch = require('../dist/cli-bundle/launch.js');
} catch (e) {
  if (e?.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes('dist/cli-bundle/launch.js')) throw e;
  process.stderr.write('error: gamelayer is not compiled (no dist/cli-bundle/launch.js)\nhint: in a git checkout run npm ci (or node scripts/build-dist.mjs)\n');
  process.exit(1);
}
launch.run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
