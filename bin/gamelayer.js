#!/usr/bin/env node
// The gamelayer command: runs the CLI bundle in dist/cli-bundle/ (built from src/ beside the compiled library by
// `npm ci` or `npm pack` through the prepare script, or by `node scripts/build-dist.mjs`). For the TypeScript
// sources directly: `npm run gamelayer`.
let cli;
try {
  cli = await import('../dist/cli-bundle/main.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/cli-bundle/main.js')) throw e;
  process.stderr.write('error: gamelayer is not compiled (no dist/cli-bundle/main.js)\nhint: in a git checkout run npm ci (or node scripts/build-dist.mjs)\n');
  process.exit(1);
}
process.exitCode = await cli.main(process.argv.slice(2));
