#!/usr/bin/env node
// The gamelayer command: runs the CLI bundle in dist/cli-bundle/ (built from src/ beside the compiled library by
// `npm ci` or `npm pack` through the prepare script, or by `node scripts/build-dist.mjs`) through its launcher,
// which compiles the bundle with a V8 code cache (src/cli/code-cache.ts). For the TypeScript sources directly:
// `npm run gamelayer`. CommonJS (bin/package.json): Node starts it without its ES module loader (start-up, issue 17).
'use strict';
const argv = process.argv.slice(2);

function full() {
  let launch;
  try {
    launch = require('../dist/cli-bundle/launch.js');
  } catch (e) {
    if (e?.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes('dist/cli-bundle/launch.js')) throw e;
    process.stderr.write('error: gamelayer is not compiled (no dist/cli-bundle/launch.js)\nhint: in a git checkout run npm ci (or node scripts/build-dist.mjs)\n');
    process.exit(1);
  }
  launch.run(argv).then((code) => {
    process.exitCode = code;
  });
}

/**
 * A `build … --push …` may be a no-op the checked fast path can vouch for (src/cli/fast-noop.ts, README.md): it
 * answers before the CLI loads, or leaves the run to the CLI, which then runs as if it had not been asked (any error of
 * its own too). GAMELAYER_NO_FAST_NOOP=1 turns it off.
 */
function fastNoop() {
  if (argv[0] !== 'build' || !argv.some((a) => a === '--push' || a.startsWith('--push=')) || process.env.GAMELAYER_NO_FAST_NOOP) return undefined;
  try {
    return require('../dist/cli-bundle/fast-noop.js');
  } catch {
    return undefined;
  }
}

const fast = fastNoop();
if (fast) {
  fast.tryFastNoop(argv).then(
    (code) => (code === undefined ? full() : (process.exitCode = code)),
    () => full(),
  );
} else {
  full();
}
