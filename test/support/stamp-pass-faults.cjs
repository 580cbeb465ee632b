// Preloaded (node --require) into the real CLI by test/stamp-pass.test.ts: a fault inside the fast path's hidden
// stamp pass only, chosen by GL_TEST_PASS_FAULT. `hang`: the pass's open of the config never settles (nothing else
// keeps the event loop alive: the unsettled case). `reject`: one promise rejected with nobody to handle it.
'use strict';
const fsp = require('fs').promises;
const open = fsp.open;
const fault = process.env.GL_TEST_PASS_FAULT;
let done = false;
const inPass = () => globalThis[Symbol.for('gamelayer.fast-noop.pending')]?.pass === true;
fsp.open = function (file, ...rest) {
  if (!done && inPass() && String(file).endsWith('gamelayer.yaml')) {
    done = true;
    if (fault === 'hang') return new Promise(() => {});
    if (fault === 'reject') Promise.reject(new Error('a rejection nobody handles, in the pass'));
  }
  return open.call(this, file, ...rest);
};
