// prune reads a repository's tags several at a time (it read them one after another: minutes on an ECR repository of
// thousands of tags). Its decisions must not depend on the order answers arrive in: on a repository of ~1000 tags
// (150 builds, shared tree images, line tags, signatures, referrers indexes and SBOMs), reading one at a time and
// reading in parallel give the same result, the one the rules say, and --apply deletes exactly that.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneRepository } from '../src/registry/prune.js';
import { RegistryClient } from '../src/registry/client.js';
import { runCli } from './support/cli-process.js';
import { writeLineTag, writeManyBuilds, type ManyBuilds } from './support/many-builds.js';
import { startRegistry, storedTags, type TestRegistry } from './support/registry.js';

let reg: TestRegistry;
let made: ManyBuilds;
const REPO = 'studio/many';
beforeAll(async () => {
  reg = await startRegistry();
  made = await writeManyBuilds(reg.url, REPO, 150);
  await writeLineTag(reg.url, REPO, 'main', 'b00149');
  await writeLineTag(reg.url, REPO, 'hotfix', 'b00040');
}, 120_000);
afterAll(async () => {
  await reg?.stop();
});

describe('prune on a repository of many tags', () => {
  it('decides the same reading one at a time and in parallel, and --apply deletes just that', async () => {
    const before = await storedTags(reg.storageDir, REPO);
    expect(Object.keys(before).length).toBe(made.tags + 2);
    const client = new RegistryClient({ host: reg.host, insecure: true });
    const opts = { client, repo: REPO, keep: 20, tags: ['b00070-app'] };
    const serial = await pruneRepository({ ...opts, concurrency: 1 });
    const parallel = await pruneRepository({ ...opts, concurrency: 16 });
    expect(parallel).toEqual(serial);

    // The rules, independently of the code: the newest 20 (ties in creation time go by tag), the hotfix line's head
    // and the build --tag names; the main line's head is among the newest.
    const expectKept = [...made.builds.slice(130).reverse(), 'b00070', 'b00040'];
    expect(serial.kept.map((b) => b.tag)).toEqual(expectKept);
    expect(serial.removed.map((b) => b.tag)).toEqual(made.builds.filter((b) => !expectKept.includes(b)).reverse());
    // Tree images a kept build still uses are left (the registry cannot untag); signatures of deleted images go.
    expect(serial.left).toContain('b00129-app');
    expect(serial.left).not.toContain('b00128-app');
    expect(serial.attached.filter((a) => a.what === 'signature').length).toBeGreaterThan(20);
    expect(serial.attached.filter((a) => a.what === 'sbom').length).toBeGreaterThan(10);
    expect(serial.unclaimed).toEqual([]);

    const dry = await runCli(['prune', `${reg.host}/${REPO}`, '--keep', '20', '--tag', 'b00070-app', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual(JSON.parse(JSON.stringify(serial)));
    expect(Object.keys(await storedTags(reg.storageDir, REPO)).length).toBe(made.tags + 2);

    const applied = await runCli(['prune', `${reg.host}/${REPO}`, '--keep', '20', '--tag', 'b00070-app', '--apply']);
    expect(applied.code, applied.stderr).toBe(0);
    const gone = new Set([...serial.deleted, ...serial.attached].flatMap((e) => e.tags));
    const after = Object.keys(await storedTags(reg.storageDir, REPO)).sort();
    // Beside the kept builds' tags, the tree tags it leaves and its notes of them (prune-left-notes.ts).
    expect(serial.notes.written.length).toBeGreaterThan(0);
    expect(after).toEqual([...Object.keys(before).filter((t) => !gone.has(t)), ...serial.notes.written].sort());
    for (const b of serial.kept) for (const t of b.tags) expect(after).toContain(t);
  });
});
