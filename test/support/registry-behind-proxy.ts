// A real registry behind the benches' counting proxy, started once for a test file (or a describe block): tests
// that count what the registry receives push through `proxy.host` and read the registry directly.
import { afterAll, beforeAll } from 'vitest';
import { startCountingProxy, type CountingProxy } from '../../bench/registry-proxy.js';
import { startRegistry, type TestRegistry } from './registry.js';
import { started } from './started.js';

export interface RegistryBehindProxy {
  readonly registry: TestRegistry;
  readonly proxy: CountingProxy;
}

/** Registers the start and stop hooks in the calling scope; the fields are there from its beforeAll on. */
export function useRegistryBehindProxy(): RegistryBehindProxy {
  let registry: TestRegistry | undefined;
  let proxy: CountingProxy | undefined;
  beforeAll(async () => {
    registry = await startRegistry();
    const [host, port] = registry.host.split(':');
    proxy = await startCountingProxy({ host: host!, port: Number(port) });
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });
  return {
    get registry() {
      return started(registry, 'useRegistryBehindProxy');
    },
    get proxy() {
      return started(proxy, 'useRegistryBehindProxy');
    },
  };
}
