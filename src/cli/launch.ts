// What bin/gamelayer.js runs: the CLI bundle's main.js, its files compiled with the code cache (code-cache.ts).
// Bundled as an entry of its own (dist/cli-bundle/launch.js) that imports nothing of the CLI: main.js is required
// only after the cache took over compilation.
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installBundleSourceReader } from './bundle-source.js';
import { installCodeCache } from './code-cache.js';
import { finishStamp, installOutputTap } from './fast-noop/output-tap.js';
import { runStampPass } from './fast-noop/stamp-pass.js';

interface CliMain {
  main(argv: string[]): Promise<number>;
  commandsNeeded(argv: string[]): string[] | undefined;
}

export async function run(argv: string[]): Promise<number> {
  const here = fileURLToPath(import.meta.url);
  const bundleDir = realpathSync(path.dirname(here));
  installBundleSourceReader(bundleDir);
  // A `build --push` the fast path did not answer: what it prints is kept, for its stamp if it is a no-op.
  installOutputTap(argv, bundleDir);
  const cache = installCodeCache(bundleDir);
  const cli = createRequire(here)('./main.js') as CliMain;
  const code = await cli.main(argv);
  await finishStamp(code);
  // The cache's entries say which commands' runs went into them: the command typed, `version`, or `all` (help,
  // completion and unknown words load every command).
  const needed = cli.commandsNeeded(argv);
  cache.save(needed === undefined ? 'all' : (needed[0] ?? 'version'));
  // A build that pushed: its command run again in this process as a hidden no-op, to stamp (fast-noop/stamp-pass.ts).
  const passFailed = await runStampPass(code, () => cli.main(argv));
  // A failed pass may leave requests retrying or waiting: the build is done, its exit is not held for them.
  if (code !== 0 || passFailed) exitSoon(code);
  return code;
}

/**
 * A failed command has printed its error (or a build's stamp pass failed: fast-noop/stamp-pass.ts). What a failed
 * step left running beside it (a registry request retrying a registry that is gone: up to GAMELAYER_REGISTRY_RETRIES
 * attempts over several seconds) must not hold the exit back:
 * once stdout and stderr have taken what was written, the process exits with `code`. Leaving there is what a kill at
 * that moment leaves, which every write is made to survive (files written aside and renamed into place, blobs before
 * the manifest that names them, manifests put whole). Here, not in main(): tests call main() in their own process.
 */
function exitSoon(code: number): void {
  let left = 2;
  // A stream its reader closed answers the write with an error: it has taken all it will. The exit waits a turn so
  // that the closed-stdout handler (closed-stdout.ts: status 141) hears of that error first, as it did before.
  const flushed = () => {
    if (--left === 0) setImmediate(() => process.exit(code));
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}
