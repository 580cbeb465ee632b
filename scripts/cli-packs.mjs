// Packs of the CLI bundle (issue 17 item 3): a no-op `build --push` loaded 80 bundle files, and each file costs
// about 0.3 ms however small (resolution, two reads and two stats, the code cache entry's checks, a `vm.Script`).
// A pack is one chunk (its head) written together with every chunk it imports statically, so requiring the head
// loads one file instead of dozens. Used by scripts/build-dist.mjs after the split bundle is turned into CommonJS.
//
// The head's file becomes the pack: each member is a function with Node's CommonJS parameters, and the head runs
// first. A member's `require` of another member runs that member from the pack; any other `require` is Node's.
// Every member is registered in `require.cache` under its own file's path before it runs, as Node would, so a
// module is one instance whether the pack or Node loaded it first: the members' own files stay in the folder for
// the commands that load them without the head. Only static imports are packed: a pack holds exactly what loading
// its head runs (what else it may import() loads as before, from its own file or pack).

/**
 * The source modules whose chunks head a pack, in the order a no-op `build --push` loads them: an earlier pack
 * holds the chunks it shares with later ones. Every one of them must be an entry of the bundle (the CLI's entry or
 * the target of an `import()`): the build fails otherwise, so the list cannot silently go stale.
 */
export const PACK_HEADS = [
  // The launcher is compiled before the code cache is installed, and so is what it imports (esbuild's helpers).
  'src/cli/launch.ts',
  'src/cli/main.ts',
  'src/cli/zod-jitless.ts',
  'src/cli/commands/build.ts',
  'src/registry/reference.ts',
  // The build's tag (CodeBuild's default, a platform build's) and platforms, checked before the previous build is
  // asked for or the start script warned of.
  'src/codebuild/environment.ts',
  'src/cli/commands/platform-build.ts',
  'src/pipeline/steps/previous.ts',
  // build's warning of a start script on scratch whose interpreter no tree holds: once the registry lookup's first
  // questions are out, before the pipeline loads.
  'src/scan/start-interpreter.ts',
  'src/pipeline/build.ts',
  'src/pipeline/steps/push.ts',
];

// Runs in the head's file, with that file's own `require` and `module` (strict, as every bundle file is). No
// `__dirname`: the bundle's files use none (test/cli-bundle.test.ts).
const RUNTIME = `(function (table, head, headModule, headRequire) {
  var Module = headRequire('node:module');
  var join = headRequire('node:path').join;
  var dir = headRequire('node:path').dirname(headModule.filename);
  var sep = headRequire('node:path').sep;
  var has = Object.prototype.hasOwnProperty;
  // The path of a file of the folder, as path.join makes it: a plain file name (every require of the bundle) is
  // joined without path.join's normalizing, which a no-op build's hundreds of requires paid each time.
  function fileOf(name) {
    return /^[\\w-][\\w.-]*$/.test(name) ? dir + sep + name : join(dir, name);
  }
  // A file of the folder that another pack (or Node) already ran is in require.cache under its path, and Node's
  // require would find it there too, after resolving the path again on every require (its own relative cache keeps
  // only what Node loaded itself: 345 resolutions, 66 distinct, in a no-op build --push): taken from there directly.
  function requireFor(m) {
    return function require(id) {
      var name = typeof id === 'string' && id.slice(0, 2) === './' ? id.slice(2) : '';
      if (name === '') return m.require(id);
      if (has.call(table, name)) return load(name, m);
      var cached = headRequire.cache[fileOf(name)];
      return cached !== undefined ? cached.exports : m.require(id);
    };
  }
  // As Node's own loader: a module in the cache (done, or still running in a cycle) is not run again; one that
  // throws leaves the cache.
  function load(name, parent) {
    var filename = fileOf(name);
    var cached = headRequire.cache[filename];
    if (cached !== undefined) return cached.exports;
    var m = new Module(filename, parent);
    m.filename = filename;
    m.paths = headModule.paths;
    headRequire.cache[filename] = m;
    var ok = false;
    try {
      table[name].call(m.exports, m.exports, requireFor(m), m);
      ok = true;
    } finally {
      if (!ok) delete headRequire.cache[filename];
    }
    m.loaded = true;
    return m.exports;
  }
  table[head].call(headModule.exports, headModule.exports, requireFor(headModule), headModule);
})`;

/**
 * The packs of a bundle: `files` maps each output file's name to its CommonJS text, `outputs` is esbuild's
 * metafile outputs keyed the same way (file names), `headSources` the source modules heading a pack. Returns the
 * new texts of the heads' files (the others stay as they are).
 */
export function makePacks(files, outputs, headSources = PACK_HEADS) {
  const entryOf = new Map();
  for (const [name, out] of Object.entries(outputs)) if (out.entryPoint) entryOf.set(out.entryPoint, name);
  const packed = new Set();
  const heads = new Map();
  for (const source of headSources) {
    const head = entryOf.get(source);
    if (head === undefined) throw new Error(`pack head ${source} is not an entry of the CLI bundle (scripts/cli-packs.mjs PACK_HEADS)`);
    if (packed.has(head)) continue;
    // The head first, then its static imports depth first (the order does not matter to the runtime).
    const members = [];
    const stack = [head];
    while (stack.length) {
      const name = stack.pop();
      if (packed.has(name)) continue;
      packed.add(name);
      members.push(name);
      for (const i of outputs[name].imports) if (i.kind === 'import-statement' && !i.external && outputs[i.path]) stack.push(i.path);
    }
    const table = members.map((m) => `${JSON.stringify(m)}: function (exports, require, module) {\n${files.get(m)}\n}`).join(',\n');
    heads.set(head, `'use strict';\n${RUNTIME}({\n${table}\n}, ${JSON.stringify(head)}, module, require);\n`);
  }
  return heads;
}
