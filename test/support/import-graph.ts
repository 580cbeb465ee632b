// The relative imports of every source file, and the checks docs/architecture.md describes: each folder of src/
// has a rank, a file imports only from folders of a lower rank (or its own folder), and no files import each
// other in a cycle. Static imports and re-exports (type-only ones too: a type from a higher stage couples the same
// way), dynamic import() and require() all count.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ImportEdge {
  /** Importing file, relative to the source root (POSIX). */
  from: string;
  /** Imported file, relative to the source root, with the .ts extension the source has. */
  to: string;
  /** The specifier as written. */
  specifier: string;
}

const IMPORT = /(?:^|[\s;}])(?:import|export)\s[^'";]*?\sfrom\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\s;}])import\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|\brequire\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Relative import specifiers of one file's text (comments are not stripped; none of ours quotes an import). */
export function relativeImports(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3] ?? m[4])!);
}

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listFiles(p, root);
    return /\.(ts|mts|cts|js|mjs|cjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path.relative(root, p).split(path.sep).join('/')] : [];
  });
}

/** Every relative import of every source file under `root`, resolved to the file it names. */
export function importGraph(root: string): { files: string[]; edges: ImportEdge[] } {
  const files = listFiles(root);
  const known = new Set(files);
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const specifier of relativeImports(readFileSync(path.join(root, from), 'utf8'))) {
      const joined = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
      // Sources import `./x.js` and the file is x.ts (NodeNext resolution); .cjs files are imported as they are.
      const to = [joined, joined.replace(/\.js$/, '.ts'), joined.replace(/\.mjs$/, '.mts'), joined.replace(/\.cjs$/, '.cts')].find((c) => known.has(c)) ?? joined;
      edges.push({ from, to, specifier });
    }
  }
  return { files, edges };
}

/** The folder (stage) a source file belongs to: its first path part, or a name for a top-level file. */
export type StageOf = (file: string) => string;

export function folderStage(topLevel: Record<string, string>): StageOf {
  return (file) => {
    const i = file.indexOf('/');
    if (i >= 0) return file.slice(0, i);
    const stage = topLevel[file];
    if (!stage) throw new Error(`src/${file}: a top-level file with no stage; add it to the rank table`);
    return stage;
  };
}

/** Imports that go to a higher or same-ranked other stage, as readable lines; stages missing from the table too. */
export function layeringViolations(edges: readonly ImportEdge[], files: readonly string[], stageOf: StageOf, ranks: Record<string, number>): string[] {
  const problems: string[] = [];
  for (const stage of new Set(files.map(stageOf))) {
    if (ranks[stage] === undefined) problems.push(`src/${stage}/ has no rank: add it to docs/architecture.md and the rank table`);
  }
  for (const e of edges) {
    const a = stageOf(e.from);
    const b = stageOf(e.to);
    if (a === b) continue;
    const ra = ranks[a];
    const rb = ranks[b];
    if (ra === undefined || rb === undefined) continue;
    if (rb >= ra) problems.push(`src/${e.from} imports '${e.specifier}': ${a} (rank ${ra}) may not import ${b} (rank ${rb})`);
  }
  return problems;
}

/** Import cycles between files, each as `a → b → … → a`. */
export function importCycles(edges: readonly ImportEdge[]): string[] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const d of next.get(n) ?? []) {
      if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' → '));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...next.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}
