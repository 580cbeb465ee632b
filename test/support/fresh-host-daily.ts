// A daily build on a fresh host: day 0 built and pushed from one copy of the sample game, day 1 (one changed file)
// from another copy with no .gamelayer/, so it plans on day 0's record in the registry and keeps its layers there.
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { runCli, type CliResult } from './cli-process.js';
import { copySample } from './sample.js';

/** Builds day 0 and day 1 under `dir` with `pushArgs` (`--push REPO`…); returns day 1's run (exit 0 checked for both). */
export async function dailyOnFreshHost(dir: string, pushArgs: string[]): Promise<CliResult> {
  const day0 = path.join(dir, 'day0');
  copySample(day0);
  const cold = await runCli(['build', '--tag', 'd0', ...pushArgs], { cwd: day0 });
  expect(cold.code, cold.stderr).toBe(0);
  const day1 = path.join(dir, 'day1');
  copySample(day1);
  await appendFile(path.join(day1, 'app/config/server.cfg'), '\nmax_players=64\n');
  const daily = await runCli(['build', '--tag', 'd1', ...pushArgs], { cwd: day1 });
  expect(daily.code, daily.stderr).toBe(0);
  return daily;
}
