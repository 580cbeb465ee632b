// What bin/gamelayer.js runs: the CLI bundle's main.js, its files compiled with the code cache (code-cache.ts).
// Bundled as an entry of its own (dist/cli-bundle/launch.js) that imports nothing of the CLI: main.js is required
// only after the cache took over compilation.
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installBundleSourceReader } from './bundle-source.js';
import { installCodeCache } from './code-cache.js';

interface CliMain {
  main(argv: string[]): Promise<number>;
  commandsNeeded(argv: string[]): string[] | undefined;
}

export async function run(argv: string[]): Promise<number> {
  const here = fileURLToPath(import.meta.url);
  const bundleDir = realpathSync(path.dirname(here));
  installBundleSourceReader(bundleDir);
  const cache = installCodeCache(bundleDir);
  const cli = createRequire(here)('./main.js') as CliMain;
  const code = await cli.main(argv);
  // The cache's entries say which commands' runs went into them: the command typed, `version`, or `all` (help,
  // completion and unknown words load every command).
  const needed = cli.commandsNeeded(argv);
  cache.save(needed === undefined ? 'all' : (needed[0] ?? 'version'));
  return code;
}
