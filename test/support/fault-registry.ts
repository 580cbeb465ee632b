// A real registry behind the fault proxy, with a small layout tagged `v1` to push through it, started once for a
// test file: the proxy's rules are cleared after each test and the registry's storage must be whole then (a fault
// never leaves a manifest whose blobs are missing). Tests set rules on `proxy` and push to `proxy.host`.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { addTag, type ImageSpec, type WrittenTag } from './make-layout.js';
import { startRegistry, storageProblems, type TestRegistry } from './registry.js';

export interface FaultRegistry {
  /** A temp folder of the file's own, removed at the end. */
  work: string;
  /** The OCI layout `<work>/layout` holding `v1`. */
  layout: string;
  image: WrittenTag;
  registry: TestRegistry;
  proxy: FaultProxy;
}

/** Registers the hooks in the calling scope; the returned fields are filled by its beforeAll (which runs first). */
export function useFaultRegistry(prefix: string, v1: ImageSpec[]): FaultRegistry {
  const fx = {} as FaultRegistry;
  beforeAll(async () => {
    fx.work = await mkdtemp(path.join(os.tmpdir(), prefix));
    fx.layout = path.join(fx.work, 'layout');
    fx.image = await addTag(fx.layout, 'v1', v1);
    fx.registry = await startRegistry();
    fx.proxy = await startFaultProxy(fx.registry.host);
  });
  afterAll(async () => {
    await fx.proxy?.stop();
    await fx.registry?.stop();
    if (fx.work) await rm(fx.work, { recursive: true, force: true });
  });
  afterEach(async () => {
    fx.proxy.setRules([]);
    expect(await storageProblems(fx.registry.storageDir)).toEqual([]);
  });
  return fx;
}
