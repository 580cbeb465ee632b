// Preloaded into the CLI by kill-at-rename.ts (`node --require`), never by gamelayer itself: counts the renames onto
// a path that matches GL_TEST_KILL_AT_RENAME's pattern and SIGKILLs the process at the n-th. Every file gamelayer
// places for good (a blob, a record, a cache file) is a temp file renamed onto its name, so a rename is where a kill
// means something.
'use strict';
const { isMainThread } = require('node:worker_threads');

const spec = process.env.GL_TEST_KILL_AT_RENAME;
// The build's worker threads load this too (they inherit node's flags); their files are placed by the main thread.
if (spec && isMainThread) {
  const { target, flags, nth, at } = JSON.parse(spec);
  const pattern = new RegExp(target, flags);
  const fsp = require('node:fs/promises');
  const rename = fsp.rename;
  const never = () => new Promise(() => {});
  /** The matching renames made so far: all are done before the kill, so what is on disk then is exact. */
  const earlier = [];
  let point = false;
  // The CLI bundle reads fs/promises' rename at each call (esbuild's CommonJS output), so it finds this one.
  fsp.rename = function (from, to) {
    if (!pattern.test(String(to))) return rename.call(this, from, to);
    // Past the point (a rename another layer had ready): held, never made, as the CLI dies.
    if (point) return never();
    if (earlier.length + 1 < nth) {
      const done = rename.call(this, from, to);
      earlier.push(done.catch(() => undefined));
      return done;
    }
    point = true;
    // `entered`: the n-th never takes its name; `done`: it does. Either way the CLI never sees it answered.
    const last = at === 'done' ? [rename.call(this, from, to)] : [];
    void Promise.allSettled([...earlier, ...last]).then(() => process.kill(process.pid, 'SIGKILL'));
    return never();
  };
}
