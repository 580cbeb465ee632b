// prune --apply deletes several manifests at once (stop 41; one at a time before, 58 s for 1,605 deletes). What a
// kill must never leave: a tag naming a missing manifest, or a manifest listing one that is gone. The CLI is killed
// while one DELETE is held at the registry's door, the others of its wave going on around it: in the first wave of
// the images (server indexes, which list tree images), in the second (the tree images), and among the attachments
// and records. The registry's storage is then checked, and a second prune finishes the job.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killWhen, runCli, startCli } from './support/cli-process.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { writeLineTag, writeManyBuilds } from './support/many-builds.js';
import { startRegistry, storageProblems, storedManifests, storedTags, type TestRegistry } from './support/registry.js';

const BUILDS = 40;
const KEEP = 5;
let reg: TestRegistry;
const proxies: FaultProxy[] = [];
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  for (const p of proxies) await p.stop();
  await reg?.stop();
});

/** Tags naming a manifest the repository no longer holds. */
async function danglingTags(repo: string): Promise<string[]> {
  const manifests = new Set(await storedManifests(reg.storageDir, repo));
  return Object.entries(await storedTags(reg.storageDir, repo)).filter(([, d]) => !manifests.has(d)).map(([t]) => t);
}

describe('prune --apply killed while its deletes run side by side', () => {
  for (const after of [12, 45, 100]) {
    it(`killed at DELETE ${after + 1}: no tag names a missing manifest, no manifest lists one; a rerun finishes`, async () => {
      const repo = `studio/kill-${after}`;
      const made = await writeManyBuilds(reg.url, repo, BUILDS);
      await writeLineTag(reg.url, repo, 'main', made.builds.at(-1)!);
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const proxy = await startFaultProxy(reg.host, [{ method: 'DELETE', path: /\/manifests\//, after, action: { kind: 'hold', until: released } }]);
      proxies.push(proxy);
      const run = startCli(['prune', `${proxy.host}/${repo}`, '--keep', String(KEEP), '--apply']);
      // Killed once the DELETE is held and another after it has reached the registry's door (a wait of 300 ms instead
      // was a guess: on a loaded machine the others may not have come by then).
      const deletesSeen = () => proxy.seen.filter((q) => q.method === 'DELETE').length;
      const outcome = await killWhen(run, () => proxy.fired[0] === 1 && deletesSeen() > after + 1);
      release();
      expect(outcome.killed, outcome.killed ? '' : outcome.result.stderr).toBe(true);
      const deletes = deletesSeen();
      // The held one, those before it, and some after it: the deletes went on around it (one at a time, none would).
      expect(deletes).toBeGreaterThan(after + 1);

      // The held request, released, finds its client gone and is dropped, or (its socket's close not yet seen) goes on
      // to the registry: once the release has run (the next turn), idle() waits for such a request's answer.
      await new Promise((r) => setImmediate(r));
      await proxy.idle();
      expect(await storageProblems(reg.storageDir)).toEqual([]);
      expect(await danglingTags(repo)).toEqual([]);

      proxy.setRules([]);
      const again = await runCli(['prune', `${proxy.host}/${repo}`, '--keep', String(KEEP), '--apply']);
      expect(again.code, again.stderr).toBe(0);
      expect(await storageProblems(reg.storageDir)).toEqual([]);
      expect(await danglingTags(repo)).toEqual([]);
      // Nothing left to remove; the newest KEEP builds are whole.
      const dry = await runCli(['prune', `${proxy.host}/${repo}`, '--keep', String(KEEP), '--json']);
      expect(dry.code, dry.stderr).toBe(0);
      const plan = JSON.parse(dry.stdout) as { kept: { tag: string; tags: string[] }[]; removed: unknown[]; deleted: unknown[]; attached: unknown[] };
      expect(plan.removed).toEqual([]);
      expect(plan.deleted).toEqual([]);
      expect(plan.attached).toEqual([]);
      expect(plan.kept.map((b) => b.tag).sort()).toEqual(made.builds.slice(-KEEP).sort());
      for (const b of plan.kept) expect(b.tags).toHaveLength(6); // record, image, four tree images
    });
  }
});
