// A step of a command that takes seconds on a big game and has no progress of its own (reading a 170 MB record,
// walking 1M entries whose stat cache says nothing changed, diffing the plan's layers): shown on a terminal as a
// bar named for it until it ends, so the command is not silent for tens of seconds. Nothing in logs or under --json.
import type { Reporter } from './reporter.js';

/** Whether a command shows its steps: on a terminal, not under --json (the reporter then shows bars). */
export function showsSteps(json: boolean, stderr: { isTTY?: boolean } = process.stderr): boolean {
  return !json && stderr.isTTY === true && !process.env.CI && !process.env.CODEBUILD_BUILD_ID;
}

/** Runs `run` as the step `label`: a bar of `reporter` while it runs, when `shown`. */
export async function step<T>(reporter: Reporter, shown: boolean, label: string, run: () => Promise<T>): Promise<T> {
  if (!shown) return run();
  const task = reporter.task(label, 1, 'items');
  try {
    return await run();
  } finally {
    task.done('done');
  }
}
