// The proof that files pass sharing a worker (shared-isolation.json): the test files in a seeded random order, e.g.
//   npx vitest run -c test/support/shuffled-files.config.ts --project shared --sequence.seed 7
// Not `--sequence.shuffle`: beside vitest.config.ts's own sequencer it keeps the files in their order and shuffles
// the tests inside each file instead, which some files' tests may not take (a later one reads what an earlier wrote).
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import config from '../../vitest.config.js';
import { shuffled } from './prng.js';

class ShuffledFiles extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { seed } = this.ctx.config.sequence;
    if (seed === undefined) throw new Error('shuffled-files.config.ts: give the order a seed (--sequence.seed N)');
    return shuffled(files, seed);
  }
}

export default { ...config, test: { ...config.test, sequence: { ...config.test?.sequence, sequencer: ShuffledFiles } } };
