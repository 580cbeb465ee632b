// The stamp pass: a `build --push` that built or pushed leaves no stamp of its own (it was no no-op), so the next run
// of the same command, a no-op, would be the full path's. Once the build is done (its holds and locks released, its
// stat cache saved) the launcher runs the same command again in a child, marked GAMELAYER_STAMP_PASS: a full no-op
// that stamps what the next run will find (record.ts), holding the re-run note it would write (the stamp carries it,
// the fast path writes it), so `diff --previous` still compares with the build before. Its output is discarded and
// its failure ignored: it never changes the build's output or exit code.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DEBUG_VAR, PASS_VAR } from './key.js';
import { pendingStamp } from './output-tap.js';

const NOT_STAMPED = /^gamelayer: no-op not stamped: (.*)$/m;

/** After the CLI returned `code`: the stamp pass a build asked for (record.ts). Awaited; never throws. */
export async function runStampPass(code: number): Promise<void> {
  const pending = pendingStamp();
  if (code !== 0 || !pending?.wantsPass || pending.off || pending.pass) return;
  const say = (what: string) => {
    if (pending.env[DEBUG_VAR]) process.stderr.write(`gamelayer: stamp pass: ${what}\n`);
  };
  // The key holds whether stdout and stderr are terminals: a child's (pipes) stamps only a run without one.
  if (process.stdout.isTTY || process.stderr.isTTY) return say('not run (a terminal: the next run would not match its stamp)');
  const bin = path.join(pending.bundleDir, '..', '..', 'bin', 'gamelayer.js');
  const outcome = await new Promise<string>((resolve) => {
    let stderr = '';
    const child = spawn(process.execPath, [bin, ...pending.argv], { env: { ...pending.env, [PASS_VAR]: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 1 << 16) stderr += d;
    });
    child.on('error', (e) => resolve(`failed: ${e.message}`));
    child.on('close', (status, signal) => {
      const why = NOT_STAMPED.exec(stderr)?.[1];
      resolve(status !== 0 ? `failed (${signal ?? `exit ${status}`})` : why ? `not stamped: ${why}` : 'done');
    });
  });
  say(outcome);
}
