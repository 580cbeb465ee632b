// Preloaded into the CLI by test/fast-noop.test.ts (`node --require`), never by gamelayer itself: stands for a build
// of another tag finishing while a no-op ends. Once the trigger file (GL_TEST_SWAP_POINTER's `trigger`) exists and the
// last-build pointer is a copy of `ours` (the no-op pointed it back), the next listing of the state folder first
// copies `theirs` over the pointer and removes the trigger: the stamp's state walk then sees the other build's pointer.
'use strict';
const { isMainThread } = require('node:worker_threads');

const spec = process.env.GL_TEST_SWAP_POINTER;
if (spec && isMainThread) {
  const { stateDir, pointer, ours, theirs, trigger } = JSON.parse(spec);
  const fs = require('node:fs');
  const readdirSync = fs.readdirSync;
  const same = (a, b) => {
    try {
      return fs.readFileSync(a).equals(fs.readFileSync(b));
    } catch {
      return false;
    }
  };
  // The CLI bundle reads fs's readdirSync at each call (esbuild's CommonJS output), so it finds this one.
  fs.readdirSync = function (dir, ...rest) {
    if (String(dir) === stateDir && fs.existsSync(trigger) && same(pointer, ours)) {
      fs.copyFileSync(theirs, pointer);
      fs.rmSync(trigger);
    }
    return readdirSync.call(this, dir, ...rest);
  };
}
