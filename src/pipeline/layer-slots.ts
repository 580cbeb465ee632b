// How many layers the layers step builds at once. A layer holds a tar slot while its tar is made (the main thread
// reads and packs its files) and gives it up as soon as its last byte is with the compressor: the next layer's tar
// then starts while this one finishes (the compressor's last blocks, the blob's hash, fsync and rename), so the end
// of a layer no longer leaves its slot idle. The finishing layers are bounded too (each holds a compressor and its
// buffers). Jobs start in the order given.

export interface LayerSlots {
  /**
   * Runs `job` once a tar slot is free and fewer than `tarSlots + finishing` jobs run; `job` calls `inputDone` when
   * its tar is complete (more calls do nothing). A job that ends without calling it gives its slot up then.
   */
  run<T>(job: (inputDone: () => void) => Promise<T>): Promise<T>;
}

export function layerSlots(tarSlots: number, finishing: number): LayerSlots {
  if (!(tarSlots >= 1) || !(finishing >= 0)) throw new Error(`layer slots: ${tarSlots} tar slots, ${finishing} finishing`);
  let making = 0;
  let running = 0;
  const waiting: (() => void)[] = [];
  const pump = () => {
    while (waiting.length > 0 && making < tarSlots && running < tarSlots + finishing) {
      making++;
      running++;
      waiting.shift()!();
    }
  };
  return {
    async run(job) {
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        pump();
      });
      let holding = true;
      const inputDone = () => {
        if (!holding) return;
        holding = false;
        making--;
        pump();
      };
      try {
        return await job(inputDone);
      } finally {
        inputDone();
        running--;
        pump();
      }
    },
  };
}
