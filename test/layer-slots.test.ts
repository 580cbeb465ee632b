// The layers step's scheduler: a layer gives up its tar slot once its input is with the compressor, so the next
// layer's tar starts while it finishes (hash, fsync, rename); finishing layers are bounded too; order is kept.
import { describe, expect, it } from 'vitest';
import { layerSlots } from '../src/pipeline/layer-slots.js';

/** A job that records its start, then waits for the test to say when its input is done and when it ends. */
function gatedJob(log: string[], name: string) {
  let inputDone: (() => void) | undefined;
  let finish: ((e?: Error) => void) | undefined;
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  return {
    job: (done: () => void) => {
      log.push(`start ${name}`);
      inputDone = done;
      const end = new Promise<string>((ok, fail) => (finish = (e) => (e ? fail(e) : ok(name))));
      markStarted();
      return end;
    },
    started,
    inputDone: () => inputDone!(),
    finish: (e?: Error) => finish!(e),
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('layer slots', () => {
  it('start the next layer once one\'s input is done, while it still finishes; finishing layers are bounded', async () => {
    const log: string[] = [];
    const slots = layerSlots(2, 1);
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((n) => gatedJob(log, n));
    const runs = jobs.map((j) => slots.run((done) => j.job(done)));
    await tick();
    expect(log).toEqual(['start a', 'start b']);
    jobs[0]!.inputDone(); // a finishes in the background: c takes its tar slot
    await jobs[2]!.started;
    expect(log).toEqual(['start a', 'start b', 'start c']);
    jobs[1]!.inputDone(); // a, b finishing and c making its tar: three running, the most for 2 + 1
    await tick();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    jobs[0]!.finish();
    await jobs[3]!.started;
    expect(log).toEqual(['start a', 'start b', 'start c', 'start d']);
    jobs[2]!.inputDone();
    jobs[3]!.inputDone();
    await tick();
    expect(log).toHaveLength(4); // b, c, d running: none of d's tar slots is taken, but three are running
    jobs[1]!.finish();
    await jobs[4]!.started;
    for (const j of jobs.slice(2)) j.finish();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a layer that fails or ends without saying its input is done gives its slots back', async () => {
    const log: string[] = [];
    const slots = layerSlots(1, 0);
    const jobs = ['a', 'b', 'c'].map((n) => gatedJob(log, n));
    const runs = jobs.map((j) => slots.run((done) => j.job(done)));
    await jobs[0]!.started;
    jobs[0]!.finish(new Error('tar failed'));
    await expect(runs[0]).rejects.toThrow('tar failed');
    await jobs[1]!.started;
    jobs[1]!.inputDone();
    jobs[1]!.inputDone(); // a second call gives nothing more back
    await tick();
    expect(log).toEqual(['start a', 'start b']); // no finishing room: c waits for b to end
    jobs[1]!.finish();
    await jobs[2]!.started;
    jobs[2]!.finish();
    await expect(Promise.all(runs.slice(1))).resolves.toEqual(['b', 'c']);
  });
});
