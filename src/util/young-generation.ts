// Caps V8's young generation of this process at 4 MiB semi-spaces (8 MiB), from inside the process.
//
// V8 grows the young generation up to 16 MiB semi-spaces (32 MiB, both touched) while many objects survive, as
// they do in a scan of 1M entries; it then stays that size to the end. On the cold build of 1M entries that is
// 24 MiB of the peak RSS for no gain: the objects that survive are the entries, promoted anyway, and the layer
// writer's garbage dies young at 4 MiB as at 16 (measured: same CPU; docs/architecture.md, memory round 5). The
// size limit (`--max-semi-space-size`) is read only when the heap is made, so a flag on node's command line or a
// re-exec would be needed; the growth factor is read at each growth: set so that the next growth lands on the cap
// (1 → 4 MiB at once), then to 1 (no growth) by the first GC report that sees the cap. A report comes on the event
// loop, after the GC: if two growths fell between two turns of the loop, the cap would come too late and the young
// generation would keep V8's size, as without the cap.
import v8 from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';

/** Semi-space size the cap holds the young generation at (it has two). */
export const CAPPED_SEMI_SPACE = 4 << 20;

let installed = false;

/** The young generation's committed size (both semi-spaces). */
export function youngGenerationSize(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * Holds this process's young generation at `CAPPED_SEMI_SPACE` semi-spaces from now on (see the top of this file).
 * The observer stays: when V8 shrinks the young generation (little allocation for a while), it may grow back to
 * the cap, not past it.
 */
export function capYoungGeneration(): void {
  if (installed) return;
  installed = true;
  try {
    const steer = () => {
      const semi = youngGenerationSize() / 2;
      const factor = semi >= CAPPED_SEMI_SPACE ? 1 : Math.max(2, Math.floor(CAPPED_SEMI_SPACE / Math.max(semi, 1)));
      if (factor === current) return;
      current = factor;
      v8.setFlagsFromString(`--semi-space-growth-factor=${factor}`);
    };
    let current = 0;
    steer();
    new PerformanceObserver(steer).observe({ entryTypes: ['gc'] });
  } catch {
    // A runtime without these: V8's own sizes, as before.
  }
}
