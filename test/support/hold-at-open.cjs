// Preloaded into the CLI by a test (`node --require`), never by gamelayer itself: the first time the process opens a
// file whose path matches GL_TEST_HOLD_AT_OPEN's pattern, it writes `held-<pid>` in the spec's folder and waits there,
// synchronously, until a file `go` appears in it. CLIs held so have all opened that file before any goes on: they
// overlap at that point however fast each runs.
'use strict';
const { isMainThread } = require('node:worker_threads');

const spec = process.env.GL_TEST_HOLD_AT_OPEN;
if (spec && isMainThread) {
  const { target, dir } = JSON.parse(spec);
  const pattern = new RegExp(target);
  const fs = require('node:fs');
  const path = require('node:path');
  const openSync = fs.openSync;
  let held = false;
  // The CLI bundle reads fs's openSync at each call (esbuild's CommonJS output), so it finds this one.
  fs.openSync = function (file, ...rest) {
    if (held || !pattern.test(String(file))) return openSync.call(this, file, ...rest);
    held = true;
    try {
      return openSync.call(this, file, ...rest);
    } finally {
      // After the open, whatever it answered (a missing file too): the file's state then is what this CLI goes on with.
      fs.writeFileSync(path.join(dir, `held-${process.pid}`), '');
      const pause = new Int32Array(new SharedArrayBuffer(4));
      while (!fs.existsSync(path.join(dir, 'go'))) Atomics.wait(pause, 0, 0, 5);
    }
  };
}
