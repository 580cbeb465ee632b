// The native assembler (native/, docs/chunks.md "The native assembler"): a small static binary the build puts into
// the marker layer of every chunked tree image, for the image's platform, at `<mount>/.gamelayer-chunks/assemble`.
// The init copy runs it when it answers `--probe`, else assembles in POSIX sh. Its bytes are pinned here: the image
// digest must not depend on anything but the source, and a damaged installation must not ship a broken helper.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { GamelayerError } from '../errors.js';
import { gamelayerRoot } from '../version.js';

/** Where a chunked tree image holds the helper, relative to the tree's mount (inside the chunk store: never copied). */
export const ASSEMBLER_PATH = '.gamelayer-chunks/assemble';
/** What `assemble --probe` prints first: the helper runs here and speaks this contract. */
export const ASSEMBLER_PROBE = 'gamelayer-assemble 1';

/** The committed binaries (scripts/build-native.sh prints these after a rebuild; test/native-assemble.test.ts checks). */
const BINARIES: Record<string, { file: string; size: number; sha256: string }> = {
  amd64: { file: 'gamelayer-assemble-linux-amd64', size: 67224, sha256: 'd231a3313d7829cced3bfa22140317cae18d898df42a0ae65530e246cee5b1d5' },
  arm64: { file: 'gamelayer-assemble-linux-arm64', size: 600208, sha256: '88db0b51d9e52dd5c162a9ac88d416e2686979535895584d97a4502e08390d9e' },
};

/** native/bin of gamelayer's package (a checkout or the installed package; from src/, dist/ and the CLI bundle alike). */
const binDir = (): string => fileURLToPath(new URL('native/bin/', gamelayerRoot()));

/** The helper built for `platform` (`linux/amd64`, `linux/arm64`, `linux/arm64/v8`), if there is one. */
export function assemblerFor(platform: string): { path: string; size: number; sha256: string } | undefined {
  const [os, arch, variant] = platform.split('/');
  if (os !== 'linux' || (arch === 'arm64' && variant !== undefined && variant !== 'v8')) return undefined;
  const b = arch === undefined ? undefined : BINARIES[arch];
  return b && { path: `${binDir()}${b.file}`, size: b.size, sha256: b.sha256 };
}

const cache = new Map<string, Promise<Buffer>>();

/** The helper's bytes for `platform`, checked against their pinned sha256; undefined where none is built. */
export function assemblerBytes(platform: string): Promise<Buffer> | undefined {
  const a = assemblerFor(platform);
  if (!a) return undefined;
  let p = cache.get(a.path);
  if (!p) {
    p = readFile(a.path).then(
      (bytes) => {
        const sum = createHash('sha256').update(bytes).digest('hex');
        if (bytes.length !== a.size || sum !== a.sha256) throw damaged(a.path, `${bytes.length} bytes with sha256 ${sum}, expected ${a.size} bytes and ${a.sha256}`);
        return bytes;
      },
      (e: unknown) => {
        throw damaged(a.path, e instanceof Error ? e.message : String(e));
      },
    );
    p.catch(() => cache.delete(a.path));
    cache.set(a.path, p);
  }
  return p;
}

function damaged(file: string, what: string): GamelayerError {
  return new GamelayerError(
    'build.assembler-damaged',
    `the native assembler ${file} that chunked tree images carry is damaged: ${what}`,
    'reinstall gamelayer (or rebuild native/bin with scripts/build-native.sh from a checkout)',
  );
}
