// A build record's summary read without its trees' entries: `ls`, `inspect` and `gc` look at every local build
// (tags, time, layers, images) but need no build's entries but the one they show. A 100k-file game's record is
// 22 MB of JSON, 40 MiB once parsed and as much again through the schema; parsing each of several builds whole,
// even one at a time, grew the heap to about 350 MiB before a full collection. The two big values (`manifests`,
// `plan`) are stepped over in the file's bytes (every byte JSON gives meaning to is ASCII, and no byte of a UTF-8
// multi-byte character is), and only the rest is parsed and checked.
import { readFile } from 'node:fs/promises';
import { GamelayerError, errnoCode } from '../errors.js';
import { buildRecordSchema, parseStored, type BuildRecord } from '../types.js';

export type BuildRecordSummary = Omit<BuildRecord, 'manifests' | 'plan'>;

const summarySchema = buildRecordSchema.omit({ manifests: true, plan: true });
/** Top-level keys stepped over, and the first byte their value must have. */
const SKIPPED = new Map([
  ['manifests', 0x5b], // [
  ['plan', 0x7b], // {
]);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Reads a build record's summary; the errors of `readBuildRecord` for a missing, corrupt or scan record. */
export async function readBuildSummary(file: string): Promise<BuildRecordSummary> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new GamelayerError('record.no-build', `${file}: no build yet, run gamelayer build`);
    throw new GamelayerError('record.unreadable', `${file}: cannot be read: ${(e as Error).message}`);
  }
  const corrupt = (problem: string) =>
    new GamelayerError('record.corrupt', `${file}: not a gamelayer scan or build record: ${problem}`, 'delete it and scan or build again');
  let text: string;
  try {
    text = withoutKeys(bytes);
  } catch (e) {
    if (e instanceof SyntaxError) throw new GamelayerError('record.corrupt', `${file}: not valid JSON (truncated or corrupt record)`, 'delete it and scan or build again');
    throw corrupt((e as Error).message);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GamelayerError('record.corrupt', `${file}: not valid JSON (truncated or corrupt record)`, 'delete it and scan or build again');
  }
  const r = value as { kind?: unknown; schemaVersion?: unknown };
  if (r.kind === 'scan') throw new GamelayerError('record.no-build', `${file}: a scan record, not a build record`, 'run gamelayer build');
  if (r.schemaVersion !== 1) throw corrupt(`schemaVersion: expected 1, got ${JSON.stringify(r.schemaVersion)}`);
  const parsed = parseStored(summarySchema, value);
  if (!parsed.ok) throw corrupt(parsed.problem);
  return parsed.value;
}

/**
 * The top-level object's text without the SKIPPED members (each must be there, of its kind). Throws SyntaxError
 * when the text is not one JSON object (unbalanced, truncated); the values kept are checked by JSON.parse after.
 */
export function withoutKeys(bytes: Buffer): string {
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== 0x7b) throw new SyntaxError('not an object');
  i++;
  const kept: string[] = [];
  const seen = new Set<string>();
  for (;;) {
    i = skipSpace(bytes, i);
    if (bytes[i] === 0x7d && kept.length === 0 && seen.size === 0) break;
    if (bytes[i] !== QUOTE) throw new SyntaxError('expected a key');
    const keyEnd = skipString(bytes, i);
    const key = JSON.parse(bytes.toString('utf8', i, keyEnd)) as string;
    i = skipSpace(bytes, keyEnd);
    if (bytes[i] !== 0x3a) throw new SyntaxError('expected ":"');
    const valueStart = skipSpace(bytes, i + 1);
    const valueEnd = skipValue(bytes, valueStart);
    const first = SKIPPED.get(key);
    if (first !== undefined) {
      if (bytes[valueStart] !== first) throw new Error(`${key}: expected ${first === 0x5b ? 'a list' : 'a map'}`);
      seen.add(key);
    } else {
      kept.push(`${JSON.stringify(key)}:${bytes.toString('utf8', valueStart, valueEnd)}`);
    }
    i = skipSpace(bytes, valueEnd);
    if (bytes[i] === 0x2c) {
      i++;
      continue;
    }
    if (bytes[i] === 0x7d) break;
    throw new SyntaxError('expected "," or "}"');
  }
  if (skipSpace(bytes, i + 1) !== bytes.length) throw new SyntaxError('text after the object');
  for (const key of SKIPPED.keys()) if (!seen.has(key)) throw new Error(`${key}: missing`);
  return `{${kept.join(',')}}`;
}

function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return i;
}

/** The index just past the string starting at `i` (its opening quote). */
function skipString(b: Buffer, i: number): number {
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j];
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j + 1;
  }
  throw new SyntaxError('unterminated string');
}

/** The index just past the value starting at `i`: a string, or an object or list by its brackets, or a scalar. */
function skipValue(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c !== 0x7b && c !== 0x5b) {
    let j = i;
    while (j < b.length && b[j] !== 0x2c && b[j] !== 0x7d && b[j] !== 0x5d && b[j] !== 0x20 && b[j] !== 0x0a && b[j] !== 0x0d && b[j] !== 0x09) j++;
    if (j === i) throw new SyntaxError('expected a value');
    return j;
  }
  let depth = 0;
  for (let j = i; j < b.length; j++) {
    const x = b[j];
    if (x === QUOTE) {
      j = skipString(b, j) - 1;
    } else if (x === 0x7b || x === 0x5b) {
      depth++;
    } else if (x === 0x7d || x === 0x5d) {
      if (--depth === 0) return j + 1;
    }
  }
  throw new SyntaxError('unbalanced brackets');
}
