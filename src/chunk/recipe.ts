// The recipe of a chunked file and where chunks and recipes live in a tree (the on-image format, docs/chunks.md).
// Recipes are part of image digests: the same file and chunk config give the same bytes on every machine.
import { GamelayerError } from '../errors.js';

/** The folder of a chunked tree holding chunks (`c/`) and recipes (`r/`), relative to the tree root. */
export const CHUNKS_DIR = '.gamelayer-chunks';
export const CHUNK_PREFIX = `${CHUNKS_DIR}/c/`;
export const RECIPE_PREFIX = `${CHUNKS_DIR}/r/`;

export const RECIPE_VERSION = 'gamelayer-recipe 1';

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

/** Parses a recipe; anything that is not exactly the format is a `chunks.recipe-invalid` naming `where`. */
export function parseRecipe(text: string, where: string): Recipe {
  const bad = (why: string) => new GamelayerError('chunks.recipe-invalid', `${where}: not a gamelayer recipe: ${why}`, 'build the tree again: recipes are written by gamelayer build');
  const lines = text.split('\n');
  if (lines[0] !== RECIPE_VERSION) throw bad(`first line ${JSON.stringify(lines[0]?.slice(0, 40))}, expected "${RECIPE_VERSION}"`);
  if (lines.at(-1) !== '') throw bad('it does not end with a line end');
  lines.pop();
  const head = new Map<string, string>();
  let i = 1;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const m = /^([a-z0-9]+) (\S+)$/.exec(lines[i]!);
    if (!m || head.has(m[1]!)) throw bad(`line ${i + 1} is not a "key value" header line`);
    head.set(m[1]!, m[2]!);
  }
  if (i === lines.length) throw bad('no empty line after the header');
  const size = head.get('size');
  const mode = head.get('mode');
  const sha256 = head.get('sha256');
  const xxh64 = head.get('xxh64');
  if (!size || !DECIMAL.test(size)) throw bad('size: expected a decimal byte count');
  if (mode !== '755' && mode !== '644') throw bad('mode: expected 755 or 644');
  if (!sha256 || !HEX64.test(sha256)) throw bad('sha256: expected 64 hex digits');
  if (!xxh64 || !HEX16.test(xxh64)) throw bad('xxh64: expected 16 hex digits');
  const chunks: RecipeChunk[] = [];
  let sum = 0;
  for (i++; i < lines.length; i++) {
    const m = /^([0-9a-f]{64}) (0|[1-9][0-9]*)$/.exec(lines[i]!);
    if (!m) throw bad(`line ${i + 1} is not "<sha256> <size>"`);
    const n = Number(m[2]);
    if (n === 0) throw bad(`line ${i + 1}: a chunk of 0 bytes`);
    chunks.push({ sha256: m[1]!, size: n });
    sum += n;
  }
  if (sum !== Number(size)) throw bad(`its chunks add up to ${sum} bytes, the header says ${size}`);
  return { size: Number(size), mode: mode === '755' ? 0o755 : 0o644, sha256, xxh64, chunks };
}
