// The stamp pass: a `build --push` that built or pushed leaves no stamp of its own (it was no no-op), so the next run
// of the same command, a no-op, would be the full path's. Once the build is done and printed (its holds and locks
// released, its stat cache saved), the launcher runs the same command once more in this process, with the modules,
// code and connections already loaded: a full no-op whose output is kept, not shown, and which stamps what the next
// run will find (record.ts), holding the re-run note it would write (the stamp carries it, the fast path writes it),
// so `diff --previous` still compares with the build before. It never changes the build's output or exit code: its
// failure is ignored, and a stop signal while it runs ends the process with the build's code.
import { DEBUG_VAR } from './key.js';
import { beginPass, finishStamp, pendingStamp } from './output-tap.js';

/** After the CLI returned `code`: the stamp pass a build asked for (record.ts), run by `again`. Never throws. */
export async function runStampPass(code: number, again: () => Promise<number>): Promise<void> {
  const pending = pendingStamp();
  const wanted = pending?.wantsPass;
  if (code !== 0 || !pending || !wanted || pending.off || pending.pass) return;
  const say = (what: string) => {
    if (pending.env[DEBUG_VAR]) process.stderr.write(`gamelayer: stamp pass: ${what}\n`);
  };
  // A file written just before the build is still in the scan's racy window: the pass could not stamp.
  if (Date.now() < wanted.notBeforeMs) return say('not run (a file of a tree was written too recently)');
  const stop = () => process.exit(code);
  // Registered before the pass's own (the build's interrupt lines): Node calls them in order, and this one exits.
  process.prependListener('SIGINT', stop);
  process.prependListener('SIGTERM', stop);
  let outcome: string;
  const started = performance.now();
  try {
    beginPass(pending);
    const passCode = await again();
    const stamped = passCode === 0 && pending.finish !== undefined;
    await finishStamp(passCode);
    outcome = passCode !== 0 ? `failed (exit ${passCode})` : stamped ? 'done' : 'no stamp';
  } catch (e) {
    outcome = `failed: ${(e as Error).message}`;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  // What the pass printed is not shown; why it left no stamp is, with GAMELAYER_DEBUG_FAST_NOOP.
  pending.pass = false;
  say(`${outcome} in ${Math.round(performance.now() - started)} ms`);
}
