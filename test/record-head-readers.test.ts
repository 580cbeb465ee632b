// Whose a local record is, read from its head (record-head.ts) by the last two readers that read summaries for it:
// the last build of a store with no pointer of its own yet (lastBuildToRead: an older version's build-last.json
// naming a store in its head is that store's), and a deploy looking for the pushes of other builds (pushedByOthers:
// the deployed build's own tagged record is that build). Each read the whole record (a 1M-entry game's is 170 MB).
// Observed with records damaged past their head, which must not fail the command, and by the files opened for a
// whole read (the head is read through its own small open, record-head.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeployInput } from '../src/k8s/input.js';
import { pushedByOthers } from '../src/k8s/pushed-by-others.js';
import { lastBuildFile, lastBuildToRead } from '../src/state/records.js';
import type { BuildRecord } from '../src/types.js';
import { damagedAfterHead, headRecord as record } from './support/head-records.js';
import { tempDir } from './support/tmp.js';

/** The files opened through node:fs/promises (whole reads: readBuildSummary, readRecord). */
const opened = vi.hoisted(() => [] as string[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return { ...real, open: (...a: Parameters<typeof real.open>) => (opened.push(path.basename(String(a[0]))), real.open(...a)) };
});
beforeEach(() => void opened.splice(0));

async function records(): Promise<{ stateDir: string; dir: string }> {
  const stateDir = await tempDir('gl-head-readers-');
  const dir = path.join(stateDir, 'records');
  await mkdir(dir);
  return { stateDir, dir };
}

describe('whose a record is, from its head', () => {
  it("the last build of a store without a pointer: another store's build-last.json is not read past its head", async () => {
    const { stateDir, dir } = await records();
    await writeFile(path.join(dir, 'build-last.json'), damagedAfterHead(record('w1', 'oci')));
    const config = { stateDir, store: path.join(stateDir, '../b-store') };
    opened.splice(0);
    expect(await lastBuildToRead(config)).toBe(lastBuildFile(config));
    expect(opened).toEqual([]);
  });

  it("a deploy's search for other builds' pushes does not read the deployed build's own record", async () => {
    const { stateDir, dir } = await records();
    const wanted = `sha256:${'b'.repeat(64)}`;
    const deployed = record('w1', 'oci');
    await writeFile(path.join(dir, 'build-last.json'), JSON.stringify(deployed));
    await writeFile(path.join(dir, 'build-w1.json'), damagedAfterHead(deployed));
    const pushed = [{ repository: 'r.example/g', images: [{ name: 'server', digest: wanted }], at: '2026-12-05T01:00:00.000Z' }];
    await writeFile(path.join(dir, 'build-w0.json'), JSON.stringify({ ...record('w0', 'oci'), pushed }));
    const input = { repository: 'r.example/g', serverDigestRef: `r.example/g@${wanted}`, trees: [] } as unknown as DeployInput;
    opened.splice(0);
    const found = await pushedByOthers(stateDir, deployed as unknown as BuildRecord, input, path.join(dir, 'build-last.json'));
    expect([...found]).toEqual([[wanted, 'w0']]);
    // Nor the other build's whole: its pushes are read from the end of its file (record-pushed.ts).
    expect(opened).toEqual([]);
  });
});
