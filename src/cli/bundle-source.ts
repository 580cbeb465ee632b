// How the CLI bundle's own files are read (issue 17: a no-op `build --push` reads 2.2 MB of them on every start).
// Node reads a CommonJS file as UTF-8, and decoding that (V8's UTF-8 path, whatever the bytes) took about 5 ms of
// CPU here against under 2 ms for the same bytes as Latin-1; a file with one non-ASCII character in a comment was
// also held as a two-byte string, twice its size in the heap. The bundle is ASCII (scripts/build-dist.mjs escapes
// what its comments held), so its files are read as bytes and, when every byte is ASCII (the same text either way),
// made a string as Latin-1; any other file is decoded as UTF-8, as Node would.
import { isAscii } from 'node:buffer';
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';

type Loader = (module: Module, filename: string) => void;

/** The text of a source file: Latin-1 when every byte is ASCII (the same string), else UTF-8 without a BOM. */
export function readSourceText(filename: string): string {
  const bytes = readFileSync(filename);
  if (isAscii(bytes)) return bytes.toString('latin1');
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Reads the `.js` files directly inside `bundleDir` (a real path, as `require` resolves them) with
 * `readSourceText`, for this process. They are CommonJS (the folder's package.json says so: build-dist.mjs), so
 * Node's own look-up of that package scope is not needed for them; every other file loads as Node loads it.
 */
export function installBundleSourceReader(bundleDir: string): () => void {
  const extensions = (Module as unknown as { _extensions: Record<string, Loader> })._extensions;
  const original = extensions['.js']!;
  extensions['.js'] = function readBundleFile(this: unknown, module: Module, filename: string): void {
    if (path.dirname(filename) !== bundleDir) return original.call(this, module, filename);
    (module as unknown as { _compile(content: string, filename: string, format: string): unknown })._compile(readSourceText(filename), filename, 'commonjs');
  };
  return () => {
    extensions['.js'] = original;
  };
}
