// Preloaded into the CLI by a test (`node --require`), never by gamelayer itself: two points of a run the test can
// see or hold, for a deterministic interleaving of two CLIs.
// - GL_TEST_HOLD_AT_RENAME {target, nth, dir}: the nth rename onto a path matching `target` first writes
//   `held-<pid>` in `dir`, then waits, synchronously and before it is made, until a file `go` appears there.
// - GL_TEST_MARK_AT {dir, link, renamed}: writes `link-<pid>` in `dir` when the process links onto a path matching
//   `link` (how a lock file is taken: util/lock-file.ts), and `renamed-<pid>` once a rename onto a path matching
//   `renamed` is made.
// - GL_TEST_HOLD_AT_RM {target, nth, dir}: the same hold at the nth removal (fs/promises rm) of a path matching
//   `target`, before it is made.
'use strict';
const { isMainThread } = require('node:worker_threads');

if (isMainThread && (process.env.GL_TEST_HOLD_AT_RENAME || process.env.GL_TEST_HOLD_AT_RM || process.env.GL_TEST_MARK_AT)) {
  const fs = require('node:fs');
  const fsp = require('node:fs/promises');
  const path = require('node:path');
  const holdSpec = (name) => process.env[name] && { ...JSON.parse(process.env[name]), seen: 0 };
  const holds = { rename: holdSpec('GL_TEST_HOLD_AT_RENAME'), rm: holdSpec('GL_TEST_HOLD_AT_RM') };
  const mark = process.env.GL_TEST_MARK_AT && JSON.parse(process.env.GL_TEST_MARK_AT);
  const { rename, rm, link } = fsp;
  /** Says it is held, then waits for `go`, when this is the hold's nth call onto a path matching its target. */
  const holdAt = (hold, to) => {
    if (!hold || !new RegExp(hold.target).test(String(to)) || ++hold.seen !== hold.nth) return;
    fs.writeFileSync(path.join(hold.dir, `held-${process.pid}`), '');
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (!fs.existsSync(path.join(hold.dir, 'go'))) Atomics.wait(pause, 0, 0, 5);
  };
  // The CLI bundle reads fs/promises' functions at each call (esbuild's CommonJS output), so it finds these.
  fsp.rename = async function (from, to) {
    holdAt(holds.rename, to);
    const done = await rename.call(this, from, to);
    if (mark && new RegExp(mark.renamed).test(String(to))) fs.writeFileSync(path.join(mark.dir, `renamed-${process.pid}`), '');
    return done;
  };
  fsp.rm = function (file, ...rest) {
    holdAt(holds.rm, file);
    return rm.call(this, file, ...rest);
  };
  fsp.link = function (existing, to) {
    if (mark && new RegExp(mark.link).test(String(to))) fs.writeFileSync(path.join(mark.dir, `link-${process.pid}`), '');
    return link.call(this, existing, to);
  };
}
