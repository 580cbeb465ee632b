// Stages only look down: the rank table of docs/architecture.md, checked over the import graph of src/.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { folderStage, importCycles, importGraph, layeringViolations, relativeImports } from './support/import-graph.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

/** Lower ranks first; a folder imports only from folders of a lower rank. Same rank = siblings that never meet. */
export const RANKS: Record<string, number> = {
  core: 0, // src/types.ts, src/errors.ts, src/errno.ts, src/error-codes.ts
  util: 1,
  entries: 1, // a tree's entry lists in packed columns (scan, records, plan read them alike)
  report: 1,
  config: 2,
  chunk: 2, // content-defined chunking and the recipe format of chunked trees
  init: 3, // gamelayer init: a config proposed for a build folder
  state: 3,
  scan: 4,
  diff: 5,
  plan: 6,
  oci: 7,
  registry: 8,
  sbom: 9, // the SBOM of a build, attached as a referrer
  sign: 9, // cosign-format signatures (key file or KMS)
  inventory: 9, // ls, inspect, gc, prune: what the store and a repository hold
  k8s: 10,
  dockerfile: 10,
  ecs: 11,
  codebuild: 11,
  docker: 12,
  runlocal: 13,
  pipeline: 14, // orchestration of scan → plan → image → record → push: only the CLI and the library entry call it
  supply: 15, // after a push: SBOM and signatures of a build's images
  cli: 16,
  api: 17, // src/index.ts, the library entry
};
const stageOf = folderStage({ 'types.ts': 'core', 'errors.ts': 'core', 'errno.ts': 'core', 'error-codes.ts': 'core', 'version.ts': 'core', 'index.ts': 'api' });

describe('import graph of src/', () => {
  const { files, edges } = importGraph(SRC);

  it('reads the imports of every file', () => {
    expect(files.length).toBeGreaterThan(50);
    // Every relative import names a file that exists (a source file, or data such as a JSON schema).
    expect(edges.filter((e) => !files.includes(e.to) && !existsSync(path.join(SRC, e.to))).map((e) => `src/${e.from} imports '${e.specifier}'`)).toEqual([]);
  });

  it('stages only import from lower stages', () => {
    expect(layeringViolations(edges, files, stageOf, RANKS)).toEqual([]);
  });

  it('no files import each other in a cycle', () => {
    expect(importCycles(edges)).toEqual([]);
  });

  it('docs/architecture.md lists every ranked folder', async () => {
    const { readFile } = await import('node:fs/promises');
    const doc = await readFile(path.join(SRC, '../docs/architecture.md'), 'utf8');
    for (const stage of Object.keys(RANKS).filter((s) => s !== 'core' && s !== 'api')) expect(doc).toContain(`\`src/${stage}/\``);
  });
});

describe('the checks themselves', () => {
  it('finds every kind of import', () => {
    const text = [
      "import { a } from '../x/a.js';",
      "import type {\n  B,\n} from './b.js';",
      "export * from '../y/index.js';",
      "import './side-effect.js';",
      "const m = await import('../z/lazy.js');",
      "const w = require('./w.cjs');",
      "import fs from 'node:fs';",
    ].join('\n');
    expect(relativeImports(text)).toEqual(['../x/a.js', './b.js', '../y/index.js', './side-effect.js', '../z/lazy.js', './w.cjs']);
  });

  it('names the file and import of an upward import, an unranked folder and a cycle', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'gl-arch-'));
    try {
      await mkdir(path.join(root, 'low'));
      await mkdir(path.join(root, 'high'));
      await mkdir(path.join(root, 'stray'));
      await writeFile(path.join(root, 'low/a.ts'), "import { b } from '../high/b.js';\nexport const a = 1;\n");
      await writeFile(path.join(root, 'high/b.ts'), "import { a } from '../low/a.js';\nexport const b = a;\n");
      await writeFile(path.join(root, 'stray/c.ts'), 'export const c = 1;\n');
      const { files, edges } = importGraph(root);
      const ranks = { low: 0, high: 1 };
      expect(layeringViolations(edges, files, folderStage({}), ranks)).toEqual([
        'src/stray/ has no rank: add it to docs/architecture.md and the rank table',
        "src/low/a.ts imports '../high/b.js': low (rank 0) may not import high (rank 1)",
      ]);
      expect(importCycles(edges)).toEqual(['high/b.ts → low/a.ts → high/b.ts']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
