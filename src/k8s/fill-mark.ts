// How a manifest `k8s --fill --out` wrote says so, for the next fill into that folder (which may replace it) and for
// `k8s --out` (which must not). YAML takes a first comment line; JSON holds no comment, and that line made a filled
// `.json` manifest invalid JSON, so a JSON manifest carries the mark as an annotation of its object instead.
import { isMap, isPair, isScalar, parseDocument, type YAMLMap } from 'yaml';
import { errnoCode } from '../errors.js';
import { fileStartsWith } from '../util/generated-file.js';
import { readSmallFile } from '../util/small-file.js';

/** How a YAML manifest `--fill --out` wrote begins (after a byte order mark the input had). */
export const FILL_MARK = '# Filled by gamelayer k8s --fill ';
/** The annotation a JSON manifest `--fill --out` wrote carries on its object: `<name> (build <game> <tag>)`. */
export const FILLED_FROM_ANNOTATION = 'gamelayer.dev/filled-from';
const BOM = '\uFEFF';
/** What --fill reads at most (cli/commands/k8s.ts); a bigger file is no output of a fill. */
const MAX_FILLED_BYTES = 64 * 1024 * 1024;

/**
 * The output's text, marked as a fill's: a JSON object gets the annotation (and stays JSON), any other text a
 * header line. An input that is itself an output keeps one mark.
 */
export function withFillMark(text: string, name: string, input: { game: string; tag: string }): string {
  const bom = text.startsWith(BOM) ? BOM : '';
  let body = text.slice(bom.length);
  const from = `${name.replace(/[\r\n]/g, ' ')} (build ${input.game} ${input.tag})`;
  const annotated = jsonObject(body) === undefined ? undefined : annotateJson(body, from);
  if (annotated !== undefined) return bom + annotated;
  if (body.startsWith(FILL_MARK)) body = body.slice(body.indexOf('\n') + 1 || body.length);
  return `${bom}${FILL_MARK}from ${from}; fill it again rather than editing.\n${body}`;
}

/** Whether `file` is a manifest `--fill --out` wrote (false when nothing, or a folder, is there). */
export async function isFillOutput(file: string): Promise<boolean> {
  if ((await fileStartsWith(file, FILL_MARK)) || (await fileStartsWith(file, BOM + FILL_MARK))) return true;
  let read;
  try {
    read = await readSmallFile(file, MAX_FILLED_BYTES);
  } catch (e) {
    if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes(errnoCode(e) ?? '')) return false;
    throw e;
  }
  if (!('bytes' in read)) return false;
  const doc = jsonObject(read.bytes.toString('utf8').replace(/^\uFEFF/, '')) as { metadata?: { annotations?: Record<string, unknown> } } | undefined;
  return typeof doc?.metadata?.annotations?.[FILLED_FROM_ANNOTATION] === 'string';
}

/** `text` as a JSON object, or undefined when it is YAML (or JSON of another shape). */
function jsonObject(text: string): object | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The JSON text with `metadata.annotations[FILLED_FROM_ANNOTATION]` set, every other byte as it was (the fill keeps
 * them); undefined when `metadata` or its `annotations` is there but no object (nothing to put it in).
 */
function annotateJson(text: string, value: string): string | undefined {
  const root = parseDocument(text).contents;
  if (!isMap(root)) return undefined;
  const entry = `${JSON.stringify(FILLED_FROM_ANNOTATION)}: ${JSON.stringify(value)}`;
  const metadata = member(root, 'metadata');
  if (metadata === null) return insertFirst(text, root, `"metadata": {"annotations": {${entry}}}`);
  if (metadata === undefined) return undefined;
  const annotations = member(metadata, 'annotations');
  if (annotations === null) return insertFirst(text, metadata, `"annotations": {${entry}}`);
  if (annotations === undefined) return undefined;
  const old = annotations.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === FILLED_FROM_ANNOTATION);
  if (old && isScalar(old.value) && old.value.range) {
    const [start, end] = old.value.range;
    return text.slice(0, start) + JSON.stringify(value) + text.slice(end);
  }
  return insertFirst(text, annotations, entry);
}

/** The map under `key`; null when the key is absent, undefined when its value is no map. */
function member(map: YAMLMap, key: string): YAMLMap | null | undefined {
  const pair = map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
  if (!pair) return null;
  return isMap(pair.value) ? pair.value : undefined;
}

/** `entry` as the first member of the flow map (JSON object) `map`. */
function insertFirst(text: string, map: YAMLMap, entry: string): string {
  const at = map.range![0] + 1;
  const comma = map.items.length === 0 ? '' : /\s/.test(text[at] ?? '') ? ',' : ', ';
  return text.slice(0, at) + entry + comma + text.slice(at);
}
