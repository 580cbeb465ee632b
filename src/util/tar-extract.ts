// tar-stream's extractor, loaded on first use: tar-stream (with streamx, b4a and fast-fifo below it) is evaluated
// only when an archive is read, not with every module that can read one, so a build of unchanged trees (a no-op,
// whose scan answers from the stat cache) never loads it (start-up, issue 17).
import type * as TarStream from 'tar-stream';

export async function tarExtract(): Promise<TarStream.Extract> {
  // Node's ESM loader gives a CommonJS package's exports as `default` (named ones only where it detects them), and
  // so does the CLI bundle's CommonJS chunk for a lazily imported package (scripts/build-dist.mjs).
  const m = (await import('tar-stream')) as typeof TarStream & { default?: typeof TarStream };
  return (m.default ?? m).extract();
}
