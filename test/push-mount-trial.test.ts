// The run's mount trial (mount-trial.ts) against the fake ECR behind a fault proxy: the other uploads wait for the
// first mount's answer, not for its whole blob; and a mount failing with an error is no refusal.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EcrOptions } from '../src/registry/ecr.js';
import { pushImage } from '../src/registry/push.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { FAKE_CREDENTIALS, startFakeEcr, type FakeEcr } from './support/fake-ecr.js';
import { addTag, randomContent, type LayerSpec } from './support/make-layout.js';

let work: string;
let ecr: FakeEcr;
let proxy: FaultProxy;
let layout: string;
let ecrOpts: EcrOptions;
const base: LayerSpec[] = Array.from({ length: 3 }, (_, i) => ({ files: { [`base/${i}.bin`]: randomContent(200_000) } }));

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'gl-mount-trial-'));
  layout = path.join(work, 'oci');
  ecr = await startFakeEcr();
  proxy = await startFaultProxy(ecr.host);
  ecrOpts = { force: true, region: 'eu-west-3', endpoint: ecr.endpoint, credentials: FAKE_CREDENTIALS };
  for (const r of ['studio/base', 'studio/refused', 'studio/denied']) ecr.repositories.set(r, { mutability: 'MUTABLE', scanOnPush: false, createdAt: Date.now() });
  await addTag(layout, 'base', [{ layers: base }]);
  await pushImage({ layout, to: `${ecr.host}/studio/base:base`, ecr: ecrOpts });
  // Every layer of `derived` is in studio/base (ECR says so): each upload is a sure mount.
  await addTag(layout, 'derived', [{ layers: base, label: 'derived' }]);
});
afterAll(async () => {
  await proxy?.stop();
  await ecr?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('the mount trial of a push', () => {
  it('lets the other uploads start once the registry refused the mount, while the refused blob is still going up', async () => {
    ecr.blobMounting = false;
    let plainPost!: () => void;
    const plainPostSeen = new Promise<void>((resolve) => (plainPost = resolve));
    // Only a deadlock breaker for the old behaviour (nothing else moves while the first blob is held): not a bound.
    const breaker = setTimeout(plainPost, 20_000);
    proxy.setRules([
      // The proxy matches paths without their query: the first upload POST is the mount (the others wait for it).
      { method: 'POST', path: /\/blobs\/uploads\/$/, after: 1, action: { kind: 'around', before: async () => plainPost() } },
      // The refused blob's upload is held until another upload began.
      { method: 'PATCH', path: /\/blobs\/uploads\//, action: { kind: 'hold', until: plainPostSeen } },
    ]);
    const seen = proxy.seen.length;
    try {
      const r = await pushImage({ layout, to: `${proxy.host}/studio/refused:derived`, mountFrom: ['studio/base'], ecr: ecrOpts, concurrency: 3 });
      expect(r.blobs).toMatchObject({ mounted: 0, uploaded: 4 });
    } finally {
      clearTimeout(breaker);
    }
    const log = proxy.seen.slice(seen).map((s) => `${s.method} ${s.path}`);
    expect(log.filter((l) => l.startsWith('POST') && l.includes('mount='))).toHaveLength(1);
    const firstPlainPost = log.findIndex((l) => /^POST \S+\/blobs\/uploads\/$/.test(l));
    const firstBlobPut = log.findIndex((l) => l.startsWith('PUT') && l.includes('/blobs/uploads/'));
    expect(firstPlainPost).toBeGreaterThan(0);
    // Before: the other uploads waited for the refused blob's whole upload (its PUT) to learn the registry's answer.
    expect(firstPlainPost).toBeLessThan(firstBlobPut);
  }, 60_000);

  it('asks the next mount again when a mount failed with an error (403 on the source): only an upload session is a refusal', async () => {
    ecr.blobMounting = true;
    const denied = JSON.stringify({ errors: [{ code: 'DENIED', message: 'not authorized to read studio/base' }] });
    // The first upload POST is the first mount (the others wait for its answer).
    proxy.setRules([{ method: 'POST', path: /\/blobs\/uploads\/$/, action: { kind: 'status', status: 403, body: denied } }]);
    const seen = proxy.seen.length;
    const r = await pushImage({ layout, to: `${proxy.host}/studio/denied:derived`, mountFrom: ['studio/base'], ecr: ecrOpts, concurrency: 1 });
    expect(proxy.fired).toEqual([1]);
    expect(proxy.seen.slice(seen).filter((s) => s.method === 'POST' && s.path.includes('mount='))).toHaveLength(3);
    // Before: the 403 was taken for a refusal and the two other layers were uploaded, never asked.
    expect(r.blobs).toMatchObject({ mounted: 2 });
  }, 60_000);
});
