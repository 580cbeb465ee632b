// kill -9 of the real CLI at an exact request to the registry, in a fault proxy in front of it (the CLI's registry
// is proxy.host): on the n-th request of a method and path, as it arrives (never passed on: the registry does not
// see it) or once the registry answered it (before the CLI reads the answer). Nothing polls, so the kill lands there
// however fast the disk or loaded the machine; a run that never sends that request ends unkilled (`killed` false).
import { startCli, type CliOptions, type CliResult, type RunningCli } from './cli-process.js';
import type { FaultProxy } from './fault-proxy.js';

export interface RequestPoint {
  method: string;
  /** Matched against the request's path without its query. */
  path: RegExp;
  /** Which matching request: 1 (the first) unless given. */
  nth?: number;
  /** `arrived`: killed as the request arrives, which then never reaches the registry; `answered`: once it did. */
  at: 'arrived' | 'answered';
}

export async function runCliKilledAtRequest(proxy: FaultProxy, point: RequestPoint, args: string[], opts: CliOptions = {}): Promise<{ killed: boolean; result: CliResult }> {
  let run: RunningCli | undefined;
  const kill = async () => void run?.child.kill('SIGKILL');
  const { method, path } = point;
  const after = (point.nth ?? 1) - 1;
  // Held for good once arrived, and so is every later match (one sent side by side): released after the kill, a
  // request could still go on (the proxy may not have seen the killed client's connection close yet) and reach the
  // registry during the caller's checks.
  const forever = new Promise<never>(() => {});
  proxy.setRules([
    point.at === 'arrived'
      ? { method, path, after, count: Number.MAX_SAFE_INTEGER, action: { kind: 'hold', until: forever, onHeld: () => void kill() } }
      : { method, path, after, action: { kind: 'around', before: async () => {}, after: kill } },
  ]);
  try {
    run = startCli(args, opts);
    const result = await run.result;
    return { killed: result.signal === 'SIGKILL', result };
  } finally {
    proxy.setRules([]);
    // A request the killed run had in flight may still complete at the registry: it lands before the caller looks.
    await proxy.idle();
  }
}
