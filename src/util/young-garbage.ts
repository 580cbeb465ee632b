// A scavenge (V8's young-generation GC) on demand, for code that turns over many big buffers.
//
// A Buffer's bytes live outside V8's heap; V8 frees them only when a GC finds the small Buffer object dead, and it
// starts one for such memory only after about 64 MiB more of it was allocated since the last. Code that makes and
// drops a 1 MiB buffer per MiB it moves (the tar writer's output chunks, zlib's output in each gzip worker) so
// holds up to 64 MiB of dead bytes per thread. A scavenge finds them dead while they are still young and costs
// well under a millisecond here; called every few MiB it bounds that garbage to those few MiB.
import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (options: { type: 'minor' | 'major' }) => void;
let gc: Gc | null | undefined;

export function collectYoungGarbage(): void {
  if (gc === undefined) {
    try {
      // The gc function is given only to contexts made after the flag is set: one is made for it alone.
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as Gc;
    } catch {
      gc = null; // not available in this runtime: the garbage waits for V8's own GC, as before
    }
  }
  gc?.({ type: 'minor' });
}
