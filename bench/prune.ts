// gamelayer prune on a repository of ~2000 tags (300 builds, made cheaply: small indexes PUT through the API, see
// test/support/many-builds.ts), behind bench/registry-proxy.ts holding each answer back `--delay` ms (a remote
// registry: one round trip per request). The dry run (all prune's reads, no deletes) is timed reading one request at
// a time (`concurrency: 1`, what prune did before) and with the default limit, interleaved, in the same run; both
// must decide the same. With --apply, `prune --apply` is timed instead, each run on a fresh copy of the repository:
// deletes one at a time (`deleteConcurrency: 1`, what prune did before stop 41) against the default (4 at once).
// Usage: npx tsx bench/prune.ts [--builds 300] [--delay 20] [--rounds 3] [--apply]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pruneRepository } from '../src/registry/prune.js';
import { RegistryClient } from '../src/registry/client.js';
import { writeManyBuilds, writeLineTag } from '../test/support/many-builds.js';
import { startRegistry } from '../test/support/registry.js';
import { startCountingProxy } from './registry-proxy.js';

const { values } = parseArgs({ options: { builds: { type: 'string', default: '300' }, delay: { type: 'string', default: '20' }, rounds: { type: 'string', default: '3' }, apply: { type: 'boolean', default: false } } });
const reg = await startRegistry();
try {
  if (values.apply) await benchApply();
  else await benchDryRun();
} finally {
  await reg.stop();
}

/** The dry run read one request at a time against the default limit, interleaved; both must decide the same. */
async function benchDryRun(): Promise<void> {
  const made = await writeManyBuilds(reg.url, 'studio/game', Number(values.builds));
  await writeLineTag(reg.url, 'studio/game', 'main', made.builds.at(-1)!);
  const [host, port] = reg.host.split(':');
  console.log(`${made.tags + 1} tags, ${made.builds.length} builds; answers held back ${values.delay} ms; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const times: Record<string, number[]> = { '1 at a time (before)': [], 'default limit (8)': [] };
  let first: string | undefined;
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const [name, concurrency] of [['1 at a time (before)', 1], ['default limit (8)', undefined]] as const) {
      const proxy = await startCountingProxy({ host: host!, port: Number(port) }, { delayMs: Number(values.delay) });
      const client = new RegistryClient({ host: proxy.host, insecure: true });
      const t0 = performance.now();
      const result = await pruneRepository({ client, repo: 'studio/game', keep: 20, concurrency });
      const ms = performance.now() - t0;
      const requests = proxy.counts().requests;
      await proxy.close();
      const decided = JSON.stringify({ ...result, repository: '' });
      if (first === undefined) first = decided;
      else if (decided !== first) throw new Error(`${name}: a different result`);
      times[name]!.push(ms);
      console.log(`round ${r + 1} ${name}: ${(ms / 1000).toFixed(2)} s, ${requests} requests, removed ${result.removed.length} builds`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [name, xs] of Object.entries(times)) console.log(`${name}: median ${(median(xs) / 1000).toFixed(2)} s (${xs.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
}

/** prune --apply with deletes one at a time against the default, each run on a repository of its own, interleaved. */
async function benchApply(): Promise<void> {
  const [host, port] = reg.host.split(':');
  const variants = [['deletes 1 at a time (before)', 1], ['deletes 4 at once (default)', undefined]] as const;
  const times: Record<string, number[]> = Object.fromEntries(variants.map(([n]) => [n, []]));
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const [name, deleteConcurrency] of variants) {
      const repo = `studio/apply-${r}-${deleteConcurrency ?? 'default'}`;
      const made = await writeManyBuilds(reg.url, repo, Number(values.builds));
      await writeLineTag(reg.url, repo, 'main', made.builds.at(-1)!);
      const proxy = await startCountingProxy({ host: host!, port: Number(port) }, { delayMs: Number(values.delay) });
      const client = new RegistryClient({ host: proxy.host, insecure: true });
      const load = os.loadavg()[0]!.toFixed(2);
      const t0 = performance.now();
      const result = await pruneRepository({ client, repo, keep: 20, apply: true, deleteConcurrency });
      const ms = performance.now() - t0;
      const requests = proxy.counts().requests;
      await proxy.close();
      times[name]!.push(ms);
      console.log(`round ${r + 1} ${name}: ${(ms / 1000).toFixed(2)} s, ${requests} requests, ${result.deleted.length + result.attached.length} manifests deleted, load ${load}`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [name, xs] of Object.entries(times)) console.log(`${name}: median ${(median(xs) / 1000).toFixed(2)} s (${xs.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
}
