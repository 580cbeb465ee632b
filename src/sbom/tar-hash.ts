// The members of a tar stream hashed as the bytes go by: the SBOM needs each regular file's name, size and sha256
// and the whiteouts' names, nothing else. tar-stream gave every member a stream of its own and its header an object
// of 15 fields: on a layer of 1M empty files that was 4 s of the SBOM's CPU and most of its garbage. Names and sizes
// are read as tar-stream reads them (ustar prefix, PAX `path` and `size`, GNU long names, a trailing `/` on a
// type-0 member meaning a folder), and a header whose checksum is wrong stops the read, as it did.
import { createHash, hash as hashOnce, type Hash } from 'node:crypto';
import { Writable } from 'node:stream';
import { RECIPE_PREFIX, RecipeReader } from '../chunk/recipe.js';
import { WHITEOUT_PREFIX } from '../util/whiteout.js';

export interface TarFile {
  /** Member name as in the tar: no leading `/` or `./`, no trailing `/`. */
  name: string;
  size: number;
  /** Lower-case hex. */
  sha256: string;
  /** Set for a member named like a chunked tree's recipe (`…/.gamelayer-chunks/r/…`): what it says, or why it is not one. */
  recipe?: MemberRecipe;
}

/** A recipe member's file (size and sha256 of the assembled file), or why its bytes are not a recipe. */
export type MemberRecipe = { size: number; sha256: string } | { invalid: string };

/** A member named like a recipe of a tree under any mount: its bytes are read as one while they are hashed. */
export function recipeNamed(name: string): boolean {
  return name.startsWith(RECIPE_PREFIX) || name.includes(`/${RECIPE_PREFIX}`);
}

export interface TarMembers {
  files: TarFile[];
  /** Names of whiteout members (`dir/.wh.name`, regular files), as in the tar. */
  whiteouts: string[];
}

/** A recipe member being read: its reader until the bytes are refused, then the reason. */
type RecipeRead = { reader: RecipeReader | undefined; invalid?: string };

function readRecipe(r: RecipeRead, part: Buffer): void {
  try {
    r.reader?.update(part);
  } catch (e) {
    r.reader = undefined;
    r.invalid = (e as Error).message;
  }
}

function endRecipe(r: RecipeRead | undefined): MemberRecipe | undefined {
  if (!r) return undefined;
  if (r.reader) {
    try {
      const head = r.reader.end();
      return { size: head.size, sha256: head.sha256 };
    } catch (e) {
      r.invalid = (e as Error).message;
    }
  }
  return { invalid: r.invalid! };
}

const BLOCK = 512;
/** Long-name and PAX records are held whole: more than this is not a layer gamelayer reads. */
const MAX_META = 1 << 20;

type Body =
  | { kind: 'file'; name: string; hash: Hash | undefined; size: number; sha256?: string; recipe?: RecipeRead }
  | { kind: 'meta'; type: 'pax' | 'gnu-name' | 'skip'; chunks: Buffer[]; length: number }
  | { kind: 'skip' };

/**
 * Where the members go instead of `members` (which then stays empty): a layer of 1M files is not held as 1M objects.
 * `drain` is awaited after each chunk of the tar (the consumer's writes: backpressure).
 */
export interface TarMemberSink {
  file(f: TarFile): void;
  whiteout(name: string): void;
  drain(): Promise<void>;
}

/** A writable that reads a tar (uncompressed) and collects its files' hashes into `members`, or hands them to `to`. */
export function tarHasher(to?: TarMemberSink): { sink: Writable; members: TarMembers } {
  const members: TarMembers = { files: [], whiteouts: [] };
  const onFile = to ? (f: TarFile) => to.file(f) : (f: TarFile) => void members.files.push(f);
  const onWhiteout = to ? (n: string) => to.whiteout(n) : (n: string) => void members.whiteouts.push(n);
  const header = Buffer.alloc(BLOCK);
  let fill = 0;
  /** Bytes of the current member's body still to come, then of its padding. */
  let remaining = 0;
  let padding = 0;
  let body: Body | undefined;
  let pax: Record<string, string> | undefined;
  let longName: string | undefined;

  const endBody = () => {
    const b = body!;
    body = undefined;
    if (b.kind === 'file') {
      const f: TarFile = { name: b.name, size: b.size, sha256: b.sha256 ?? (b.hash ?? createHash('sha256')).digest('hex') };
      if (b.recipe) f.recipe = endRecipe(b.recipe);
      onFile(f);
    }
    else if (b.kind === 'meta' && b.type !== 'skip') {
      const bytes = Buffer.concat(b.chunks, b.length);
      if (b.type === 'pax') pax = decodePax(bytes);
      else longName = cString(bytes, 0, bytes.length);
    }
  };

  const onHeader = () => {
    const sum = checksum(header);
    if (sum === 8 * 32) return; // a zero block: the end marker (and any padding after it)
    if (sum !== octal(header, 148, 8)) throw new Error('Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?');
    const flag = header[156] === 0 ? 0x30 : header[156]!;
    let name = cString(header, 0, 100);
    const magic = header.toString('latin1', 257, 265);
    if (magic.startsWith('ustar\0')) {
      if (header[345]) name = `${cString(header, 345, 155)}/${name}`;
    } else if (magic !== 'ustar  \0') {
      throw new Error('Invalid tar header: unknown format.');
    }
    // An old tar's folder: a regular member whose name (in its header, before any long name) ends in "/".
    const folder = flag === 0x30 && name.endsWith('/');
    let size = octal(header, 124, 12);
    remaining = size;
    if (flag === 0x78 /* x */ || flag === 0x67 /* g */ || flag === 0x4c /* L */ || flag === 0x4b /* K */) {
      if (size > MAX_META) throw new Error(`a tar extension header of ${size} bytes`);
      body = { kind: 'meta', type: flag === 0x78 ? 'pax' : flag === 0x4c ? 'gnu-name' : 'skip', chunks: [], length: 0 };
    } else {
      if (longName) name = longName;
      if (pax?.path) name = pax.path;
      if (pax?.size) size = remaining = parseInt(pax.size, 10);
      longName = undefined;
      pax = undefined;
      const isFile = flag === 0x30 && !folder;
      name = name.replace(/^(\.\/|\/)+/, '').replace(/\/$/, '');
      const base = name.slice(name.lastIndexOf('/') + 1);
      if (isFile && base.startsWith(WHITEOUT_PREFIX)) {
        onWhiteout(name);
        body = { kind: 'skip' };
      } else if (isFile || flag === 0x37 /* contiguous file */) {
        body = { kind: 'file', name, hash: undefined, size: 0 };
        // Read as a recipe while hashed (the SBOM lists the file it stands for), one line held at a time.
        if (recipeNamed(name)) body.recipe = { reader: new RecipeReader(name) };
      } else {
        body = { kind: 'skip' };
      }
    }
    padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (remaining === 0) endBody();
  };

  const take = (chunk: Buffer) => {
    let off = 0;
    while (off < chunk.length) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - off);
        const part = chunk.subarray(off, off + n);
        const b = body!;
        if (b.kind === 'file') {
          // A body within one chunk (most files of a game) is hashed in one call: a Hash object per file holds
          // native memory until the GC finalises it, tens of MiB on a layer of 62k files.
          if (!b.hash && n === remaining) b.sha256 = hashOnce('sha256', part, 'hex');
          else (b.hash ??= createHash('sha256')).update(part);
          if (b.recipe) readRecipe(b.recipe, part);
          b.size += n;
        } else if (b.kind === 'meta') {
          b.chunks.push(Buffer.from(part)); // a copy: the chunk's memory is reused by the stream
          b.length += n;
        }
        off += n;
        remaining -= n;
        if (remaining === 0) endBody();
      } else if (padding > 0) {
        const n = Math.min(padding, chunk.length - off);
        off += n;
        padding -= n;
      } else {
        const n = Math.min(BLOCK - fill, chunk.length - off);
        chunk.copy(header, fill, off, off + n);
        fill += n;
        off += n;
        if (fill === BLOCK) {
          fill = 0;
          onHeader();
        }
      }
    }
  };

  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, cb) {
      try {
        take(chunk);
      } catch (e) {
        cb(e as Error);
        return;
      }
      if (to) to.drain().then(() => cb(), cb);
      else cb();
    },
    final(cb) {
      cb(remaining > 0 || fill > 0 || body !== undefined ? new Error('Unexpected end of data') : null);
    },
  });
  return { sink, members };
}

/** The sum of a header's bytes with its checksum field counted as spaces. */
function checksum(b: Buffer): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += b[i]!;
  for (let i = 156; i < BLOCK; i++) sum += b[i]!;
  return sum;
}

/** A numeric field: octal (leading spaces or NULs allowed), or base-256 when its first byte has the high bit. */
function octal(b: Buffer, offset: number, length: number): number {
  if (b[offset]! & 0x80) {
    if (b[offset] !== 0x80) throw new Error('Invalid tar header: a negative number');
    let n = 0;
    for (let i = offset + 1; i < offset + length; i++) n = n * 256 + b[i]!;
    return n;
  }
  let i = offset;
  const end = offset + length;
  while (i < end && b[i] === 0x20) i++;
  let stop = b.indexOf(0x20, i);
  if (stop === -1 || stop > end) stop = end;
  while (i < stop && b[i] === 0) i++;
  if (i === stop) return 0;
  return parseInt(b.toString('latin1', i, stop), 8);
}

/** UTF-8 up to the first NUL within [offset, offset + length). */
function cString(b: Buffer, offset: number, length: number): string {
  let end = b.indexOf(0, offset);
  if (end === -1 || end > offset + length) end = offset + length;
  return b.toString('utf8', offset, end);
}

/** PAX records (`<length> <key>=<value>\n`), as tar-stream decodes them. */
function decodePax(buf: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = parseInt(buf.toString('utf8', 0, i), 10);
    if (!len) return result;
    const record = buf.toString('utf8', i + 1, len - 1);
    const eq = record.indexOf('=');
    if (eq === -1) return result;
    result[record.slice(0, eq)] = record.slice(eq + 1);
    buf = buf.subarray(len);
  }
  return result;
}
