// The recipe of a chunked file and where chunks and recipes live in a tree (the on-image format, docs/chunks.md).
// Recipes are part of image digests: the same file and chunk config give the same bytes on every machine.
import { GamelayerError } from '../errors.js';

/** The folder of a chunked tree holding chunks (`c/`) and recipes (`r/`), relative to the tree root. */
export const CHUNKS_DIR = '.gamelayer-chunks';
export const CHUNK_PREFIX = `${CHUNKS_DIR}/c/`;
export const RECIPE_PREFIX = `${CHUNKS_DIR}/r/`;

export const RECIPE_VERSION = 'gamelayer-recipe 1';

/**
 * Suffix of a file the init copy is assembling (`<path>.gamelayer-tmp`, renamed to `<path>` once it matches its
 * recipe; native/assemble.c has the same). A source path of that name beside a chunked file would be removed and
 * overwritten by the copy: chunkTree refuses it.
 */
export const ASSEMBLY_TMP_SUFFIX = '.gamelayer-tmp';

export interface RecipeChunk {
  /** sha256 of the chunk's bytes, 64 lower-case hex digits: its name. */
  sha256: string;
  size: number;
}

export interface Recipe {
  size: number;
  /** Permission bits as in the manifest: 0o755 or 0o644. */
  mode: number;
  sha256: string;
  xxh64: string;
  chunks: RecipeChunk[];
}

/** `.gamelayer-chunks/c/<hh>/<sha256>`: `<hh>` the first two hex digits, so no folder holds all chunks. */
export function chunkPath(sha256: string): string {
  return `${CHUNK_PREFIX}${sha256.slice(0, 2)}/${sha256}`;
}

export function recipePath(filePath: string): string {
  return `${RECIPE_PREFIX}${filePath}`;
}

/** The tree path of the file a recipe entry stands for; undefined for any other path. */
export function recipeFileOf(entryPath: string): string | undefined {
  return entryPath.startsWith(RECIPE_PREFIX) ? entryPath.slice(RECIPE_PREFIX.length) : undefined;
}

/** Whether `entryPath` is the chunk store of a chunked tree or inside it (chunks, recipes and their folders). */
export function inChunkStore(entryPath: string): boolean {
  return entryPath === CHUNKS_DIR || entryPath.startsWith(`${CHUNKS_DIR}/`);
}

export function isChunkPath(entryPath: string): boolean {
  return entryPath.startsWith(CHUNK_PREFIX);
}

/** Paths the assembly reads line by line: such a file stays a whole file. */
export function chunkablePath(p: string): boolean {
  return !p.includes('\n') && !p.includes('\\');
}

export function formatRecipe(r: Recipe): string {
  const head = [RECIPE_VERSION, `size ${r.size}`, `mode ${r.mode.toString(8)}`, `sha256 ${r.sha256}`, `xxh64 ${r.xxh64}`];
  return `${head.join('\n')}\n\n${r.chunks.map((c) => `${c.sha256} ${c.size}\n`).join('')}`;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
/** A recipe's lines are under 90 bytes: a longer one is refused before it is held (a recipe may come from a registry). */
const MAX_LINE = 256;
/** Header lines a reader holds: a recipe has four. */
const MAX_HEADER = 64;

/** What a recipe says of its file, without its chunk list. */
export interface RecipeHead {
  size: number;
  mode: number;
  sha256: string;
  xxh64: string;
}

/**
 * Reads a recipe a piece of bytes at a time with `parseRecipe`'s checks, holding one line (at most MAX_LINE bytes)
 * and the header, never the chunk list: a recipe read from a layer blob may be anything. Anything that is not exactly
 * the format is a `chunks.recipe-invalid` naming `where`, thrown by `update` or `end`.
 */
export class RecipeReader {
  private line = 0;
  private rest: Buffer[] = [];
  private restBytes = 0;
  private head: Map<string, string> | undefined = new Map();
  private parsed: RecipeHead | undefined;
  private sum = 0;
  private count = 0;

  constructor(
    private readonly where: string,
    private readonly onChunk?: (c: RecipeChunk) => void,
  ) {}

  private bad(why: string): GamelayerError {
    return new GamelayerError('chunks.recipe-invalid', `${this.where}: not a gamelayer recipe: ${why}`, 'build the tree again: recipes are written by gamelayer build');
  }

  update(bytes: Uint8Array): void {
    let at = 0;
    for (let nl = bytes.indexOf(10, at); nl !== -1; nl = bytes.indexOf(10, at)) {
      this.hold(bytes.subarray(at, nl));
      const text = Buffer.concat(this.rest, this.restBytes).toString('utf8');
      this.rest = [];
      this.restBytes = 0;
      this.take(text);
      at = nl + 1;
    }
    if (at < bytes.length) this.hold(bytes.subarray(at));
  }

  /** Keeps a piece of the current line (a copy), refusing a line longer than any recipe's. */
  private hold(piece: Uint8Array): void {
    if (!piece.length) return;
    this.restBytes += piece.length;
    if (this.restBytes > MAX_LINE) {
      const first = Buffer.concat([...this.rest, piece]).toString('utf8', 0, 40);
      if (this.line === 0) throw this.bad(`first line ${JSON.stringify(first)}, expected "${RECIPE_VERSION}"`);
      throw this.bad(this.head ? `line ${this.line + 1} is not a "key value" header line` : `line ${this.line + 1} is not "<sha256> <size>"`);
    }
    this.rest.push(Buffer.from(piece));
  }

  private take(line: string): void {
    const i = this.line++;
    if (i === 0) {
      if (line !== RECIPE_VERSION) throw this.bad(`first line ${JSON.stringify(line.slice(0, 40))}, expected "${RECIPE_VERSION}"`);
      return;
    }
    const head = this.head;
    if (head) {
      if (line === '') {
        this.parsed = checkHead(head, (why) => this.bad(why));
        this.head = undefined;
        return;
      }
      const m = /^([a-z0-9]+) (\S+)$/.exec(line);
      if (!m || head.has(m[1]!) || head.size >= MAX_HEADER) throw this.bad(`line ${i + 1} is not a "key value" header line`);
      head.set(m[1]!, m[2]!);
      return;
    }
    const m = /^([0-9a-f]{64}) (0|[1-9][0-9]*)$/.exec(line);
    if (!m) throw this.bad(`line ${i + 1} is not "<sha256> <size>"`);
    const n = Number(m[2]);
    if (n === 0) throw this.bad(`line ${i + 1}: a chunk of 0 bytes`);
    if (!Number.isSafeInteger(this.sum + n)) throw this.bad(`line ${i + 1}: its chunks add up to more than ${Number.MAX_SAFE_INTEGER} bytes`);
    this.sum += n;
    this.count++;
    this.onChunk?.({ sha256: m[1]!, size: n });
  }

  /** The end of the recipe: its header and how many chunks it lists. */
  end(): RecipeHead & { chunks: number } {
    if (this.restBytes) {
      const text = Buffer.concat(this.rest, this.restBytes).toString('utf8');
      if (this.line === 0 && text !== RECIPE_VERSION) throw this.bad(`first line ${JSON.stringify(text.slice(0, 40))}, expected "${RECIPE_VERSION}"`);
      throw this.bad('it does not end with a line end');
    }
    if (this.line === 0) throw this.bad(`first line "", expected "${RECIPE_VERSION}"`);
    if (!this.parsed) throw this.bad('no empty line after the header');
    if (this.sum !== this.parsed.size) throw this.bad(`its chunks add up to ${this.sum} bytes, the header says ${this.parsed.size}`);
    return { ...this.parsed, chunks: this.count };
  }
}

function checkHead(head: Map<string, string>, bad: (why: string) => GamelayerError): RecipeHead {
  const size = head.get('size');
  const mode = head.get('mode');
  const sha256 = head.get('sha256');
  const xxh64 = head.get('xxh64');
  if (!size || !DECIMAL.test(size) || !Number.isSafeInteger(Number(size))) throw bad('size: expected a decimal byte count');
  if (mode !== '755' && mode !== '644') throw bad('mode: expected 755 or 644');
  if (!sha256 || !HEX64.test(sha256)) throw bad('sha256: expected 64 hex digits');
  if (!xxh64 || !HEX16.test(xxh64)) throw bad('xxh64: expected 16 hex digits');
  return { size: Number(size), mode: mode === '755' ? 0o755 : 0o644, sha256, xxh64 };
}

/** Parses a recipe; anything that is not exactly the format is a `chunks.recipe-invalid` naming `where`. */
export function parseRecipe(text: string, where: string): Recipe {
  const chunks: RecipeChunk[] = [];
  const reader = new RecipeReader(where, (c) => void chunks.push(c));
  reader.update(Buffer.from(text, 'utf8'));
  const { chunks: _n, ...head } = reader.end();
  return { ...head, chunks };
}
