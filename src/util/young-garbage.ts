// A scavenge (V8's young-generation GC) on demand, for code that turns over many big buffers.
//
// A Buffer's bytes live outside V8's heap; V8 frees them only when a GC finds the small Buffer object dead, and it
// starts one for such memory only after about 64 MiB more of it was allocated since the last. Code that makes and
// drops a 1 MiB buffer per MiB it moves (the tar writer's output chunks, zlib's output in each gzip worker) so
// holds up to 64 MiB of dead bytes per thread. A scavenge finds them dead while they are still young and costs
// well under a millisecond here; called every few MiB it bounds that garbage to those few MiB.
import { createRequire } from 'node:module';
import vm from 'node:vm';

type Gc = (options: { type: 'minor' | 'major' }) => void;
let gc: Gc | null | undefined;

export function collectYoungGarbage(): void {
  exposedGc()?.({ type: 'minor' });
}

/**
 * A full GC, for the end of a stage that leaves much garbage behind: a scan of 1M files drops its stat cache's
 * typed blocks (about 40 MiB outside the heap, freed only by a full GC) and its walk's records, and V8 would let the
 * next stage allocate on top of them first. Costs a fraction of a second on a heap of 1M entries.
 */
export function collectOldGarbage(): void {
  // Without options: a full collection that also frees dead ArrayBuffers' memory (swept just after). Called with
  // `{ type: 'major' }`, the gc function of a context made here left them all in place (Node 20).
  (exposedGc() as (() => void) | null)?.();
}

function exposedGc(): Gc | null {
  if (gc === undefined) {
    try {
      // The gc function is given only to contexts made after the flag is set: one is made for it alone. node:v8 is
      // required here, on first use: a run that never collects on demand (a no-op build) does not load it (0.4 ms);
      // a built-in resolves the same from any folder.
      (createRequire('/')('node:v8') as typeof import('node:v8')).setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as Gc;
    } catch {
      gc = null; // not available in this runtime: the garbage waits for V8's own GC, as before
    }
  }
  return gc;
}
