// sha256 of every file of a layer, read from the layer blob itself (decompressed, tar members hashed).
//
// Why from the blob and not while the layer writer reads the source: the SBOM must state what the image holds,
// and the blob is that; layers are reused across builds (and downloaded by `build --from`), so hashes taken at
// write time would exist only for the layers this build wrote. A blob never changes under its digest, so the
// result is cached per layer digest: a build whose layers are all reused hashes nothing, a small change hashes
// only its new patch layer, and a build without --sbom pays nothing at all.
// A tree whose layers the store lacks (a fresh host keeps them in the registry) is hashed from its sources instead
// (source-files.ts), not by downloading its layers.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { errnoCode, GamelayerError } from '../errors.js';
import { decompressorFor } from '../oci/layer-decompress.js';
import type { OciStore } from '../oci/store.js';
import { compareBytewise } from '../scan/manifest.js';
import { writeCheckedJsonFrom } from '../util/checked-json.js';
import { tarHasher, type MemberRecipe } from './tar-hash.js';

/**
 * The cache file, one line per member so it is written and read a piece at a time (a 1M-file layer's list is 130 MB:
 * format 1 was one JSON document, read whole): a header of fixed length `{"format":…,"sha256":<hex of the rest>}`,
 * then `{"digest":…}`, one `[name,size,"sha256"]` per file and one `w"name"` per whiteout in the tar's order, and a
 * last line `{"files":N,"sorted":bool}` (sorted: the names came in byte order, as gamelayer's layers hold them).
 * A member named like a chunked tree's recipe has a fourth field: the assembled file's `{"size":N,"sha256":…}` read
 * from its bytes, or `{"invalid":"<why>"}` (format 3; format 2 had none).
 * A file of an older format (or damaged) is not read: the layer is hashed again and the file replaced.
 */
const CACHE_FORMAT = 'gamelayer-layer-files/3';
const HEADER_LENGTH = header('0'.repeat(64)).length;
/** Bytes read from the cache file at a time. */
const READ = 1 << 16;

export interface LayerFile {
  /** Member name as in the tar: no leading `/` or `./`. */
  name: string;
  size: number;
  /** Lower-case hex. */
  sha256: string;
  /** A member named like a recipe: the file it stands for, or why its bytes are not a recipe (tar-hash.ts). */
  recipe?: MemberRecipe;
}

export interface LayerFiles {
  digest: string;
  files: LayerFile[];
  /** Names of whiteout members (`dir/.wh.name`), as in the tar. */
  whiteouts: string[];
}

/** A layer's files as its cache file holds them, read a piece at a time. */
export interface LayerFileList {
  digest: string;
  /** Names of whiteout members (`dir/.wh.name`), as in the tar. */
  whiteouts: string[];
  files: number;
  /** Whether the files' names are in byte order of UTF-8 (`compareBytewise`), as gamelayer writes layers. */
  sorted: boolean;
  /** The files in the tar's order, those of each read of the file together (its checksum was checked when opened). */
  each(): AsyncGenerator<LayerFile[]>;
}

type LayerRef = { digest: string; size: number; mediaType: string };

/** The files of the layer `digest` (media type `mediaType`) in `store`, whole (see `layerFileList` for a large layer). */
export async function layerFiles(store: OciStore, stateDir: string, layer: LayerRef): Promise<LayerFiles> {
  const list = await layerFileList(store, stateDir, layer);
  const files: LayerFile[] = [];
  for await (const batch of list.each()) files.push(...batch);
  return { digest: layer.digest, files, whiteouts: list.whiteouts };
}

/** The files of the layer, from the cache under `stateDir`, or hashed from the blob into the cache first. */
export async function layerFileList(store: OciStore, stateDir: string, layer: LayerRef): Promise<LayerFileList> {
  const cacheFile = path.join(stateDir, 'cache', 'layer-files', `${layer.digest.replace(':', '-')}.json`);
  const cached = await openList(cacheFile, layer.digest);
  if (cached) return cached;
  await hashLayer(store, layer, cacheFile);
  const made = await openList(cacheFile, layer.digest);
  if (!made) throw new GamelayerError('sbom.layer-unreadable', `${cacheFile}: the list of layer ${layer.digest}'s files just written does not read back`, 'check the disk; remove the file and try again');
  return made;
}

function header(sha256: string): string {
  return `${JSON.stringify({ format: CACHE_FORMAT, sha256 })}\n`;
}

/** The lines of `file` from byte `from` (each without its newline, decoded as UTF-8), those of each read together. */
async function* lines(file: string, from: number): AsyncGenerator<string[]> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ);
    let rest: Buffer | undefined;
    for (let pos = from; ; ) {
      const { bytesRead } = await fh.read(buf, 0, READ, pos);
      if (!bytesRead) break;
      pos += bytesRead;
      const bytes = buf.subarray(0, bytesRead);
      // Split on the bytes (a newline byte is never inside a UTF-8 sequence); a line across two reads is joined as bytes.
      let at = 0;
      const batch: string[] = [];
      for (let nl = bytes.indexOf(10, at); nl !== -1; nl = bytes.indexOf(10, at)) {
        batch.push(rest ? Buffer.concat([rest, bytes.subarray(at, nl)]).toString('utf8') : bytes.toString('utf8', at, nl));
        rest = undefined;
        at = nl + 1;
      }
      if (at < bytesRead) rest = rest ? Buffer.concat([rest, bytes.subarray(at)]) : Buffer.from(bytes.subarray(at));
      yield batch;
    }
    if (rest) yield [rest.toString('utf8')];
  } finally {
    await fh.close();
  }
}

/**
 * Opens a cache file: checks its format and checksum (one pass over it, keeping its whiteouts and its last line),
 * so a damaged file is hashed again instead of read. Undefined when missing, of another format or damaged.
 */
async function openList(file: string, digest: string): Promise<LayerFileList | undefined> {
  let head: { format?: unknown; sha256?: unknown } | undefined;
  try {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(HEADER_LENGTH);
      const { bytesRead } = await fh.read(buf, 0, HEADER_LENGTH, 0);
      if (bytesRead !== HEADER_LENGTH || buf[HEADER_LENGTH - 1] !== 10) return undefined;
      head = JSON.parse(buf.toString('utf8', 0, HEADER_LENGTH - 1)) as typeof head;
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || e instanceof SyntaxError) return undefined;
    throw e;
  }
  if (head?.format !== CACHE_FORMAT || typeof head.sha256 !== 'string') return undefined;
  const hash = createHash('sha256');
  const whiteouts: string[] = [];
  let first: string | undefined;
  let last = '';
  for await (const batch of latin1Lines(file, (b) => hash.update(b))) {
    for (const line of batch) {
      first ??= line;
      if (line.startsWith('w')) whiteouts.push(line);
      last = line;
    }
  }
  if (hash.digest('hex') !== head.sha256 || first === undefined) return undefined;
  let end: { files?: unknown; sorted?: unknown };
  let start: { digest?: unknown };
  try {
    start = JSON.parse(utf8(first)) as typeof start;
    end = JSON.parse(utf8(last)) as typeof end;
  } catch {
    return undefined;
  }
  if (start.digest !== digest || typeof end.files !== 'number' || typeof end.sorted !== 'boolean') return undefined;
  return {
    digest,
    whiteouts: whiteouts.map((w) => JSON.parse(utf8(w.slice(1))) as string),
    files: end.files,
    sorted: end.sorted,
    async *each() {
      for await (const batch of lines(file, HEADER_LENGTH)) {
        const files: LayerFile[] = [];
        for (const line of batch) {
          if (!line.startsWith('[')) continue;
          const [name, size, sha256, recipe] = JSON.parse(line) as [string, number, string, MemberRecipe?];
          files.push(recipe ? { name, size, sha256, recipe } : { name, size, sha256 });
        }
        if (files.length) yield files;
      }
    },
  };
}

/** The body's lines as latin1 strings (one char per byte: cheap, and enough to tell the kinds of line apart). */
async function* latin1Lines(file: string, onBytes: (b: Buffer) => void): AsyncGenerator<string[]> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(READ);
    let rest = '';
    for (let pos = HEADER_LENGTH; ; ) {
      const { bytesRead } = await fh.read(buf, 0, READ, pos);
      if (!bytesRead) break;
      pos += bytesRead;
      const bytes = buf.subarray(0, bytesRead);
      onBytes(bytes);
      let at = 0;
      const batch: string[] = [];
      for (let nl = bytes.indexOf(10, at); nl !== -1; nl = bytes.indexOf(10, at)) {
        // Only whiteouts and the first and last lines are kept: the others are not decoded at all.
        const kind = at === nl ? 0 : bytes[at]!;
        batch.push(rest || kind !== 0x5b /* [ */ ? rest + bytes.toString('latin1', at, nl) : '[');
        rest = '';
        at = nl + 1;
      }
      if (at < bytesRead) rest += bytes.toString('latin1', at, bytesRead);
      yield batch;
    }
    if (rest) yield [rest];
  } finally {
    await fh.close();
  }
}

const utf8 = (latin1: string) => Buffer.from(latin1, 'latin1').toString('utf8');

/** Hashes every member of the layer's blob into the cache file `file` (written atomically), a piece at a time. */
async function hashLayer(store: OciStore, layer: LayerRef, file: string): Promise<void> {
  await writeCheckedJsonFrom(file, CACHE_FORMAT, async (emit) => {
    let pending = `${JSON.stringify({ digest: layer.digest })}\n`;
    const flush = () => {
      const piece = pending;
      pending = '';
      return emit(piece);
    };
    let files = 0;
    let sorted = true;
    let previous: string | undefined;
    const to = {
      file(f: LayerFile) {
        if (sorted && previous !== undefined && compareBytewise(previous, f.name) >= 0) sorted = false;
        previous = f.name;
        files++;
        pending += `${JSON.stringify(f.recipe ? [f.name, f.size, f.sha256, f.recipe] : [f.name, f.size, f.sha256])}\n`;
      },
      whiteout(name: string) {
        pending += `w${JSON.stringify(name)}\n`;
      },
      // Pieces of 32K characters die young (see PIECE in cyclonedx.ts).
      drain: () => (pending.length >= 1 << 15 ? flush() : Promise.resolve()),
    };
    const blob = await store.openBlob(layer.digest, layer.size);
    const decompress = decompressorFor(layer.mediaType, () => new GamelayerError('sbom.layer-type', `layer ${layer.digest} has media type ${layer.mediaType}, which the SBOM cannot read`));
    const { sink } = tarHasher(to);
    try {
      if (decompress) await pipeline(blob, decompress, sink);
      else await pipeline(blob, sink);
    } catch (e) {
      if (e instanceof GamelayerError) throw e;
      throw new GamelayerError('sbom.layer-unreadable', `layer ${layer.digest} in the local store is not a readable ${layer.mediaType}: ${(e as Error).message}`, 'rebuild the image (gamelayer build) so its layers are in the store');
    }
    pending += `${JSON.stringify({ files, sorted })}\n`;
    await flush();
  });
}
