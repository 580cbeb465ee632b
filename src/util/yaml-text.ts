// YAML text of a generated document (k8s specs, buildspecs) that every YAML reader reads back as written. The `yaml`
// package writes a string's NEL (U+0085), LS (U+2028) and PS (U+2029) as they are: YAML 1.2 reads them as plain
// characters, but YAML 1.1 readers break lines at them (go-yaml, which kubectl and sigs.k8s.io/yaml use; SnakeYAML;
// PyYAML). In a plain or block scalar (a mount path, an env value, a copy script) such a break ended the value and
// the rest of the line was read as YAML of its own; in a comment (a record's tag in the header) it did the same.
// It also writes DEL, the other C1 controls and U+FFFE/U+FFFF as they are, which no YAML reader takes unescaped
// (kubectl: "control characters are not allowed"). A string holding any of them is written double-quoted with each
// one escaped (`\N`, `\L`, `\P`, `\x9b`, `\uFFFE`), which YAML 1.1 and 1.2 readers alike read back as the character.
import { isNode, visit, type Document, type ToStringOptions } from 'yaml';

const UNSAFE = /[\u007f-\u009f\u2028\u2029\ufffe\uffff]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');
const NAMED: Record<string, string> = { '\u0085': '\\N', '\u2028': '\\L', '\u2029': '\\P' };

/** The YAML escape of one unsafe character (inside double quotes). */
function escapeOf(c: string): string {
  const code = c.charCodeAt(0);
  return NAMED[c] ?? (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).toUpperCase()}`);
}

/** Comment text with each unsafe character written as its escape (a comment has no quoting to carry it). */
export function yamlCommentText(text: string): string {
  return text.replace(UNSAFE_ALL, escapeOf);
}

/** `doc` as text (its own toString options); strings holding an unsafe character double-quoted and escaped. */
export function yamlText(doc: Document, options: ToStringOptions): string {
  if (doc.commentBefore) doc.commentBefore = yamlCommentText(doc.commentBefore);
  if (doc.comment) doc.comment = yamlCommentText(doc.comment);
  visit(doc, (_, node) => {
    if (!isNode(node)) return;
    if (node.commentBefore) node.commentBefore = yamlCommentText(node.commentBefore);
    if (node.comment) node.comment = yamlCommentText(node.comment);
    if ('value' in node && typeof node.value === 'string' && UNSAFE.test(node.value)) (node as { type?: string }).type = 'QUOTE_DOUBLE';
  });
  // The comments hold none now, so every one left is inside a double-quoted scalar (JSON.stringify, which the
  // package quotes with, leaves them as they are), where its escape means the character.
  return doc.toString(options).replace(UNSAFE_ALL, escapeOf);
}
