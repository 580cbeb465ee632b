// `layers: {targetSize: 512}` is 512 bytes: a size without a unit counts bytes (tests and byte-exact setups rely on
// that), but a build engineer who wrote 512 meant 512 MiB, and the plan split the trees into a layer per file up to
// maxLayers with no word said (only diff hinted). A bare number below 1 MiB is warned about, with the fix; one
// written with a unit (`40KiB`, `512B`) is taken as meant. Read from the document the loader parsed, when the size is small.
import { isScalar, type Document, type LineCounter } from 'yaml';

const MIB = 1024 ** 2;
const BARE = /^\s*\d+(?:\.\d+)?\s*$/;

/** The warning for a `layers.targetSize` written as a bare number of bytes below 1 MiB; undefined otherwise. */
export function bareTargetSizeWarning(yaml: () => { doc: Document; lines: LineCounter }, file: string, targetSize: number): string | undefined {
  if (targetSize >= MIB) return undefined;
  // Only a small size needs the document (a config validated before is not parsed again: validated-cache.ts).
  const { doc, lines } = yaml();
  const node = doc.getIn(['layers', 'targetSize'], true);
  if (!isScalar(node)) return undefined;
  const written = node.source ?? String(node.value);
  if (!BARE.test(written)) return undefined;
  const at = node.range ? lines.linePos(node.range[0]) : undefined;
  const n = written.trim();
  return (
    `${file}${at ? `:${at.line}:${at.col}` : ''}: layers.targetSize: ${n} has no unit, so it is ${n} bytes: ` +
    `the trees are split into layers of about ${n} bytes, every file that big or bigger a layer of its own (up to layers.maxLayers); ` +
    `write ${n}MiB if megabytes were meant, or ${n}B to keep ${n} bytes without this warning`
  );
}
