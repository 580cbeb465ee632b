// What bin/gamelayer.js runs: the CLI bundle's main.js, its files compiled with the code cache (code-cache.ts).
// Bundled as an entry of its own (dist/cli-bundle/launch.js) that imports nothing of the CLI: main.js is required
// only after the cache took over compilation.
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installCodeCache } from './code-cache.js';

export async function run(argv: string[]): Promise<number> {
  const here = fileURLToPath(import.meta.url);
  const cache = installCodeCache(realpathSync(path.dirname(here)));
  const cli = createRequire(here)('./main.js') as { main(argv: string[]): Promise<number> };
  const code = await cli.main(argv);
  cache.save();
  return code;
}
