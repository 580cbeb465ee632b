// The YAML values gamelayer.yaml may hold: strings, numbers, true/false, null, lists and maps. YAML's other kinds
// (`!!binary`, `!!timestamp`, `!!set`, `!!omap`, `!!pairs`) came through as a Buffer, a Date or a Set, which the
// schema named "a map"; a tag of no schema (`!foo bar`) or one its value does not fit (`!!int x`) was dropped with a
// warning and the plain text kept. Each is refused where it is written, naming the field and what the tag makes;
// so are keys that name no field (a list, a map, null).
import { isCollection, isMap, isPair, isScalar, isSeq, visit, type Document, type Node } from 'yaml';

export interface ForeignValue {
  /** The field's path (`trees.app.source`, `start.1`); a key is named `a key of` its map's path. */
  field: string;
  /** Where the node starts in the text. */
  offset: number | undefined;
  /** What was written, in words (`a binary value (!!binary: bytes)`). */
  what: string;
  /** What belongs there instead. */
  expected: string;
}

const PLAIN = 'a plain string, number, true/false, list or map';

const CORE = 'tag:yaml.org,2002:';

/** The kinds YAML's own tags make that a config has no use for. */
const OTHER_KINDS: Record<string, string> = {
  binary: 'a binary value (!!binary: bytes written in base64)',
  timestamp: 'a timestamp (!!timestamp)',
  set: 'a set (!!set)',
  omap: 'an ordered map (!!omap)',
  pairs: 'a list of pairs (!!pairs)',
};

/** The JavaScript type each plain scalar tag makes, when its text fits the tag. */
const SCALAR_TYPES: Record<string, string> = { str: 'string', int: 'number', float: 'number', bool: 'boolean', null: 'null' };

function shortTag(tag: string): string {
  return tag.startsWith(CORE) ? `!!${tag.slice(CORE.length)}` : tag;
}

/** What is wrong with one node's own kind, or undefined when it is a plain value. */
function foreignKind(node: Node): string | undefined {
  const tag = node.tag;
  const own = tag?.startsWith(CORE) ? tag.slice(CORE.length) : undefined;
  if (own !== undefined && OTHER_KINDS[own]) return OTHER_KINDS[own];
  if (isScalar(node)) {
    // YAML 1.1 (`%YAML 1.1`) reads an unquoted date as a timestamp, with no tag written.
    if (node.value instanceof Date) return `a timestamp (${node.source ?? 'a date'}, read as one under %YAML 1.1)`;
    if (node.value instanceof Uint8Array) return OTHER_KINDS.binary;
    if (tag === undefined || tag === '!') return undefined;
    const type = own === undefined ? undefined : SCALAR_TYPES[own];
    if (type === undefined) return `a value with the tag ${shortTag(tag)}, which gamelayer.yaml does not read`;
    const got = node.value === null ? 'null' : typeof node.value;
    // yaml keeps the text as a string when it does not fit the tag (`!!int x`), with only a warning.
    if (got !== type) return `${JSON.stringify(node.source ?? String(node.value))} tagged ${shortTag(tag)}, which it is not`;
    return undefined;
  }
  if (tag === undefined || tag === '!') return undefined;
  if ((isMap(node) && own === 'map') || (isSeq(node) && own === 'seq')) return undefined;
  return `a ${isMap(node) ? 'map' : 'list'} with the tag ${shortTag(tag)}, which gamelayer.yaml does not read`;
}

/**
 * A key that names no field: a list or map (`? [a, b]`, made a string of its YAML with a warning from Node on
 * stderr) or null (`~:`, an empty name): both were "unknown field" with no position, one of them with no name.
 */
function foreignKey(node: Node): string | undefined {
  if (isCollection(node)) return `a ${isMap(node) ? 'map' : 'list'} used as a key`;
  if (isScalar(node) && node.value === null) return `an empty (null) key${node.source ? ` (${node.source})` : ''}`;
  return undefined;
}

/** The field a node sits at, from the visitor's ancestors. */
function fieldOf(key: number | 'key' | 'value' | null, node: Node, ancestors: readonly unknown[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ancestors.length; i++) {
    const a = ancestors[i];
    const child = ancestors[i + 1] ?? node;
    if (isPair(a) && child !== a.key) parts.push(isScalar(a.key) ? String(a.key.value) : '?');
    else if (isSeq(a)) parts.push(String(a.items.indexOf(child as never)));
  }
  const field = parts.join('.');
  if (key === 'key') return `a key of ${field || 'the top level'}`;
  return field || '(top level)';
}

/** Every value of a kind gamelayer.yaml does not hold, outermost first (what is inside one is not looked at). */
export function foreignValues(doc: Document): ForeignValue[] {
  const found: ForeignValue[] = [];
  visit(doc, {
    Node(key, node, ancestors) {
      if (!isScalar(node) && !isCollection(node)) return undefined;
      const kind = foreignKind(node);
      const badKey = kind === undefined && key === 'key' ? foreignKey(node) : undefined;
      const what = kind ?? badKey;
      if (what === undefined) return undefined;
      found.push({ field: fieldOf(key, node, ancestors), offset: node.range?.[0], what, expected: badKey ? 'a field name' : PLAIN });
      return visit.SKIP;
    },
  });
  return found;
}
