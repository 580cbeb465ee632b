// A real registry behind a fault proxy, started once for a test file (or a describe block): tests push through
// `proxy.host` to hold, fail or count what the registry receives, and read the registry directly.
import { afterAll, beforeAll } from 'vitest';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { startRegistry, type TestRegistry } from './registry.js';
import { started } from './started.js';

export interface RegistryBehindFaultProxy {
  readonly registry: TestRegistry;
  readonly proxy: FaultProxy;
}

/** Registers the start and stop hooks in the calling scope; the fields are there from its beforeAll on. */
export function useRegistryBehindFaultProxy(): RegistryBehindFaultProxy {
  let registry: TestRegistry | undefined;
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.host);
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });
  return {
    get registry() {
      return started(registry, 'useRegistryBehindFaultProxy');
    },
    get proxy() {
      return started(proxy, 'useRegistryBehindFaultProxy');
    },
  };
}
