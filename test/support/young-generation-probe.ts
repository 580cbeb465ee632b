// Run as a child process (`node --import tsx test/support/young-generation-probe.ts`): runs the CLI's `main` once
// (`--version`), then makes 1.5M small objects that all survive (as a scan's entries do), in batches with a turn of
// the event loop between (as the scan has), and prints as JSON the young generation's committed size at the end.
import { main } from '../../src/cli/main.js';
import { youngGenerationSize } from '../../src/util/young-generation.js';

const write = process.stdout.write.bind(process.stdout);
process.stdout.write = () => true; // the version line
await main(['--version']);
process.stdout.write = write;
const kept: { path: string; size: number }[] = [];
for (let batch = 0; batch < 150; batch++) {
  for (let i = 0; i < 10_000; i++) kept.push({ path: `d${batch}/f${i}`, size: i });
  await new Promise((resolve) => setImmediate(resolve));
}
process.stdout.write(JSON.stringify({ youngGeneration: youngGenerationSize(), kept: kept.length }));
