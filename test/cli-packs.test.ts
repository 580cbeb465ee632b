// Packs of the CLI bundle (scripts/cli-packs.mjs): a chunk written with the chunks it imports statically, so a
// command loads a few files instead of dozens. What they must keep of Node's loader, run in a real Node process on
// files made by the same function the build uses: one instance of a module whether its pack or its own file was
// loaded first, a module that threw is run again by the next require, what a pack does not hold is loaded from its
// file; and a list of heads that went stale stops the build.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { makePacks } from '../scripts/cli-packs.mjs';
import { tempDir } from './support/tmp.js';

const run = promisify(execFile);

/** CommonJS files as the bundle has them; each counts its runs in globalThis.runs. */
const FILES: Record<string, string> = {
  // The head: imports a.js statically, c.js on demand (an import(), not packed).
  'h.js': `'use strict';\nglobalThis.runs.push('h');\nconst a = require("./a.js");\nmodule.exports = { a, later: () => require("./c.js") };`,
  'a.js': `'use strict';\nglobalThis.runs.push('a');\nconst node = require("node:path");\nexports.join = node.join;\nexports.self = require("./d.js").parentOf;`,
  'd.js': `'use strict';\nglobalThis.runs.push('d');\nexports.parentOf = 'd';\nif (globalThis.failD) { globalThis.failD = false; throw new Error('d failed'); }`,
  // Not in the pack: loads a.js by Node's own require, from a.js's file.
  'b.js': `'use strict';\nglobalThis.runs.push('b');\nmodule.exports = require("./a.js");`,
  'c.js': `'use strict';\nglobalThis.runs.push('c');\nmodule.exports = require("./a.js");`,
};

const OUTPUTS = {
  'h.js': { entryPoint: 'src/h.ts', imports: [{ path: 'a.js', kind: 'import-statement' }, { path: 'c.js', kind: 'dynamic-import' }] },
  'a.js': { imports: [{ path: 'node:path', kind: 'require-call', external: true }, { path: 'd.js', kind: 'import-statement' }] },
  'd.js': { imports: [] },
  'b.js': { entryPoint: 'src/b.ts', imports: [{ path: 'a.js', kind: 'import-statement' }] },
  'c.js': { entryPoint: 'src/c.ts', imports: [{ path: 'a.js', kind: 'import-statement' }] },
};

async function bundle(): Promise<string> {
  const dir = await tempDir();
  const packs = makePacks(new Map(Object.entries(FILES)), OUTPUTS, ['src/h.ts']);
  expect([...packs.keys()]).toEqual(['h.js']);
  for (const [name, text] of Object.entries(FILES)) await writeFile(path.join(dir, name), packs.get(name) ?? text);
  return dir;
}

/** Runs `script` in a fresh Node with `load(name)` requiring a file of `dir`; its JSON output. */
async function inNode(dir: string, script: string): Promise<unknown> {
  const main = path.join(dir, 'run.cjs');
  await writeFile(main, `'use strict';\nglobalThis.runs = [];\nconst load = (n) => require('./' + n);\nconst out = {};\n${script}\nprocess.stdout.write(JSON.stringify(out));\n`);
  return JSON.parse((await run(process.execPath, [main])).stdout);
}

describe('CLI bundle packs', () => {
  it('run each module once, the pack or its own file first, and share one instance', async () => {
    const dir = await bundle();
    expect(
      await inNode(dir, `const h = load('h.js');\nconst b = load('b.js');\nout.same = h.a === b;\nout.self = h.a.self;\nout.join = h.a.join('x', 'y');\nout.later = h.later() === h.a;\nout.runs = globalThis.runs;`),
    ).toEqual({ same: true, self: 'd', join: 'x/y', later: true, runs: ['h', 'a', 'd', 'b', 'c'] });
    expect(await inNode(dir, `const b = load('b.js');\nconst h = load('h.js');\nout.same = h.a === b;\nout.runs = globalThis.runs;`)).toEqual({ same: true, runs: ['b', 'a', 'd', 'h'] });
  });

  it('registers a module run from the pack under its own file: Node finds it there', async () => {
    const dir = await bundle();
    expect(await inNode(dir, `load('h.js');\nout.cached = Object.keys(require.cache).map((f) => require('node:path').basename(f)).sort();`)).toEqual({ cached: ['a.js', 'd.js', 'h.js', 'run.cjs'] });
  });

  it('runs a module that threw again on the next require, as Node does', async () => {
    const dir = await bundle();
    expect(
      await inNode(dir, `globalThis.failD = true;\ntry { load('h.js'); } catch (e) { out.error = e.message; }\nout.again = load('h.js').a.self;\nout.runs = globalThis.runs;`),
    ).toEqual({ error: 'd failed', again: 'd', runs: ['h', 'a', 'd', 'h', 'a', 'd'] });
  });

  it("takes a module another pack ran from require.cache, without Node's resolution of its path", async () => {
    const dir = await tempDir();
    const files = { ...FILES, 'g.js': `'use strict';\nglobalThis.runs.push('g');\nmodule.exports = require("./a.js");` };
    const outputs = { ...OUTPUTS, 'g.js': { entryPoint: 'src/g.ts', imports: [{ path: 'a.js', kind: 'import-statement' }] } };
    // h's pack holds a.js and d.js; g's pack holds g.js alone and requires a.js from h's.
    const packs = makePacks(new Map(Object.entries(files)), outputs, ['src/h.ts', 'src/g.ts']);
    expect([...packs.keys()]).toEqual(['h.js', 'g.js']);
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), packs.get(name) ?? text);
    const counting = `const Module = require('node:module');\nconst resolve = Module._resolveFilename;\nout.resolved = [];\nModule._resolveFilename = function (request) { out.resolved.push(request); return resolve.apply(this, arguments); };\n`;
    expect(await inNode(dir, `${counting}const h = load('h.js');\nout.resolved = [];\nout.same = load('g.js') === h.a;\nout.runs = globalThis.runs;`)).toEqual({
      resolved: ['./g.js'],
      same: true,
      runs: ['h', 'a', 'd', 'g'],
    });
    // g first: a.js is in no cache yet, so Node loads it from its own file; h's pack then takes that instance.
    expect(await inNode(dir, `const g = load('g.js');\nout.same = load('h.js').a === g;\nout.runs = globalThis.runs;`)).toEqual({ same: true, runs: ['g', 'a', 'd', 'h'] });
  });

  it('refuses a head that is not an entry of the bundle (a stale list)', () => {
    expect(() => makePacks(new Map(Object.entries(FILES)), OUTPUTS, ['src/gone.ts'])).toThrow(/src\/gone\.ts is not an entry/);
  });
});
