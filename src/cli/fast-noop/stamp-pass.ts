// The stamp pass: a `build --push` that built or pushed leaves no stamp of its own (it was no no-op), so the next run
// of the same command, a no-op, would be the full path's. Once the build is done and printed (its holds and locks
// released, its stat cache saved), the launcher runs the same command once more in this process, with the modules,
// code and connections already loaded: a full no-op whose output is kept, not shown, and which stamps what the next
// run will find (record.ts), holding the re-run note it would write (the stamp carries it, the fast path writes it),
// so `diff --previous` still compares with the build before. Nobody asked for it, so it only reads: its build stops
// before anything is built or written unless it plans the build it stamps again (pipeline/stamp-pass-check.ts), and
// the registry refuses its writes (util/registry-writes.ts). It never changes the build's output or exit code: a
// failure, a rejection nothing handled, an event loop run dry, a stop signal or its deadline end it (and the
// process) with the build's code.
import { STAMP_PASS_STOP } from '../../pipeline/stamp-pass-check.js';
import { refuseRegistryWrites } from '../../util/registry-writes.js';
import { DEBUG_VAR } from './key.js';
import { beginPass, finishStamp, pendingStamp } from './output-tap.js';

/** Past this, the pass is given up (a registry that stalls): the build's exit is not held longer. */
const PASS_DEADLINE_MS = 15_000;

/**
 * After the CLI returned `code`: the stamp pass a build asked for (record.ts), run by `again`. Never throws; true
 * when it ran and failed (the caller then exits without waiting for what it left running).
 */
export async function runStampPass(code: number, again: () => Promise<number>): Promise<boolean> {
  const pending = pendingStamp();
  const wanted = pending?.wantsPass;
  if (code !== 0 || !pending || !wanted) return false;
  const say = (what: string) => {
    if (pending.env[DEBUG_VAR]) process.stderr.write(`gamelayer: stamp pass: ${what}\n`);
  };
  // A file written just before the build is still in the scan's racy window: the pass could not stamp.
  if (Date.now() < wanted.notBeforeMs) {
    say('not run (a file of a tree was written too recently)');
    return false;
  }
  const started = performance.now();
  const end = (why: string) => {
    pending.pass = false;
    say(`${why} after ${Math.round(performance.now() - started)} ms`);
    process.exit(code);
  };
  // Prepended: called before any other listener (the build's interrupt lines, the unsettled guard).
  const handlers = [
    ['SIGINT', () => end('stopped by SIGINT')],
    ['SIGTERM', () => end('stopped by SIGTERM')],
    ['SIGHUP', () => end('stopped by SIGHUP')],
    ['beforeExit', () => end('given up (nothing left to run, unsettled)')],
    ['unhandledRejection', (e: unknown) => end(`failed: ${(e as Error)?.message ?? e}`)],
    ['uncaughtException', (e: unknown) => end(`failed: ${(e as Error)?.message ?? e}`)],
  ] as const;
  for (const [event, h] of handlers) process.prependListener(event as 'SIGINT', h as () => void);
  // Unref'd: a pass waiting on nothing that can end leaves the event loop dry ('beforeExit' above), not held by this.
  const deadline = setTimeout(() => end(`given up (not done within ${PASS_DEADLINE_MS} ms)`), PASS_DEADLINE_MS).unref();
  // One attempt per request: a retry prints its wait (no stamp then) and holds the build's exit.
  const retries = process.env.GAMELAYER_REGISTRY_RETRIES;
  process.env.GAMELAYER_REGISTRY_RETRIES = '1';
  refuseRegistryWrites('the stamp pass only reads');
  let outcome: string;
  let failed = false;
  try {
    beginPass(pending);
    const passCode = await again();
    const stamped = passCode === 0 && pending.finish !== undefined;
    await finishStamp(passCode);
    // Why it failed, from what it printed (kept, not shown). Finding the trees or the registry changed since the
    // build (pipeline/stamp-pass-check.ts) is no failure: the pass stopped before doing anything, as it must.
    const why = passCode !== 0 ? pending.stderr.join('').split('\n').filter((l) => l.startsWith('error')).pop() : undefined;
    const stop = why?.indexOf(STAMP_PASS_STOP) ?? -1;
    const notNoop = why && stop >= 0 ? why.slice(stop + 'stamp pass: '.length) : undefined;
    failed = passCode !== 0 && !notNoop;
    outcome = notNoop ? `stopped, ${notNoop}` : failed ? `failed (exit ${passCode}${why ? `: ${why}` : ''})` : stamped ? 'done' : 'no stamp';
  } catch (e) {
    failed = true;
    outcome = `failed: ${(e as Error).message}`;
  } finally {
    clearTimeout(deadline);
    for (const [event, h] of handlers) process.off(event as 'SIGINT', h as () => void);
    refuseRegistryWrites(undefined);
    if (retries === undefined) delete process.env.GAMELAYER_REGISTRY_RETRIES;
    else process.env.GAMELAYER_REGISTRY_RETRIES = retries;
  }
  // What the pass printed is not shown; why it left no stamp is, with GAMELAYER_DEBUG_FAST_NOOP.
  pending.pass = false;
  say(`${outcome} in ${Math.round(performance.now() - started)} ms`);
  return failed;
}
